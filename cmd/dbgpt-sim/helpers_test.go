package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/sim/cli"
	"github.com/hactl/hactl/internal/testport"
)

// bin is the sim built once for the whole package; root its install root
// (where a process without DBGPT_LOG_DIR writes its log files).
var bin, root string

// patience bounds every wait for a condition: generous, as the tests share a
// loaded machine; a wait ends as soon as its condition holds.
const patience = 60 * time.Second

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dbgpt-sim-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The sim's install root is the parent of its directory: root is dir.
	root = dir
	bin = filepath.Join(dir, "bin", "dbgpt")
	// DBGPT_SIM_TEST_RACE=1 builds the sim with the race detector (needs cgo).
	args, cgo := []string{"build", "-o", bin}, "CGO_ENABLED=0"
	if os.Getenv("DBGPT_SIM_TEST_RACE") != "" {
		args, cgo = append(args, "-race"), "CGO_ENABLED=1"
	}
	build := exec.Command("go", append(args, ".")...)
	build.Env = append(os.Environ(), cgo)
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building dbgpt-sim: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buffer is a goroutine-safe log sink.
type buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// proc is one running sim process.
type proc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	out    *buffer
	err    *buffer
	done   chan struct{}
	status int
}

// baseEnv is the environment of every sim process: the test's own without
// DBGPT_SIM_* and DB-GPT variables that could leak in, plus short timings.
func baseEnv(extra []string) []string {
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		if strings.HasPrefix(k, "DBGPT_") || strings.HasPrefix(k, "CONTROLLER_") || k == "MODEL_SERVER" || k == "LLM_MODEL" {
			continue
		}
		env = append(env, e)
	}
	env = append(env, "DBGPT_SIM_LOAD_DELAY=100ms", "DBGPT_SIM_PROBE_INTERVAL=300ms")
	return append(env, extra...)
}

// start runs `dbgpt args...` in the background; it is killed when the test ends.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	return startIn(t, "", env, args...)
}

// startIn is start with the working directory dir ("" = the test's).
func startIn(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: strings.Join(args[:min(2, len(args))], " "), out: &buffer{}, err: &buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = baseEnv(env)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.err
	p.cmd.Dir = dir
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.status = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if strings.Contains(p.err.String(), "WARNING: DATA RACE") {
			t.Errorf("%s: data race (DBGPT_SIM_TEST_RACE build)", p.name)
		}
		if t.Failed() {
			t.Logf("--- %s stderr:\n%s", p.name, p.err.String())
		}
	})
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.status
	case <-time.After(d):
		p.t.Fatalf("%s did not exit within %s; stderr:\n%s", p.name, d, p.err.String())
	}
	return -1
}

func (p *proc) signal(s syscall.Signal) { p.cmd.Process.Signal(s) }

// run runs `dbgpt args...` to completion.
func run(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	p := start(t, env, args...)
	code = p.wait(patience)
	return p.out.String(), p.err.String(), code
}

func freePort(t *testing.T) int { return testport.Free(t) }

func url(port int) string { return fmt.Sprintf("http://127.0.0.1:%d", port) }

// waitUp waits until GET base+path answers (any status).
func waitUp(t *testing.T, p *proc, base string) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited (%d) before answering; stderr:\n%s", p.name, p.status, p.err.String())
		default:
		}
		resp, err := http.Get(base + "/api/health")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer at %s within %s", p.name, base, patience)
}

// portOpen reports whether something accepts connections on port.
func portOpen(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// do sends a request and returns status and body.
func do(t *testing.T, method, u string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, u, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", d, what)
}

func portOpenAt(host string, port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host, fmt.Sprint(port)), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// checkerPasses counts the heartbeat checker passes a controller started
// with DBGPT_SIM_TRACE_CHECKER has logged.
func checkerPasses(p *proc) int { return strings.Count(p.err.String(), cli.CheckerPassTrace) }
