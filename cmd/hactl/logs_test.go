package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/testio"
)

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A real local cluster (transport local, dbgpt-sim): status --check says
// healthy (0) and degraded (2); logs -f prints a line the controller writes
// after it started, with the secret in it redacted, and Ctrl-C ends it with
// exit status 0.
func TestLocalStatusCheckAndLogsFollow(t *testing.T) {
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip")
	}
	hactl, sim := buildBins(t)
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "models", "glm"), 0o755); err != nil {
		t.Fatal(err)
	}
	const version = "0.6.3"
	dbgpt := filepath.Join(root, "bin", "dbgpt")
	if err := os.MkdirAll(filepath.Dir(dbgpt), 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nDBGPT_SIM_VERSION=%s DBGPT_SIM_LOAD_DELAY=200ms DBGPT_SIM_REGISTER_DELAY=200ms exec %s \"$@\"\n", version, sim)
	if err := os.WriteFile(dbgpt, []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 6)
	src := fmt.Sprintf(localCluster, version, root, dbgpt, ports[0], ports[1], ports[2], ports[3], 60, ports[4])
	file := filepath.Join(root, "cluster.hcl")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	h := hactlRun{t: t, bin: hactl, file: file}
	t.Cleanup(func() { _ = exec.Command(hactl, "destroy", "--auto-approve", "-f", file).Run() })
	h.run(0, "apply", "-auto-approve")

	// Healthy: 0, in text and JSON.
	out := h.run(0, "status", "--check", "--no-color")
	if !strings.HasSuffix(out, "\nCheck: healthy.\n") {
		t.Errorf("status --check on a healthy cluster:\n%s", out)
	}
	// On a terminal (script(1) gives one) status is coloured, unless
	// --no-color.
	if _, err := exec.LookPath("script"); err != nil {
		t.Log("no script(1): --no-color on a terminal not checked")
	} else {
		onTTY := func(args ...string) string {
			line := "'" + hactl + "'"
			for _, a := range append(args, "-f", file) {
				line += " '" + a + "'"
			}
			c := exec.Command("script", "-qec", line, "/dev/null")
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "NO_COLOR=") {
					c.Env = append(c.Env, kv)
				}
			}
			out, err := c.CombinedOutput()
			if err != nil {
				t.Fatalf("hactl %s on a terminal: %v\n%s", strings.Join(args, " "), err, out)
			}
			return string(out)
		}
		if out := onTTY("status"); !strings.Contains(out, "\x1b[") {
			t.Errorf("status on a terminal is not coloured:\n%q", out)
		}
		if out := onTTY("status", "--no-color"); strings.Contains(out, "\x1b[") || !strings.Contains(out, "running") {
			t.Errorf("status --no-color on a terminal:\n%q", out)
		}
	}
	var rep struct {
		Components []map[string]any `json:"components"`
	}
	if err := json.Unmarshal([]byte(h.run(0, "status", "--check", "--json")), &rep); err != nil || len(rep.Components) != 5 {
		t.Errorf("status --check --json: %v, %d components", err, len(rep.Components))
	}
	// A worker of the file that is not deployed (and so the webserver
	// does not see it): degraded, 2; without --check still 0.
	degraded := filepath.Join(root, "degraded.hcl")
	extra := fmt.Sprintf("\nworker \"llm2\" {\n  server = server.local\n  model  = model.glm-4-9b-chat\n  port   = %d\n}\n", ports[5])
	if err := os.WriteFile(degraded, []byte(src+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	hd := hactlRun{t: t, bin: hactl, file: degraded}
	out = hd.run(2, "status", "--check")
	if !strings.Contains(out, "worker.llm2") || !strings.Contains(out, "not deployed") || !strings.HasSuffix(out, "\nCheck: degraded (2 problems).\n") {
		t.Errorf("status --check with a worker not deployed:\n%s", out)
	}
	hd.run(2, "status", "--check", "--json")
	hd.run(0, "status")
	// An invalid file: 1.
	hactlRun{t: t, bin: hactl, file: filepath.Join(root, "missing.hcl")}.run(1, "status", "--check")

	// logs -f: the line a request makes the controller write after the
	// follow started, its secret redacted.
	cmd := exec.Command(hactl, "logs", "controller.c1", "-f", "-n", "3", "--file", file)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr testio.LockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}()
	eventually(t, 60*time.Second, "logs -f prints the last lines", func() bool {
		return strings.Count(stdout.String(), "\n") >= 3
	})
	marker := fmt.Sprintf("follow-marker-%d", time.Now().UnixNano())
	url := fmt.Sprintf("http://127.0.0.1:%d/api/health?probe=%s&key=sk-local-e2e-secret", ports[0], marker)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	eventually(t, 60*time.Second, "logs -f prints the request's line", func() bool {
		return strings.Contains(stdout.String(), marker)
	})
	if strings.Contains(stdout.String(), "sk-local-e2e-secret") || !strings.Contains(stdout.String(), marker+"&key=(sensitive)") {
		t.Errorf("the followed line is not redacted:\n%s", stdout.String())
	}
	select {
	case err := <-exited:
		t.Fatalf("logs -f ended by itself: %v\n%s", err, stderr.String())
	default:
	}
	interrupted := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("logs -f after Ctrl-C: %v (want exit 0)\nstderr: %s", err, stderr.String())
		}
		t.Logf("logs -f ended %s after SIGINT", time.Since(interrupted).Round(time.Millisecond))
	case <-time.After(15 * time.Second):
		t.Fatalf("logs -f still runs 15s after SIGINT")
	}
	if s := stderr.String(); s != "" {
		t.Errorf("logs -f wrote to stderr: %s", s)
	}
	// tail -F is gone with it.
	eventually(t, 10*time.Second, "tail -F ends with logs -f", func() bool {
		ps, err := exec.Command("ps", "-eo", "args").Output()
		return err == nil && !strings.Contains(string(ps), "tail -n 3 -F "+filepath.Join(root, "deploy"))
	})
}
