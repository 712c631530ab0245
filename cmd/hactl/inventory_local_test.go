package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// secondServer adds server local2 (its own deploy directory) with a worker.
const secondServer = `
server "local2" {
  transport     = "local"
  address       = "127.0.0.1"
  deploy_dir    = "%[1]s/deploy2"
  dbgpt_command = "%[2]s"
}

worker "llm2" {
  server = server.local2
  model  = model.glm-4-9b-chat
  port   = %[3]d
}
`

// A server block removed from the file (with its worker): plan shows the
// worker as destroy (the cluster record remembers the server), apply
// removes it and its process; a recorded server that cannot be reached is
// reported, not forgotten.
func TestRemovedServerRemembered(t *testing.T) {
	hactl, sim := buildBins(t)
	root := t.TempDir()
	ports := freePorts(t, 8)
	dbgpt := simRoot(t, root, sim, "0.6.3")
	base := fmt.Sprintf(localCluster, "0.6.3", root, dbgpt, ports[0], ports[1], ports[2], ports[3], 60, ports[5])
	file := writeFile(t, filepath.Join(root, "cluster.hcl"), base+fmt.Sprintf(secondServer, root, dbgpt, ports[6]))
	h := hactlRun{t: t, bin: hactl, file: file}
	t.Cleanup(func() { _ = exec.Command(hactl, "destroy", "--auto-approve", "-f", file).Run() })

	h.run(0, "apply", "-auto-approve")
	dir := componentDir(t, filepath.Join(root, "deploy2"), "worker.llm2")
	pid := readPID(t, filepath.Join(dir, "child.pid"))

	writeFile(t, file, base)
	out := h.run(2, "plan", "-detailed-exitcode")
	if !strings.Contains(out, "# worker.llm2 will be destroyed") || !strings.Contains(out, "Plan: 0 to add, 0 to change, 1 to destroy.") {
		t.Fatalf("plan without the server block:\n%s", out)
	}
	h.run(0, "apply", "-auto-approve")
	if processAlive(pid) {
		t.Errorf("the removed server's worker %d still runs", pid)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the removed server's worker directory: %v", err)
	}
	if out := h.run(0, "plan", "-detailed-exitcode"); !strings.Contains(out, "No changes.") {
		t.Errorf("plan after removing it:\n%s", out)
	}

	// A recorded server that cannot be reached: plan fails naming it.
	recFile := filepath.Join(root, "deploy", "local-e2e", "cluster.json")
	b, err := os.ReadFile(recFile)
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "local2") {
		t.Errorf("the record still lists local2 after its components went:\n%s", b)
	}
	rec["servers"] = append(rec["servers"].([]any), map[string]any{
		"name": "gone", "transport": "ssh", "address": "127.0.0.1", "deploy_dir": "/opt/hactl/x",
		"ssh_port": ports[7], "user": "nobody", "known_hosts_file": filepath.Join(root, "known_hosts"), "connect_timeout": 5e9,
	})
	b, _ = json.Marshal(rec)
	writeFile(t, recFile, string(b))
	out = h.run(1, "plan")
	if !strings.Contains(out, "server gone is not in the cluster file, but the cluster record on server local says hactl deployed to it") {
		t.Errorf("plan with an unreachable recorded server:\n%s", out)
	}
	// destroy reports it too (and removes nothing until it is resolved).
	out = h.run(1, "destroy", "-auto-approve")
	if !strings.Contains(out, "server gone") {
		t.Errorf("destroy with an unreachable recorded server:\n%s", out)
	}
	os.Remove(recFile)
	// --purge-registry: the webserver's metadata database goes too.
	h.run(0, "destroy", "-auto-approve", "--purge-registry")
	for _, d := range []string{"deploy", "deploy2"} {
		if _, err := os.Stat(filepath.Join(root, d)); !os.IsNotExist(err) {
			t.Errorf("destroy left %s: %v", d, err)
		}
	}
}
