package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/test/e2e/testcluster"
)

// A server block removed from the file, on real SSH hosts: server "extra"
// (server3's machine, a deploy directory of its own) with a worker; once
// its block and worker are gone from the file, plan shows the worker as
// destroy (the cluster record remembers the server), apply removes it and
// its process is gone from the host.
func TestSSHRemovedServerRemembered(t *testing.T) {
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
	p.WithoutGLM, p.NoDefaultModels = true, true
	base := string(testcluster.HAClusterFile(p))
	extra := fmt.Sprintf(`
server "extra" {
  address    = %q
  deploy_dir = "/opt/hactl/extra"
}

worker "text2vec-b" {
  server             = server.extra
  model              = model.text2vec
  port               = 8005
  heartbeat_interval = 2
}
`, tc.IP("server3"))
	file := filepath.Join(dir, "cluster.hcl")
	write := func(src string) {
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(base + extra)
	h := &hactlCLI{t: t, bin: bin, dir: dir, env: []string{"HACTL_VAR_registry_password=" + tc.DBPassword}}
	t.Cleanup(func() { h.run(cmdTimeout, "destroy", "-auto-approve") })

	h.must(0, cmdTimeout, "apply", "-auto-approve")
	wdir := "/opt/hactl/extra/e2e/worker.text2vec-b"
	pid := strings.TrimSpace(mustExec(t, tc, "server3", "cat "+wdir+"/child.pid"))

	write(base)
	r := h.must(2, cmdTimeout, "plan", "-detailed-exitcode")
	if got := planTargets(r.Stdout); len(got) != 1 || got[0] != "worker.text2vec-b" || !strings.Contains(r.Stdout, "# worker.text2vec-b will be destroyed") {
		t.Fatalf("plan without the server block:\n%s", r)
	}
	h.must(0, cmdTimeout, "apply", "-auto-approve")
	eventually(t, time.Minute, 200*time.Millisecond, "the removed worker's process to go", func() error {
		if out, err := tc.Exec("server3", "grep -v '^[^)]*) Z' /proc/"+pid+"/stat"); err == nil {
			return fmt.Errorf("still running: %s", out)
		}
		return nil
	})
	if out, _ := tc.Exec("server3", "ls -d /opt/hactl/extra 2>&1"); !strings.Contains(out, "No such file") {
		t.Errorf("the removed server's deploy directory: %s", out)
	}
	if r := h.must(0, cmdTimeout, "plan", "-detailed-exitcode"); !strings.Contains(r.Stdout, "No changes.") {
		t.Errorf("plan after the removal:\n%s", r)
	}
}
