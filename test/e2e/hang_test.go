package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/testio"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/test/e2e/testcluster"
)

// Issue 9, "Never hang": a server's network link is cut (docker network
// disconnect: no error, only silence) while hactl works on the cluster.
// apply and destroy exit non-zero within the command timeout + 10 s naming
// the server; Ctrl-C during the cut returns within 5 s; once the link is
// back, apply converges with one process per component.
func TestLinkCut(t *testing.T) {
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip")
	}
	bin := hactlBinary(t)
	tc := testcluster.Start(t, testcluster.Options{Generation: schema.GenerationFlags, SimVersion: "0.6.3", SimEnv: map[string]string{
		"DBGPT_SIM_MANAGER_HEARTBEAT": "2s",
		"DBGPT_SIM_PROBE_INTERVAL":    "1s",
		"DBGPT_SIM_LOAD_DELAY":        "200ms",
	}})
	const commandTimeout = 20 * time.Second
	dir := t.TempDir()
	p := tc.HAParams()
	p.DeployDir, p.HeartbeatInterval, p.HeartbeatTimeout = deployDir, 2, 6
	p.ConnectTimeout, p.CommandTimeout = "3s", commandTimeout.String()
	if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), testcluster.HAClusterFile(p), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &hactlCLI{t: t, bin: bin, dir: dir, env: []string{"HACTL_VAR_registry_password=" + tc.DBPassword}}
	heal := func(t *testing.T, server string) {
		t.Helper()
		if err := tc.Reconnect(server); err != nil {
			t.Fatal(err)
		}
	}
	bound := commandTimeout + 10*time.Second

	// Controllers (server1, server2) come first; server3, holding the
	// workers and the webserver, is cut once apply works on them: apply
	// already holds its connection to server3 (plan observed it).
	step(t, "1-apply-cut", func(t *testing.T) {
		r := startHactl(t, h, "apply", "-auto-approve")
		r.waitFor("controller.controller1: Creating...", 3*time.Minute)
		cut := r.cut(tc, "server3")
		defer heal(t, "server3")
		code, took := r.wait(cut, bound)
		t.Logf("apply with server3 cut: exit %d %s after the cut\n%s", code, took.Round(time.Millisecond), r)
		if code == 0 || !strings.Contains(r.stderr.String()+r.stdout.String(), "server3") {
			t.Fatalf("apply over a cut link: exit %d, server3 not named\n%s", code, r)
		}
	})

	step(t, "2-ctrl-c-during-cut", func(t *testing.T) {
		r := startHactl(t, h, "apply", "-auto-approve")
		r.waitFor("worker.", 3*time.Minute)
		r.cut(tc, "server3")
		defer heal(t, "server3")
		if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		code, took := r.wait(time.Now(), 5*time.Second)
		t.Logf("Ctrl-C with server3 cut: exit %d after %s\n%s", code, took.Round(time.Millisecond), r)
		if code == 0 || code == -1 || !strings.Contains(r.stderr.String(), "stopping") {
			t.Fatalf("Ctrl-C over a cut link: exit %d\n%s", code, r)
		}
	})

	step(t, "3-rerun-converges", func(t *testing.T) {
		h.must(0, cmdTimeout, "apply", "-auto-approve")
		want := map[string]map[string]int{
			"server1": {"controller": 1},
			"server2": {"controller": 1},
			"server3": {"worker": 2, "webserver": 1},
		}
		for server, roles := range want {
			ps := mustExec(t, tc, server, "ps -eww -o args=")
			for role, n := range roles {
				if got := countProcesses(ps, role); got != n {
					t.Errorf("%s: %d dbgpt %s process(es), want %d:\n%s", server, got, role, n, ps)
				}
			}
		}
		h.must(0, cmdTimeout, "plan", "-detailed-exitcode")
	})

	// Workers (server3) are destroyed before the controllers: server1 is
	// cut once destroy works on the workers.
	step(t, "4-destroy-cut", func(t *testing.T) {
		r := startHactl(t, h, "destroy", "-auto-approve")
		r.waitFor("worker.", 3*time.Minute)
		cut := r.cut(tc, "server1")
		defer heal(t, "server1")
		code, took := r.wait(cut, bound)
		t.Logf("destroy with server1 cut: exit %d %s after the cut\n%s", code, took.Round(time.Millisecond), r)
		if code == 0 || !strings.Contains(r.stderr.String()+r.stdout.String(), "server1") {
			t.Fatalf("destroy over a cut link: exit %d, server1 not named\n%s", code, r)
		}
	})

	step(t, "5-destroy-after-healing", func(t *testing.T) {
		h.must(0, cmdTimeout, "destroy", "-auto-approve")
		for _, s := range testcluster.Hosts {
			ps := mustExec(t, tc, s, "ps -eww -o args=")
			for _, role := range []string{"controller", "worker", "webserver"} {
				if n := countProcesses(ps, role); n != 0 {
					t.Errorf("%s: %d %s process(es) left after destroy:\n%s", s, n, role, ps)
				}
			}
		}
	})
}

// countProcesses counts the dbgpt processes of role in `ps -o args`
// output (not their supervisors).
func countProcesses(ps, role string) int {
	n := 0
	for _, line := range strings.Split(ps, "\n") {
		if strings.Contains(line, "dbgpt") && strings.Contains(line, "start "+role) && !strings.Contains(line, "run.sh") && !strings.HasPrefix(line, "sh ") {
			n++
		}
	}
	return n
}

// bgHactl is hactl running in the background.
type bgHactl struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr testio.LockedBuffer
	done           chan struct{}
	start          time.Time
}

func startHactl(t *testing.T, h *hactlCLI, args ...string) *bgHactl {
	t.Helper()
	r := &bgHactl{t: t, cmd: exec.Command(h.bin, args...), done: make(chan struct{})}
	r.cmd.Dir = h.dir
	r.cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), h.env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	r.start = time.Now()
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

func (r *bgHactl) String() string {
	return "--- stdout\n" + r.stdout.String() + "--- stderr\n" + r.stderr.String()
}

// waitFor waits until hactl printed s.
func (r *bgHactl) waitFor(s string, limit time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(r.stdout.String(), s) {
		select {
		case <-r.done:
			r.t.Fatalf("hactl exited before printing %q\n%s", s, r)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("hactl did not print %q within %s\n%s", s, limit, r)
		}
	}
}

// cut takes server off the network while hactl is held still (SIGSTOP), so
// that whatever it does next meets the cut link; it returns when it was cut.
func (r *bgHactl) cut(tc *testcluster.Cluster, server string) time.Time {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		r.t.Fatal(err)
	}
	err := tc.Disconnect(server)
	at := time.Now()
	if cerr := r.cmd.Process.Signal(syscall.SIGCONT); cerr != nil {
		r.t.Fatal(cerr)
	}
	if err != nil {
		r.t.Fatalf("disconnecting %s: %v", server, err)
	}
	return at
}

// wait waits for hactl to exit within limit of since, and returns its exit
// code (-1: killed by a signal) and how long after since it exited.
func (r *bgHactl) wait(since time.Time, limit time.Duration) (int, time.Duration) {
	r.t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), since.Add(limit))
	defer cancel()
	select {
	case <-r.done:
	case <-ctx.Done():
		r.t.Fatalf("hactl %s still running %s after %s\n%s", strings.Join(r.cmd.Args[1:], " "), limit, since.Format("15:04:05"), r)
	}
	return r.cmd.ProcessState.ExitCode(), time.Since(since)
}
