package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/status"
)

// The issue-4 end-to-end tests drive the real bin/hactl against the test
// cluster's three SSH hosts and its MariaDB. These helpers build the binary,
// write the cluster file and run hactl.

var sshBuild struct {
	once sync.Once
	bin  string
	err  error
}

// hactlBinary builds cmd/hactl once per test process into a temporary
// directory (a TestMain of its own would clash with the package's other
// tests).
func hactlBinary(t *testing.T) string {
	t.Helper()
	sshBuild.once.Do(func() {
		_, here, _, _ := runtime.Caller(0)
		root := filepath.Clean(filepath.Join(filepath.Dir(here), "..", ".."))
		dir, err := os.MkdirTemp("", "hactl-e2e-bin-")
		if err != nil {
			sshBuild.err = err
			return
		}
		bin := filepath.Join(dir, "hactl")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/hactl")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			sshBuild.err = fmt.Errorf("go build ./cmd/hactl: %v\n%s", err, out)
			return
		}
		sshBuild.bin = bin
	})
	if sshBuild.err != nil {
		t.Fatal(sshBuild.err)
	}
	return sshBuild.bin
}

// hactlResult is one run of the binary.
type hactlResult struct {
	Args   []string
	Code   int
	Stdout string
	Stderr string
	Took   time.Duration
}

func (r hactlResult) String() string {
	return fmt.Sprintf("hactl %s: exit %d after %s\n--- stdout\n%s--- stderr\n%s", strings.Join(r.Args, " "), r.Code, r.Took.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// hactlCLI runs the binary in dir with the cluster file there.
type hactlCLI struct {
	t        *testing.T
	bin, dir string
	env      []string
	// outputs keeps every run's output, to check no secret ever shows.
	outputs []hactlResult
}

func (h *hactlCLI) run(timeout time.Duration, args ...string) hactlResult {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Dir = h.dir
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), h.env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err := cmd.Run()
	r := hactlResult{Args: args, Stdout: so.String(), Stderr: se.String(), Took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatalf("hactl %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		h.t.Fatalf("hactl %s: killed after %s\n%s", strings.Join(args, " "), timeout, r)
	}
	h.outputs = append(h.outputs, r)
	h.t.Logf("hactl %s: exit %d (%s)", strings.Join(args, " "), r.Code, r.Took.Round(time.Millisecond))
	return r
}

// must runs hactl and fails the test unless it exits with want.
func (h *hactlCLI) must(want int, timeout time.Duration, args ...string) hactlResult {
	h.t.Helper()
	r := h.run(timeout, args...)
	if r.Code != want {
		h.t.Fatalf("want exit %d\n%s", want, r)
	}
	return r
}

// status runs `hactl status --json` and decodes it.
func (h *hactlCLI) status(args ...string) *status.Report {
	h.t.Helper()
	r := h.must(0, 2*time.Minute, append([]string{"status", "--json"}, args...)...)
	var rep status.Report
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		h.t.Fatalf("status --json is not one JSON document: %v\n%s", err, r)
	}
	return &rep
}

var planHeadRe = regexp.MustCompile(`(?m)^\s*# (\S+) (will be created|will be updated in-place|must be replaced|will be destroyed)`)

// planTargets lists the component addresses a plan's text acts on.
func planTargets(out string) []string {
	var got []string
	for _, m := range planHeadRe.FindAllStringSubmatch(out, -1) {
		got = append(got, m[1])
	}
	sort.Strings(got)
	return got
}

var planSummaryRe = regexp.MustCompile(`Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\.`)

func planSummary(out string) string {
	return planSummaryRe.FindString(out)
}

// modelRows returns the status rows of a model at an endpoint.
func modelRows(rep *status.Report, name, typ, host string, port int) []status.Model {
	var out []status.Model
	for _, m := range rep.Models {
		if m.ModelName == name && m.ModelType == typ && m.Host == host && m.Port == port {
			out = append(out, m)
		}
	}
	return out
}

func componentByName(rep *status.Report, name string) (status.Component, bool) {
	for _, c := range rep.Components {
		if c.Name == name {
			return c, true
		}
	}
	return status.Component{}, false
}

// eventually polls f until it returns nil or timeout passes.
func eventually(t *testing.T, timeout, every time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %s: %v", what, timeout, err)
		}
		time.Sleep(every)
	}
}
