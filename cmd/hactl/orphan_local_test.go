package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// componentDir finds a component's directory under a deploy directory, in
// whichever layout it is.
func componentDir(t *testing.T, deployDir, address string) string {
	t.Helper()
	found, _ := filepath.Glob(filepath.Join(deployDir, "*", address))
	found = append(found, filepath.Join(deployDir, address))
	for _, d := range found {
		if _, err := os.Stat(filepath.Join(d, "manifest.json")); err == nil {
			return d
		}
	}
	t.Fatalf("no directory of %s under %s", address, deployDir)
	return ""
}

func readPID(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return pid
}

func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	return !strings.HasPrefix(s[strings.LastIndex(s, ") ")+2:], "Z")
}

// supervised lists the live processes working in dir but for the log
// rotator start.sh runs beside the process (and its sleep): the supervisor
// and the process itself.
func supervised(dir string) []int {
	child := 0
	if b, err := os.ReadFile(filepath.Join(dir, "child.pid")); err == nil {
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	var out []int
	for _, pid := range processesIn(dir) {
		if !descendsFrom(pid, child) {
			out = append(out, pid)
		}
	}
	return out
}

// descendsFrom reports whether pid is a child, grandchild… of ancestor.
func descendsFrom(pid, ancestor int) bool {
	for p := parentOf(pid); p > 1; p = parentOf(p) {
		if p == ancestor {
			return true
		}
	}
	return false
}

func parentOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndex(s, ") ")+2:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// processesIn lists the live processes working in dir.
func processesIn(dir string) []int {
	var pids []int
	cwds, _ := filepath.Glob("/proc/[0-9]*/cwd")
	for _, c := range cwds {
		if l, _ := os.Readlink(c); l == dir {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(c)))
			if processAlive(pid) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// A supervisor killed with kill -9 leaves its dbgpt process running on the
// component's port; the next apply finds it (it is the component's), replaces
// it and converges: one supervisor and one process, registered, and a plan
// without changes.
func TestKilledSupervisorOrphanReplaced(t *testing.T) {
	hactl, sim := buildBins(t)
	root := t.TempDir()
	ports := freePorts(t, 6)
	dbgpt := simRoot(t, root, sim, "0.6.3")
	src := fmt.Sprintf(localCluster, "0.6.3", root, dbgpt, ports[0], ports[1], ports[2], ports[3], 60, ports[5])
	file := writeFile(t, filepath.Join(root, "cluster.hcl"), src)
	h := hactlRun{t: t, bin: hactl, file: file}
	t.Cleanup(func() { _ = exec.Command(hactl, "destroy", "--auto-approve", "-f", file).Run() })

	h.run(0, "apply", "-auto-approve")
	dir := componentDir(t, filepath.Join(root, "deploy"), "worker.llm")
	sup, orphan := readPID(t, filepath.Join(dir, "supervisor.pid")), readPID(t, filepath.Join(dir, "child.pid"))
	if err := syscall.Kill(sup, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the supervisor to die", func() bool { return !processAlive(sup) })
	if !processAlive(orphan) {
		t.Fatalf("the worker process %d died with its supervisor: nothing to test", orphan)
	}

	out := h.run(0, "apply", "-auto-approve")
	if !strings.Contains(out, "worker.llm") || !strings.Contains(out, "Apply complete!") {
		t.Errorf("apply after kill -9 of a supervisor:\n%s", out)
	}
	if processAlive(orphan) {
		t.Errorf("the orphaned worker process %d still runs", orphan)
	}
	real, _ := filepath.EvalSymlinks(dir)
	if pids := supervised(real); len(pids) != 2 {
		t.Errorf("processes in %s: %v, want the supervisor and the worker", dir, pids)
	}
	if n := supervisors(filepath.Join(root, "deploy"))[real]; n != 1 {
		t.Errorf("%d supervisors of worker.llm", n)
	}
	if out := h.run(0, "status", "--check"); !strings.Contains(out, "Check: healthy.") {
		t.Errorf("status after the repair:\n%s", out)
	}
	if out := h.run(0, "plan", "-detailed-exitcode"); !strings.Contains(out, "No changes.") {
		t.Errorf("plan after the repair:\n%s", out)
	}
}
