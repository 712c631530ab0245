package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/status"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/test/e2e/testcluster"
)

// opsRun is one hactl run started in the background.
type opsRun struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	code int
	err  error
	end  time.Time
}

// supervisorsOn counts the supervisor processes (sh ./run.sh) per working
// directory on host.
func supervisorsOn(t *testing.T, tc *testcluster.Cluster, host string) map[string]int {
	t.Helper()
	out := mustExec(t, tc, host, `for p in /proc/[0-9]*; do
	c=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)
	[ "$c" = "sh ./run.sh " ] && readlink "$p/cwd"
done; true`)
	n := map[string]int{}
	for _, l := range strings.Fields(out) {
		n[l]++
	}
	return n
}

// One operator at a time and no orphan, on real SSH hosts: two applies
// started together (one runs, the other exits 1 at once naming the holder;
// then one supervisor per component and a plan without changes); a
// supervisor killed with kill -9 (the next apply replaces its orphaned
// worker: one process, registered).
func TestSSHOneOperatorNoOrphan(t *testing.T) {
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip")
	}
	bin := hactlBinary(t)
	tc := testcluster.Start(t, testcluster.Options{Generation: schema.GenerationFlags, SimVersion: "0.6.3", SimEnv: map[string]string{
		"DBGPT_SIM_MANAGER_HEARTBEAT": "2s", "DBGPT_SIM_PROBE_INTERVAL": "1s", "DBGPT_SIM_LOAD_DELAY": "200ms",
	}})
	dir := t.TempDir()
	p := tc.HAParams()
	p.DeployDir, p.HeartbeatInterval, p.HeartbeatTimeout, p.ConnectTimeout = deployDir, 2, 6, "3s"
	file := filepath.Join(dir, "cluster.hcl")
	if err := os.WriteFile(file, testcluster.HAClusterFile(p), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"HACTL_VAR_registry_password=" + tc.DBPassword}
	h := &hactlCLI{t: t, bin: bin, dir: dir, env: env}
	t.Cleanup(func() { h.run(cmdTimeout, "destroy", "-auto-approve") })

	runs := []*opsRun{{}, {}}
	done := make(chan *opsRun, 2)
	for _, r := range runs {
		r.cmd = exec.CommandContext(context.Background(), bin, "apply", "-auto-approve")
		r.cmd.Dir = dir
		r.cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
		r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range runs {
		go func() {
			r.err = r.cmd.Wait()
			r.end = time.Now()
			if ee, ok := r.err.(*exec.ExitError); ok {
				r.code = ee.ExitCode()
			} else if r.err != nil {
				r.code = -1
			}
			done <- r
		}()
	}
	timeout := time.After(cmdTimeout)
	for range runs {
		select {
		case <-done:
		case <-timeout:
			for _, r := range runs {
				_ = r.cmd.Process.Kill()
			}
			t.Fatalf("two applies still running after %s", cmdTimeout)
		}
	}
	win, lose := runs[0], runs[1]
	if win.code != 0 {
		win, lose = lose, win
	}
	if win.code != 0 || lose.code != 1 {
		t.Fatalf("want one apply to run and one to exit 1:\n--- exit %d\n%s\n--- exit %d\n%s", runs[0].code, runs[0].out.String(), runs[1].code, runs[1].out.String())
	}
	msg := lose.out.String()
	for _, want := range []string{`cluster "e2e" is locked: apply by `, "(pid " + strconv.Itoa(win.cmd.Process.Pid) + ", lock ID ",
		"server server1: " + deployDir + "/.hactl-lock-e2e.json"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the refused apply lacks %q:\n%s", want, msg)
		}
	}
	if !lose.end.Before(win.end) {
		t.Errorf("the refused apply did not end before the one that ran")
	}
	total := 0
	for _, s := range testcluster.Hosts {
		for d, n := range supervisorsOn(t, tc, s) {
			total++
			if n != 1 {
				t.Errorf("%s: %d supervisors in %s", s, n, d)
			}
		}
	}
	if total != 5 {
		t.Errorf("%d component directories with a supervisor, want 5", total)
	}
	if r := h.must(0, cmdTimeout, "plan", "-detailed-exitcode"); !strings.Contains(r.Stdout, "No changes.") {
		t.Errorf("plan after two applies at once:\n%s", r)
	}

	// kill -9 the text2vec worker's supervisor on server3.
	wdir := deployDir + "/e2e/worker.text2vec"
	sup := strings.TrimSpace(mustExec(t, tc, "server3", "cat "+wdir+"/supervisor.pid"))
	orphan := strings.TrimSpace(mustExec(t, tc, "server3", "cat "+wdir+"/child.pid"))
	mustExec(t, tc, "server3", "kill -9 "+sup)
	eventually(t, time.Minute, 200*time.Millisecond, "the supervisor to die", func() error {
		if _, err := tc.Exec("server3", "grep -qv '^[^)]*) Z' /proc/"+sup+"/stat"); err == nil {
			return os.ErrExist
		}
		return nil
	})
	if _, err := tc.Exec("server3", "kill -0 "+orphan); err != nil {
		t.Fatalf("the worker died with its supervisor: nothing to test")
	}
	r := h.must(0, cmdTimeout, "apply", "-auto-approve")
	if !strings.Contains(r.Stdout, "worker.text2vec") {
		t.Errorf("apply after kill -9 of a supervisor:\n%s", r)
	}
	if out, err := tc.Exec("server3", "grep -v '^[^)]*) Z' /proc/"+orphan+"/stat"); err == nil {
		t.Errorf("the orphaned worker %s still runs: %s", orphan, out)
	}
	if n := supervisorsOn(t, tc, "server3")[wdir]; n != 1 {
		t.Errorf("%d supervisors of worker.text2vec", n)
	}
	eventually(t, statusTimout, time.Second, "the worker registered", func() error {
		rep := h.status()
		c, ok := componentByName(rep, "worker.text2vec")
		if !ok || c.State != status.StateRunning {
			return os.ErrNotExist
		}
		for _, m := range rep.Models {
			if m.ModelName == "text2vec" && m.Healthy {
				return nil
			}
		}
		return os.ErrNotExist
	})
	if r := h.must(0, cmdTimeout, "plan", "-detailed-exitcode"); !strings.Contains(r.Stdout, "No changes.") {
		t.Errorf("plan after the repair:\n%s", r)
	}
}
