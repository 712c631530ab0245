package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/test/e2e/testcluster"
)

// The playbook creates the table exactly as hactl does.
func TestAnsibleRegistryDDL(t *testing.T) {
	got, err := ansibleFiles.ReadFile("ansible/templates/registry-table.sql")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimRight(string(got), "\n") != dbgpt.MySQLRegistryDDL {
		t.Errorf("bench/ansible/templates/registry-table.sql differs from dbgpt.MySQLRegistryDDL:\n%s", got)
	}
}

// The scratch files: secrets only in 0600 files, never in the inventory.
func TestAnsiblePrepare(t *testing.T) {
	c := haAnsibleCluster(t.TempDir()+"/x", map[string]string{"server1": "10.0.0.1", "server2": "10.0.0.2", "server3": "10.0.0.3"},
		"/k", "/kh", "10.0.0.9", "s3cr\"t\\")
	if err := c.prepare(); err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]bool{"inventory.yml": false, "vars.yml": true, "my.cnf": true, "ansible-tuned.cfg": false} {
		fi, err := os.Stat(filepath.Join(c.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, fi.Mode().Perm())
		}
		data, _ := os.ReadFile(filepath.Join(c.Dir, name))
		if has := strings.Contains(string(data), "s3cr"); has != secret {
			t.Errorf("%s: holds the password: %v, want %v", name, has, secret)
		}
	}
	cnf, _ := os.ReadFile(filepath.Join(c.Dir, "my.cnf"))
	if !strings.Contains(string(cnf), `password="s3cr\"t\\"`) {
		t.Errorf("my.cnf does not quote the password:\n%s", cnf)
	}
	cfg, _ := os.ReadFile(filepath.Join(c.Dir, "ansible-tuned.cfg"))
	if !strings.Contains(string(cfg), "forks = 5\n") {
		t.Errorf("tuned forks for 5 hosts:\n%s", cfg)
	}
	var vars map[string]any
	data, _ := os.ReadFile(filepath.Join(c.Dir, "vars.yml"))
	if err := json.Unmarshal(data, &vars); err != nil {
		t.Fatal(err)
	}
	if vars["default_llm"] != "glm-4-9b-chat" || vars["default_embedding"] != "text2vec" ||
		vars["controller_addr"] != "http://10.0.0.1:8000,http://10.0.0.2:8000" {
		t.Errorf("vars: %v", vars)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "playbook", "templates", "start.sh.j2")); err != nil {
		t.Error(err)
	}
}

func TestAnsibleRecap(t *testing.T) {
	out := "PLAY RECAP *****\n" +
		"controller-server1         : ok=9    changed=5    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0\n" +
		"localhost                  : ok=1    changed=1    unreachable=1    failed=2    skipped=0    rescued=0    ignored=0\n"
	var r AnsibleRun
	r.count(out)
	if r.OK != 10 || r.Changed != 6 || r.Unreachable != 1 || r.Failed != 2 {
		t.Errorf("%+v", r)
	}
}

// treePSS counts a child's memory with its parent's.
func TestAnsibleTreePSS(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	self, child := treePSS(os.Getpid()), treePSS(cmd.Process.Pid)
	if child <= 0 || self <= child {
		t.Errorf("tree PSS: this process's tree %d bytes, the child's %d", self, child)
	}
}

// haAnsibleCluster is the HA guide's topology on servers (server1..3 →
// address): controllers on server1 and server2, both workers and the
// webserver on server3.
func haAnsibleCluster(dir string, servers map[string]string, key, knownHosts, db, password string) AnsibleCluster {
	h := func(n string) AnsibleHost { return AnsibleHost{Name: n, Address: servers[n]} }
	return AnsibleCluster{
		Dir: dir, KeyPath: key, KnownHostsPath: knownHosts,
		Controllers: []AnsibleHost{h("server1"), h("server2")},
		Workers: []AnsibleWorker{
			{Host: h("server3"), Name: "glm-4-9b-chat", Model: "glm-4-9b-chat", ModelPath: "/app/models/glm-4-9b-chat", ModelType: "llm", Port: 8001},
			{Host: h("server3"), Name: "text2vec", Model: "text2vec", ModelPath: "/app/models/text2vec-large-chinese", ModelType: "text2vec", Port: 8003},
		},
		Webserver: h("server3"),
		DB:        AnsibleDB{Host: db, Port: testcluster.DBPort, User: testcluster.DBUser, Password: password, Database: testcluster.Database},
		DBGPT:     testcluster.DBGPTPath,
		DeployDir: "/opt/ansible-bench",
		// As the lead's benchmark runs hactl.
		HeartbeatInterval: 20, HeartbeatTimeout: 60,
	}
}

// TestAnsiblePlaybook runs the playbook on a test cluster: cold (every
// component healthy), again (nothing changed), tuned (nothing changed),
// teardown (no process, no directory, no table).
func TestAnsiblePlaybook(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook is not installed (make bench-full installs it)")
	}
	tc := testcluster.Start(t, testcluster.Options{})
	for _, h := range testcluster.Hosts {
		if _, err := tc.SSH(h, "command -v python3", nil); err != nil {
			t.Fatalf("%s has no python3, which Ansible's modules need on the target (test/images/host/Dockerfile): %v", h, err)
		}
	}
	servers := map[string]string{}
	for _, h := range testcluster.Hosts {
		servers[h] = tc.IP(h)
	}
	c := haAnsibleCluster(filepath.Join(t.TempDir(), "ansible"), servers, tc.KeyPath, tc.KnownHostsPath, tc.IP(testcluster.DBHost), tc.DBPassword)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	t.Cleanup(func() { c.closeMasters(context.Background()) })

	run := func(name string, tuned bool) AnsibleRun {
		t.Helper()
		r, err := RunAnsible(ctx, c, tuned)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(r.Output, tc.DBPassword) {
			t.Fatalf("%s: the output holds the database password", name)
		}
		t.Logf("%s: %s, ok=%d changed=%d, peak PSS %d MB", name,
			r.Elapsed.Round(10*time.Millisecond), r.OK, r.Changed, r.PeakPSS>>20)
		if r.PeakPSS <= 0 {
			t.Errorf("%s: peak PSS not measured", name)
		}
		return r
	}
	pids := func() string {
		out, err := tc.SSH(testcluster.Server1, "cat /opt/ansible-bench/controller-server1/pid", nil)
		if err != nil {
			t.Fatal(err)
		}
		o3, err := tc.SSH(testcluster.Server3, "cat /opt/ansible-bench/*/pid", nil)
		if err != nil {
			t.Fatal(err)
		}
		return out + o3
	}

	// The benchmark tears down before each cold run: also on fresh hosts.
	if err := TeardownAnsible(ctx, c); err != nil {
		t.Fatalf("teardown of nothing: %v", err)
	}
	cold := run("cold", false)
	if cold.Changed == 0 || cold.Failed != 0 {
		t.Errorf("cold run: changed=%d failed=%d", cold.Changed, cold.Failed)
	}
	checkHealthy(t, tc, c)
	for _, h := range testcluster.Hosts {
		ps := tc.MustSSH(h, "ps -eo args")
		if strings.Contains(ps, tc.DBPassword) {
			t.Errorf("%s: the password is on a command line:\n%s", h, ps)
		}
		if out := tc.MustSSH(h, "find /opt/ansible-bench -name '*env' -perm /077"); strings.TrimSpace(out) != "" {
			t.Errorf("%s: env files readable by others: %s", h, out)
		}
	}
	before := pids()

	again := run("no-op", false)
	tuned := run("no-op tuned", true)
	for _, r := range []AnsibleRun{again, tuned} {
		if r.Changed != 0 {
			t.Errorf("a second run changed %d things:\n%s", r.Changed, r.Output)
		}
	}
	if after := pids(); after != before {
		t.Errorf("a no-op run restarted processes: pids %q, then %q", before, after)
	}
	checkHealthy(t, tc, c)

	// A changed setting restarts the components it is part of, and only them.
	ctlPID := func(h string) string { return tc.MustSSH(h, "cat /opt/ansible-bench/controller-"+h+"/pid") }
	workerPIDs := func() string { return tc.MustSSH(testcluster.Server3, "cat /opt/ansible-bench/*/pid") }
	c1, w1 := ctlPID(testcluster.Server1), workerPIDs()
	c.HeartbeatTimeout = 61
	if r, err := RunAnsible(ctx, c, true); err != nil || r.Changed != 2*3 {
		t.Errorf("heartbeat timeout changed: want changed=6 (each controller: start script, stop, start), got %d, %v\n%s", r.Changed, err, r.Output)
	}
	if c2, w2 := ctlPID(testcluster.Server1), workerPIDs(); c2 == c1 || w2 != w1 {
		t.Errorf("after a change of the controllers' settings: controller pid %s → %s (want another), workers' %q → %q (want the same)", c1, c2, w1, w2)
	}
	checkHealthy(t, tc, c)

	if err := TeardownAnsible(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, h := range testcluster.Hosts {
		if out, _ := tc.SSH(h, "pgrep -a dbgpt; ls -d /opt/ansible-bench/* 2>/dev/null", nil); strings.TrimSpace(out) != "" {
			t.Errorf("%s after teardown:\n%s", h, out)
		}
	}
	db := tc.DB()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'dbgpt' AND table_name = ?", dbgpt.RegistryTable).Scan(&n); err != nil || n != 0 {
		t.Errorf("registry table after teardown: %d (%v)", n, err)
	}
}

// checkHealthy asks both controllers for the registry: both workers' rows
// (the model's and WorkerManager's) healthy at their address; and the
// webserver answers /api/health.
func checkHealthy(t *testing.T, tc *testcluster.Cluster, c AnsibleCluster) {
	t.Helper()
	cl := tc.HTTPClient()
	for _, ctl := range c.Controllers {
		var rows []dbgpt.Instance
		if err := getJSON(cl, "http://"+ctl.Address+":8000/api/controller/models", &rows); err != nil {
			t.Errorf("controller %s: %v", ctl.Name, err)
			continue
		}
		for _, w := range c.Workers {
			for _, name := range []string{w.Model + "@" + w.ModelType, dbgpt.WorkerManagerModelName} {
				ok := false
				for _, r := range rows {
					ok = ok || r.ModelName == name && r.Host == w.Host.Address && r.Port == w.Port && r.Healthy
				}
				if !ok {
					t.Errorf("controller %s: no healthy %s at %s:%d in %+v", ctl.Name, name, w.Host.Address, w.Port, rows)
				}
			}
		}
	}
	var health struct{ Status string }
	if err := getJSON(cl, "http://"+c.Webserver.Address+":5670/api/health", &health); err != nil || health.Status != "ok" {
		t.Errorf("webserver /api/health: %+v, %v", health, err)
	}
}

func getJSON(cl *http.Client, url string, v any) error {
	resp, err := cl.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, body)
	}
	return json.Unmarshal(body, v)
}
