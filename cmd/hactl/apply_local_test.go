package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hactl/hactl/providers/ssh"
	"github.com/hactl/hactl/schema"
	_ "modernc.org/sqlite"

	"github.com/hactl/hactl/internal/testport"
)

// The real thing on this machine: hactl and dbgpt-sim binaries, transport
// local, a SQLite registry. apply → plan (no changes) → apply (pids kept) →
// port change through a saved plan → stale plan refused → destroy (nothing
// left). Both DB-GPT generations.

var builtBins struct {
	hactl, sim string
}

func buildBins(t *testing.T) (hactl, sim string) {
	t.Helper()
	if builtBins.hactl != "" {
		return builtBins.hactl, builtBins.sim
	}
	dir, err := os.MkdirTemp("", "hactl-bin-")
	if err != nil {
		t.Fatal(err)
	}
	hactl, sim = filepath.Join(dir, "hactl"), filepath.Join(dir, "dbgpt-sim")
	for _, b := range []struct{ out, pkg string }{{hactl, "."}, {sim, "../dbgpt-sim"}} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	builtBins.hactl, builtBins.sim = hactl, sim
	return hactl, sim
}

// simRoot prepares root for a local cluster of localCluster's shape: the
// model directory the file names, and a dbgpt command that is dbgpt-sim
// claiming version, loading its model quickly. It returns that command.
func simRoot(t *testing.T, root, sim, version string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, "models", "glm"), 0o755); err != nil {
		t.Fatal(err)
	}
	dbgpt := filepath.Join(root, "bin", "dbgpt")
	if err := os.MkdirAll(filepath.Dir(dbgpt), 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nDBGPT_SIM_VERSION=%s DBGPT_SIM_LOAD_DELAY=200ms DBGPT_SIM_REGISTER_DELAY=200ms exec %s \"$@\"\n", version, sim)
	if err := os.WriteFile(dbgpt, []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	return dbgpt
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ports = append(ports, testport.Free(t))
	}
	return ports
}

const localCluster = `
cluster {
  name          = "local-e2e"
  dbgpt_version = "%[1]s"
}

server "local" {
  transport     = "local"
  address       = "127.0.0.1"
  deploy_dir    = "%[2]s/deploy"
  dbgpt_command = "%[3]s"
}

registry "sqlite" {
  path = "%[2]s/registry.db"
}

model "glm-4-9b-chat" {
  type = "llm"
  path = "%[2]s/models/glm"
}

controller "c1" {
  server = server.local
  port   = %[4]d
  heartbeat_timeout = %[8]d
}

controller "c2" {
  server = server.local
  port   = %[5]d
  heartbeat_timeout = %[8]d
}

worker "llm" {
  server = server.local
  model  = model.glm-4-9b-chat
  port   = %[6]d
}

webserver {
  server      = server.local
  port        = %[7]d
  default_llm = model.glm-4-9b-chat
}

variable "api_key" {
  type      = string
  sensitive = true
  default   = "sk-local-e2e-secret"
}

apiserver {
  server   = server.local
  port     = %[9]d
  api_keys = [var.api_key]
}
`

type hactlRun struct {
	t     *testing.T
	bin   string
	file  string
	extra []string
}

func (h hactlRun) run(wantCode int, args ...string) string {
	h.t.Helper()
	args = append(args, "-f", h.file)
	args = append(args, h.extra...)
	cmd := exec.Command(h.bin, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatal(err)
	}
	if code != wantCode {
		h.t.Fatalf("hactl %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantCode, out.String())
	}
	return out.String()
}

func observePIDs(t *testing.T, file string) map[string]int {
	t.Helper()
	c, err := schema.Load(file, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ssh.New(c, ssh.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	obs, err := p.Observe(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	pids := map[string]int{}
	for _, o := range obs {
		if !o.Running || o.PID == 0 {
			t.Errorf("%s: not running (pid %d)", o.Address, o.PID)
		}
		pids[o.Address] = o.PID
	}
	return pids
}

// It needs neither Docker nor sshd (it builds dbgpt-sim itself), so it runs
// under HACTL_E2E=skip too.
func TestLocalApplyPlanDestroy(t *testing.T) {
	hactl, sim := buildBins(t)
	for _, version := range []string{"0.6.3", "0.7.0"} {
		t.Run(version, func(t *testing.T) { localRoundTrip(t, hactl, sim, version) })
	}
}

func localRoundTrip(t *testing.T, hactl, sim, version string) {
	root := t.TempDir()
	ports := freePorts(t, 6)
	dbgpt := simRoot(t, root, sim, version)
	file := filepath.Join(root, "cluster.hcl")
	ctlTimeout := 60
	write := func(workerPort int) {
		src := fmt.Sprintf(localCluster, version, root, dbgpt, ports[0], ports[1], workerPort, ports[3], ctlTimeout, ports[5])
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(ports[2])
	h := hactlRun{t: t, bin: hactl, file: file}
	t.Cleanup(func() {
		cmd := exec.Command(hactl, "destroy", "--auto-approve", "-f", file)
		_ = cmd.Run()
	})

	// Five components and the registry: its SQLite file is not there yet
	// (and plan does not create it).
	out := h.run(2, "plan", "-detailed-exitcode")
	if !strings.Contains(out, "Plan: 6 to add, 0 to change, 0 to destroy.") ||
		!strings.Contains(out, "# registry will be created (file absent)") ||
		!strings.Contains(out, fmt.Sprintf("# (file %s/registry.db and table dbgpt_cluster_registry_instance will be created)", root)) {
		t.Fatalf("first plan:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, "registry.db")); !os.IsNotExist(err) {
		t.Fatalf("plan created the registry file: %v", err)
	}
	out = h.run(0, "apply", "-auto-approve")
	if !strings.Contains(out, "Apply complete! Resources: 6 added, 0 changed, 0 destroyed.") ||
		!strings.Contains(out, "registry: Creation complete after") ||
		!strings.Contains(out, "controller.c1: Creation complete after") ||
		!strings.Contains(out, "gate workers: 1 healthy") {
		t.Fatalf("apply:\n%s", out)
	}
	if strings.Contains(out, "sk-local-e2e-secret") {
		t.Fatal("apply output shows the API key")
	}
	if ps, err := exec.Command("ps", "-eo", "args").Output(); err != nil || strings.Contains(string(ps), "sk-local-e2e-secret") {
		t.Fatalf("the API key is on a command line (or ps failed: %v)", err)
	}
	pids := observePIDs(t, file)
	if len(pids) != 5 {
		t.Fatalf("observed %v, want 5 components", pids)
	}

	out = h.run(0, "plan", "-detailed-exitcode")
	if !strings.Contains(out, "No changes. Your cluster matches the configuration.") {
		t.Fatalf("second plan:\n%s", out)
	}
	out = h.run(0, "apply", "-auto-approve")
	if !strings.Contains(out, "No changes.") {
		t.Fatalf("second apply:\n%s", out)
	}
	js := h.run(0, "apply", "-json", "-auto-approve")
	lines := strings.Split(strings.TrimSpace(js), "\n")
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last["type"] != "change_summary" ||
		fmt.Sprint(last["changes"]) != "map[add:0 change:0 operation:apply remove:0]" {
		t.Fatalf("apply -json on an unchanged cluster:\n%s", js)
	}
	if again := observePIDs(t, file); fmt.Sprint(again) != fmt.Sprint(pids) {
		t.Fatalf("a no-op apply restarted processes: %v -> %v", pids, again)
	}

	// Move the worker to another port: exactly that component changes.
	write(ports[4])
	planFile := filepath.Join(root, "port.tfplan")
	out = h.run(2, "plan", "-detailed-exitcode", "-out", planFile)
	if !strings.Contains(out, "# worker.llm will be updated in-place") ||
		!strings.Contains(out, fmt.Sprintf(`~ port                 = %d -> %d`, ports[2], ports[4])) ||
		!strings.Contains(out, "Plan: 0 to add, 1 to change, 0 to destroy.") {
		t.Fatalf("port-change plan:\n%s", out)
	}
	if st, err := os.Stat(planFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("plan file: %v %v", st, err)
	}
	js = h.run(2, "plan", "-json", "-detailed-exitcode")
	var kinds []string
	sc := bufio.NewScanner(strings.NewReader(js))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("-json line %q: %v", sc.Text(), err)
		}
		kinds = append(kinds, fmt.Sprint(m["type"]))
	}
	if strings.Join(kinds, ",") != "version,planned_change,change_summary" {
		t.Errorf("-json types %v:\n%s", kinds, js)
	}
	out = h.run(0, "apply", planFile)
	if !strings.Contains(out, "Resources: 0 added, 1 changed, 0 destroyed.") {
		t.Fatalf("apply plan file:\n%s", out)
	}
	after := observePIDs(t, file)
	for _, a := range []string{"controller.c1", "controller.c2", "webserver", "apiserver"} {
		if after[a] != pids[a] {
			t.Errorf("%s restarted by a worker port change (pid %d -> %d)", a, pids[a], after[a])
		}
	}
	// The saved plan is now stale: the cluster changed since.
	out = h.run(1, "apply", planFile)
	if !strings.Contains(out, "can no longer be applied") || !strings.Contains(out, "worker.llm on local was redeployed") {
		t.Fatalf("stale plan not refused clearly:\n%s", out)
	}

	// A controller setting: both controllers roll, one at a time.
	ctlTimeout = 70
	write(ports[4])
	out = h.run(0, "apply", "-auto-approve")
	done1, start2 := strings.Index(out, "controller.c1: Modifications complete"), strings.Index(out, "controller.c2: Modifying...")
	if !strings.Contains(out, "Resources: 0 added, 2 changed, 0 destroyed.") || done1 < 0 || start2 < done1 {
		t.Fatalf("controllers not rolled one at a time:\n%s", out)
	}
	after = observePIDs(t, file)

	if version == "0.6.3" {
		// The registry table dropped under running controllers: they still
		// say ok on /api/health but answer 500; plan creates the table and
		// repairs exactly them, apply recreates the table first, workers
		// come back by heartbeat.
		db, err := sql.Open("sqlite", filepath.Join(root, "registry.db"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("DROP TABLE dbgpt_cluster_registry_instance"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		out = h.run(2, "plan", "-detailed-exitcode")
		if !strings.Contains(out, "# controller.c1 will be updated in-place (unhealthy: ") ||
			!strings.Contains(out, "registry table missing") ||
			!strings.Contains(out, "# registry will be created (table absent)") ||
			!strings.Contains(out, "Plan: 1 to add, 2 to change, 0 to destroy.") {
			t.Fatalf("plan with the registry table gone:\n%s", out)
		}
		out = h.run(0, "apply", "-auto-approve")
		if !strings.Contains(out, "Resources: 1 added, 2 changed, 0 destroyed.") {
			t.Fatalf("apply with the registry table gone:\n%s", out)
		}
		h.run(0, "plan", "-detailed-exitcode")
		after = observePIDs(t, file)
	}

	// Without a terminal and without -auto-approve, apply refuses.
	write(ports[2])
	out = h.run(1, "apply")
	if !strings.Contains(out, "auto-approve") {
		t.Fatalf("apply without approval:\n%s", out)
	}

	out = h.run(0, "destroy", "-auto-approve")
	if !strings.Contains(out, "Destroy complete! Resources: 5 destroyed.") {
		t.Fatalf("destroy:\n%s", out)
	}
	for a, pid := range after {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("%s (pid %d) still runs after destroy", a, pid)
		}
	}
	// Nothing is left but the webserver's own metadata database, which
	// destroy keeps unless purging (as the registry).
	var left []string
	filepath.WalkDir(filepath.Join(root, "deploy"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			left = append(left, rel)
		}
		return nil
	})
	meta := "dbgpt.db" // 0.6: LOCAL_DB_NAME
	if version != "0.6.3" {
		meta = "dbgpt-meta.db"
	}
	keep := []string{"deploy/local-e2e/webserver/.hactl-owner", "deploy/local-e2e/webserver/data/README", "deploy/local-e2e/webserver/data/" + meta}
	if !strings.Contains(out, "webserver: data kept in "+filepath.Join(root, "deploy/local-e2e/webserver/data")+" on local") {
		t.Errorf("destroy does not say where it kept the webserver's data:\n%s", out)
	}
	if !slices.Equal(left, keep) {
		t.Errorf("left under the deploy dir after destroy: %v, want %v", left, keep)
	}
	// The registry data is kept, every row unhealthy.
	db, err := sql.Open("sqlite", filepath.Join(root, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var total, healthy int
	if err := db.QueryRow("SELECT COUNT(*), COALESCE(SUM(healthy), 0) FROM dbgpt_cluster_registry_instance").Scan(&total, &healthy); err != nil {
		t.Fatal(err)
	}
	if total == 0 || healthy != 0 {
		t.Errorf("after destroy: %d registry rows, %d healthy; want rows kept, none healthy", total, healthy)
	}
	out = h.run(0, "destroy", "-auto-approve")
	if !strings.Contains(out, "No hactl component is deployed") {
		t.Errorf("second destroy:\n%s", out)
	}
	// Destroy keeps the registry: a new plan counts only the components.
	out = h.run(2, "plan", "-detailed-exitcode")
	if !strings.Contains(out, "Plan: 5 to add, 0 to change, 0 to destroy.") || strings.Contains(out, "# registry") {
		t.Errorf("plan after destroy:\n%s", out)
	}
	// A foreign table of that name: plan refuses it and alters nothing.
	if _, err := db.Exec("DROP TABLE dbgpt_cluster_registry_instance"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE dbgpt_cluster_registry_instance (id INTEGER PRIMARY KEY, note TEXT)"); err != nil {
		t.Fatal(err)
	}
	out = h.run(1, "plan")
	if !strings.Contains(out, "lacks the columns model_name") || !strings.Contains(out, "hactl will not alter it") {
		t.Errorf("plan with a foreign registry table:\n%s", out)
	}
}
