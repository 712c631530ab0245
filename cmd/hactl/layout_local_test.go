package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// otherCluster is a second cluster with one controller, sharing a deploy
// directory.
const otherCluster = `
cluster {
  name          = "%[1]s"
  dbgpt_version = "0.6.3"
}
server "local" {
  transport     = "local"
  address       = "127.0.0.1"
  deploy_dir    = "%[2]s/deploy"
  dbgpt_command = "%[3]s"
}
registry "sqlite" {
  path = "%[2]s/%[1]s.db"
}
controller "c1" {
  server = server.local
  port   = %[4]d
}
`

// Two clusters sharing a deploy directory, each with a controller.c1: the
// second gets a directory of its own and leaves the first's process and
// plan alone; a third on the first's port is an error at plan naming the
// other cluster's component, never a create. Files hactl did not write are
// never deleted: in the component's directory pre-flight refuses, naming
// it; in the old layout's place they are left alone.
func TestClustersShareADeployDir(t *testing.T) {
	hactl, sim := buildBins(t)
	root := t.TempDir()
	ports := freePorts(t, 8)
	dbgpt := simRoot(t, root, sim, "0.6.3")
	first := writeFile(t, filepath.Join(root, "cluster.hcl"),
		fmt.Sprintf(localCluster, "0.6.3", root, dbgpt, ports[0], ports[1], ports[2], ports[3], 60, ports[5]))
	second := writeFile(t, filepath.Join(root, "second.hcl"), fmt.Sprintf(otherCluster, "second", root, dbgpt, ports[6]))
	third := writeFile(t, filepath.Join(root, "third.hcl"), fmt.Sprintf(otherCluster, "third", root, dbgpt, ports[0]))
	h1 := hactlRun{t: t, bin: hactl, file: first}
	h2 := hactlRun{t: t, bin: hactl, file: second}
	h3 := hactlRun{t: t, bin: hactl, file: third}
	for _, f := range []string{second, first} {
		t.Cleanup(func() { _ = exec.Command(hactl, "destroy", "--auto-approve", "-f", f).Run() })
	}
	deploy := filepath.Join(root, "deploy")

	// Files of someone else where the old layout kept worker.llm, and in
	// the directory a third cluster's worker would get.
	precious := filepath.Join(deploy, "worker.llm", "precious.txt")
	mkdirAll(t, filepath.Dir(precious))
	writeFile(t, precious, "not hactl's\n")
	h1.run(0, "apply", "-auto-approve")
	if b, err := os.ReadFile(precious); err != nil || string(b) != "not hactl's\n" {
		t.Errorf("a file hactl did not write, in the old layout's worker.llm: %q %v", b, err)
	}
	pids := observePIDs(t, first)

	out := h2.run(2, "plan", "-detailed-exitcode")
	if !strings.Contains(out, "Plan: 2 to add, 0 to change, 0 to destroy.") { // the registry and controller.c1
		t.Fatalf("plan of a second cluster with another port:\n%s", out)
	}
	h2.run(0, "apply", "-auto-approve")
	if got := observePIDs(t, first); got["controller.c1"] != pids["controller.c1"] {
		t.Errorf("the second cluster's apply touched the first's controller.c1: pid %d → %d", pids["controller.c1"], got["controller.c1"])
	}
	if out := h1.run(0, "plan", "-detailed-exitcode"); !strings.Contains(out, "No changes.") {
		t.Errorf("plan of the first cluster after the second's apply:\n%s", out)
	}
	if out := h2.run(0, "plan", "-detailed-exitcode"); !strings.Contains(out, "No changes.") {
		t.Errorf("plan of the second cluster:\n%s", out)
	}
	for _, d := range []string{"local-e2e/controller.c1", "second/controller.c1"} {
		if _, err := os.Stat(filepath.Join(deploy, d, "manifest.json")); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}

	// The third wants the first's port: an error naming the holder.
	out = h3.run(1, "plan")
	if !strings.Contains(out, fmt.Sprintf(`port %d is already in use by hactl's controller.c1 of cluster "local-e2e" (in %s)`, ports[0], filepath.Join(deploy, "local-e2e", "controller.c1"))) ||
		strings.Contains(out, "to add") {
		t.Errorf("plan of a cluster on another cluster's port:\n%s", out)
	}

	// Someone's files in the directory the third's controller would get:
	// refused, named, kept.
	writeFile(t, third, fmt.Sprintf(otherCluster, "third", root, dbgpt, ports[7]))
	mine := filepath.Join(deploy, "third", "controller.c1", "notes.txt")
	mkdirAll(t, filepath.Dir(mine))
	writeFile(t, mine, "mine\n")
	out = h3.run(1, "apply", "-auto-approve")
	if !strings.Contains(out, "directory "+filepath.Dir(mine)+" holds files hactl did not write for cluster \"third\"") {
		t.Errorf("apply into a directory of files hactl did not write:\n%s", out)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("the file hactl did not write: %v", err)
	}

	// destroy of one cluster leaves the other's directory.
	h2.run(0, "destroy", "-auto-approve")
	if _, err := os.Stat(filepath.Join(deploy, "second")); !os.IsNotExist(err) {
		t.Errorf("the second cluster's directory after its destroy: %v", err)
	}
	if got := observePIDs(t, first); got["controller.c1"] != pids["controller.c1"] {
		t.Errorf("the second cluster's destroy touched the first's controller.c1")
	}
}

// A component deployed in the old layout (<deploy_dir>/<component>, here
// made by moving a running one there) is observed, planned as an update
// saying so, and moved by apply: its old process stopped, one new one in
// <deploy_dir>/<cluster>/<component>, its log kept, the old directory gone.
func TestOldLayoutMoved(t *testing.T) {
	hactl, sim := buildBins(t)
	root := t.TempDir()
	ports := freePorts(t, 6)
	dbgpt := simRoot(t, root, sim, "0.6.3")
	file := writeFile(t, filepath.Join(root, "cluster.hcl"),
		fmt.Sprintf(localCluster, "0.6.3", root, dbgpt, ports[0], ports[1], ports[2], ports[3], 60, ports[5]))
	h := hactlRun{t: t, bin: hactl, file: file}
	t.Cleanup(func() { _ = exec.Command(hactl, "destroy", "--auto-approve", "-f", file).Run() })
	deploy := filepath.Join(root, "deploy")
	h.run(0, "apply", "-auto-approve")
	before := observePIDs(t, file)
	newDir, oldDir := filepath.Join(deploy, "local-e2e", "worker.llm"), filepath.Join(deploy, "worker.llm")
	if err := os.Rename(newDir, oldDir); err != nil {
		t.Fatal(err)
	}
	if got := observePIDs(t, file); got["worker.llm"] != before["worker.llm"] {
		t.Fatalf("the old layout's worker is not observed: %v", got)
	}
	out := h.run(2, "plan", "-detailed-exitcode")
	if !strings.Contains(out, "Plan: 0 to add, 1 to change, 0 to destroy.") || !strings.Contains(out, "in the old directory layout "+oldDir) {
		t.Fatalf("plan of a component in the old layout:\n%s", out)
	}
	h.run(0, "apply", "-auto-approve")
	if _, err := os.Stat(oldDir); !os.IsNotExist(err) {
		t.Errorf("old directory left: %v", err)
	}
	if processAlive(before["worker.llm"]) {
		t.Errorf("the old worker process %d still runs", before["worker.llm"])
	}
	if b, _ := os.ReadFile(filepath.Join(newDir, "log")); !strings.Contains(string(b), "deploy: starting") || strings.Count(string(b), "deploy: starting") < 2 {
		t.Errorf("the log was not kept:\n%s", b)
	}
	if pids := supervised(newDir); len(pids) != 2 {
		t.Errorf("processes in %s: %v", newDir, pids)
	}
	if out := h.run(0, "plan", "-detailed-exitcode"); !strings.Contains(out, "No changes.") {
		t.Errorf("plan after the move:\n%s", out)
	}
}

func mkdirAll(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
