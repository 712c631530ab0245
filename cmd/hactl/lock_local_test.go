package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/lock"
)

// started is a hactl run in the background.
type started struct {
	cmd      *exec.Cmd
	out      bytes.Buffer
	done     chan struct{}
	code     int
	finished time.Time
}

func startHactl(t *testing.T, bin string, args ...string) *started {
	t.Helper()
	s := &started{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	s.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := s.cmd.Wait()
		s.finished = time.Now()
		if ee, ok := err.(*exec.ExitError); ok {
			s.code = ee.ExitCode()
		} else if err != nil {
			s.code = -1
		}
		close(s.done)
	}()
	return s
}

func (s *started) wait(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(within):
		_ = s.cmd.Process.Kill()
		t.Fatalf("hactl %s still running after %s", strings.Join(s.cmd.Args[1:], " "), within)
	}
}

// supervisors counts, per directory, the supervisor processes (sh ./run.sh)
// working under root.
func supervisors(root string) map[string]int {
	n := map[string]int{}
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.Equal(b, []byte("sh\x00./run.sh\x00")) {
			continue
		}
		st, _ := os.ReadFile(filepath.Join(filepath.Dir(f), "stat"))
		if s := string(st); strings.Contains(s, ") Z") {
			continue
		}
		cwd, _ := os.Readlink(filepath.Join(filepath.Dir(f), "cwd"))
		if strings.HasPrefix(cwd, root+"/") {
			n[cwd]++
		}
	}
	return n
}

// Two applies started together: one runs, the other exits 1 at once naming
// the holder (user@host, its pid); afterwards one supervisor per component
// and a plan without changes. Then: Ctrl-C releases the lock, plan notes a
// change in progress, a dead run's lock on this machine is broken by the
// next run, another machine's is refused until force-unlock removes it.
func TestOneOperatorAtATime(t *testing.T) {
	hactl, sim := buildBins(t)
	root := t.TempDir()
	ports := freePorts(t, 6)
	dbgpt := simRoot(t, root, sim, "0.6.3")
	file := filepath.Join(root, "cluster.hcl")
	write := func(workerPort int) {
		src := fmt.Sprintf(localCluster, "0.6.3", root, dbgpt, ports[0], ports[1], workerPort, ports[3], 60, ports[5])
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(ports[2])
	h := hactlRun{t: t, bin: hactl, file: file}
	t.Cleanup(func() { _ = exec.Command(hactl, "destroy", "--auto-approve", "-f", file).Run() })
	lockFile := filepath.Join(root, "deploy", ".hactl-lock-local-e2e.json")

	a := startHactl(t, hactl, "apply", "-auto-approve", "-f", file)
	b := startHactl(t, hactl, "apply", "-auto-approve", "-f", file)
	a.wait(t, 5*time.Minute)
	b.wait(t, 5*time.Minute)
	win, lose := a, b
	if a.code != 0 {
		win, lose = b, a
	}
	if win.code != 0 || lose.code != 1 {
		t.Fatalf("want one apply to succeed and one to exit 1:\n--- exit %d\n%s\n--- exit %d\n%s", a.code, a.out.String(), b.code, b.out.String())
	}
	msg := lose.out.String()
	host, _ := os.Hostname()
	for _, want := range []string{`Error: cluster "local-e2e" is locked: apply by `, "@" + host + " since ", fmt.Sprintf("(pid %d, lock ID ", win.cmd.Process.Pid), lockFile} {
		if !strings.Contains(msg, want) {
			t.Errorf("the refused apply's message lacks %q:\n%s", want, msg)
		}
	}
	if !lose.finished.Before(win.finished) {
		t.Errorf("the refused apply ended after the one that ran")
	}
	if strings.Contains(msg, "Plan:") {
		t.Errorf("the refused apply planned:\n%s", msg)
	}
	if !strings.Contains(win.out.String(), "Apply complete! Resources: 6 added") {
		t.Errorf("the apply that ran:\n%s", win.out.String())
	}
	sup := supervisors(filepath.Join(root, "deploy"))
	if len(sup) != 5 {
		t.Errorf("supervisors: %v, want one in each of 5 component directories", sup)
	}
	for dir, n := range sup {
		if n != 1 {
			t.Errorf("%s: %d supervisors", dir, n)
		}
	}
	if out := h.run(0, "plan", "-detailed-exitcode"); !strings.Contains(out, "No changes.") || strings.Contains(out, "in progress") {
		t.Fatalf("plan after the two applies:\n%s", out)
	}
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Fatalf("lock left after apply: %v", err)
	}

	// Ctrl-C during an apply (a worker moving port): the lock goes with it.
	write(ports[4])
	c := startHactl(t, hactl, "apply", "-auto-approve", "-f", file)
	waitFor(t, 2*time.Minute, "the apply's lock", func() bool {
		_, err := os.Stat(lockFile)
		return err == nil
	})
	// While it is held, plan says so.
	pl := startHactl(t, hactl, "plan", "-f", file)
	pl.wait(t, 2*time.Minute)
	if out := pl.out.String(); !strings.Contains(out, "Note: a change is in progress: apply by ") {
		select {
		case <-c.done: // it may have ended before plan looked
		default:
			t.Errorf("plan during an apply does not say so:\n%s", out)
		}
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	c.wait(t, 2*time.Minute)
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Fatalf("lock left after Ctrl-C (exit %d): %v\n%s", c.code, err, c.out.String())
	}

	// A run on this machine that died without releasing (killed, or cut
	// off from the lock's server when it ended): the next run breaks its
	// lock, says so, and goes on.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	info := lock.NewInfo("local-e2e", "destroy")
	info.PID = gone.Process.Pid
	if err := os.WriteFile(lockFile, info.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := h.run(0, "apply", "-auto-approve")
	if !strings.Contains(out, "Note: broke the cluster lock of a run that is gone: destroy by ") || !strings.Contains(out, "pid "+strconv.Itoa(info.PID)) {
		t.Errorf("apply against a dead run's lock:\n%s", out)
	}
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Fatalf("lock left after the apply that broke a dead one: %v", err)
	}

	// A run on another machine is never judged gone: refused, and
	// force-unlock with its ID (and only its ID) removes the lock.
	info = lock.NewInfo("local-e2e", "destroy")
	info.Host, info.Machine, info.PID = "elsewhere", "0123456789abcdef", 1
	if err := os.WriteFile(lockFile, info.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	out = h.run(1, "destroy", "-auto-approve")
	if !strings.Contains(out, "destroy by ") || !strings.Contains(out, "@elsewhere") || !strings.Contains(out, "wait for it to finish") ||
		!strings.Contains(out, "hactl force-unlock "+info.ID) {
		t.Errorf("destroy against another machine's lock:\n%s", out)
	}
	if sup := supervisors(filepath.Join(root, "deploy")); len(sup) != 5 {
		t.Errorf("a refused destroy changed the cluster: %v", sup)
	}
	out = h.run(1, "force-unlock", "-force", "0000")
	if !strings.Contains(out, "has ID "+info.ID+", not 0000") {
		t.Errorf("force-unlock with another ID:\n%s", out)
	}
	out = h.run(0, "force-unlock", "-force", info.ID)
	if !strings.Contains(out, "was removed") {
		t.Errorf("force-unlock:\n%s", out)
	}
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Fatalf("lock left after force-unlock: %v", err)
	}
	h.run(0, "apply", "-auto-approve")
	h.run(0, "plan", "-detailed-exitcode")
	// --purge-registry: the webserver's metadata database goes too.
	h.run(0, "destroy", "-auto-approve", "--purge-registry")
	if _, err := os.Stat(filepath.Join(root, "deploy")); !os.IsNotExist(err) {
		t.Errorf("destroy left the deploy directory: %v", err)
	}
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
