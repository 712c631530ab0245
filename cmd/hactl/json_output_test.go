package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hactl/hactl/internal/jsonschematest"
)

// Every -json output of real runs against a real local cluster (dbgpt-sim,
// transport local) is valid against the schemas in docs/json: validate,
// plan (with changes, without, and failing), apply (deploying, no-op,
// failing), status, destroy.
func TestJSONOutputsMatchTheSchemas(t *testing.T) {
	hactl, sim := buildBins(t)
	load := func(name string) *jsonschema.Schema {
		s, err := jsonschematest.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	stream, statusDoc, validateDoc := load(jsonschematest.UIStream), load(jsonschematest.Status), load(jsonschematest.Validate)

	root := t.TempDir()
	dbgpt := simRoot(t, root, sim, "0.6.3")
	ports := freePorts(t, 6)
	file := filepath.Join(root, "cluster.hcl")
	src := fmt.Sprintf(localCluster, "0.6.3", root, dbgpt, ports[0], ports[1], ports[2], ports[3], 60, ports[5])
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command(hactl, "destroy", "-auto-approve", "-f", file).Run() })

	run := func(wantCode int, args ...string) []byte {
		t.Helper()
		r := runHactl(t, root, []string{"NO_COLOR=1"}, args...)
		if r.code != wantCode {
			t.Fatalf("hactl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, wantCode, r.stdout, r.stderr)
		}
		if strings.TrimSpace(r.stderr) != "" {
			t.Errorf("hactl %s wrote to stderr in -json mode:\n%s", strings.Join(args, " "), r.stderr)
		}
		return []byte(r.stdout)
	}
	types := func(out []byte) []string {
		var ts []string
		for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
			var m struct{ Type string }
			if err := json.Unmarshal(l, &m); err != nil {
				t.Fatalf("not JSON: %q: %v", l, err)
			}
			ts = append(ts, m.Type)
		}
		return ts
	}
	checkStream := func(what string, out []byte, first, last string) {
		t.Helper()
		if err := jsonschematest.Stream(stream, bytes.NewReader(out)); err != nil {
			t.Errorf("%s: %v", what, err)
		}
		ts := types(out)
		if ts[0] != first || ts[len(ts)-1] != last {
			t.Errorf("%s: message types %v, want %s first and %s last", what, ts, first, last)
		}
		summaries := 0
		for _, ty := range ts {
			if ty == "change_summary" {
				summaries++
			}
		}
		if last == "change_summary" && summaries != 1 && !strings.HasPrefix(what, "apply") {
			t.Errorf("%s: %d change_summary messages, want 1", what, summaries)
		}
	}

	if err := jsonschematest.Document(validateDoc, run(0, "validate", "-json", "-f", file)); err != nil {
		t.Errorf("validate -json: %v", err)
	}
	broken := filepath.Join(root, "broken.hcl")
	if err := os.WriteFile(broken, []byte("cluster {\n  name = 1\n}\nnot_a_block {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := jsonschematest.Document(validateDoc, run(1, "validate", "-json", "-f", broken)); err != nil {
		t.Errorf("validate -json of an invalid file: %v", err)
	}
	checkStream("plan -json of an invalid file", run(1, "plan", "-json", "-f", broken), "version", "diagnostic")

	checkStream("plan -json", run(2, "plan", "-json", "-detailed-exitcode", "-f", file), "version", "change_summary")
	out := run(0, "apply", "-json", "-auto-approve", "-f", file)
	checkStream("apply -json", out, "version", "change_summary")
	for _, want := range []string{"planned_change", "apply_start", "apply_complete", "gate_complete"} {
		if !strings.Contains(strings.Join(types(out), ","), want) {
			t.Errorf("apply -json has no %s message: %v", want, types(out))
		}
	}
	checkStream("plan -json, no changes", run(0, "plan", "-json", "-detailed-exitcode", "-f", file), "version", "change_summary")
	checkStream("apply -json, no changes", run(0, "apply", "-json", "-auto-approve", "-f", file), "version", "change_summary")

	st := run(0, "status", "-json", "-f", file)
	if err := jsonschematest.Document(statusDoc, st); err != nil {
		t.Errorf("status -json: %v\n%s", err, st)
	}

	// A failing apply: the worker's port is taken by a process of ours.
	// Pre-flight refuses it: one diagnostic per problem.
	blocker := exec.Command(sim, "start", "controller", "--port", fmt.Sprint(ports[4]))
	if err := blocker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blocker.Process.Kill(); _ = blocker.Wait() })
	moved := fmt.Sprintf(localCluster, "0.6.3", root, dbgpt, ports[0], ports[1], ports[4], ports[3], 60, ports[5])
	if err := os.WriteFile(file, []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	if !waitPortOpen(t, ports[4]) {
		t.Fatalf("the blocking process did not listen on %d", ports[4])
	}
	checkStream("apply -json, failing pre-flight", run(1, "apply", "-json", "-auto-approve", "-f", file), "version", "diagnostic")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}

	out = run(0, "destroy", "-json", "-auto-approve", "-f", file)
	checkStream("destroy -json", out, "version", "change_summary")
	if !strings.Contains(string(out), `"action":"delete"`) {
		t.Errorf("destroy -json does not name its action delete:\n%s", out)
	}
	checkStream("destroy -json, nothing deployed", run(0, "destroy", "-json", "-auto-approve", "-f", file), "version", "change_summary")
}

// waitPortOpen waits up to 30 s until something accepts connections on
// 127.0.0.1:port.
func waitPortOpen(t *testing.T, port int) bool {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}
