package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/status"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/test/e2e/testcluster"
)

// TestSSHCluster is issue 4's "Must show" 1–6 on the test cluster, in both
// DB-GPT generations, driving the built hactl binary: the guide's topology
// planned and applied, verified through both controllers; a second plan and
// apply change nothing; a worker's port change touches that worker only and
// leaves its old registration stale; a removed worker is destroyed; no
// password on any command line and settings files holding it are 0600;
// status with one controller's host paused; destroy leaves nothing behind.
func TestSSHCluster(t *testing.T) {
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip")
	}
	bin := hactlBinary(t)
	// The two generations have test clusters of their own: they run side
	// by side (most of their time is waiting on heartbeats).
	for _, version := range []string{"0.6.3", "0.7.0"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			sshScenario(t, bin, version)
		})
	}
}

const (
	deployDir    = "/opt/hactl/e2e"
	cmdTimeout   = 3 * time.Minute
	statusTimout = 2 * time.Minute
)

func sshScenario(t *testing.T, bin, version string) {
	start := time.Now()
	gen := schema.GenerationFlags
	if strings.HasPrefix(version, "0.7") {
		gen = schema.GenerationTOML
	}
	tc := testcluster.Start(t, testcluster.Options{Generation: gen, SimVersion: version, SimEnv: map[string]string{
		// DB-GPT's WorkerManager@service row beats every 20 s whatever the
		// worker's heartbeat_interval; with the tests' 6 s timeout it must
		// beat as often as the model row.
		"DBGPT_SIM_MANAGER_HEARTBEAT": "2s",
		"DBGPT_SIM_PROBE_INTERVAL":    "1s",
		"DBGPT_SIM_LOAD_DELAY":        "200ms",
	}})
	t.Logf("test cluster up after %s", time.Since(start).Round(time.Millisecond))

	dir := t.TempDir()
	p := tc.HAParams()
	p.DeployDir, p.HeartbeatInterval, p.HeartbeatTimeout, p.ConnectTimeout = deployDir, 2, 6, "3s"
	p.NoDefaultModels = true // stage 4 removes the glm-4-9b-chat worker
	password := tc.DBPassword
	file := filepath.Join(dir, "cluster.hcl")
	write := func() {
		t.Helper()
		if err := os.WriteFile(file, testcluster.HAClusterFile(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write()
	h := &hactlCLI{t: t, bin: bin, dir: dir, env: []string{"HACTL_VAR_registry_password=" + password}}

	before := map[string][]string{}
	for _, s := range testcluster.Hosts {
		before[s] = hactlFiles(t, tc, s)
	}
	s3 := p.Servers["server3"]
	bothControllers := []string{"controller.controller1", "controller.controller2"}

	// 1. The guide's topology: plan, apply, both models live through both controllers.
	step(t, "1-plan-apply-status", func(t *testing.T) {
		r := h.must(2, cmdTimeout, "plan", "-detailed-exitcode")
		t.Logf("first plan:\n%s", r.Stdout)
		// Six resources: the registry table (the test cluster's MariaDB has
		// the database, not the table: observed through server1's SSH
		// connection), 2 controllers, 2 workers, the webserver.
		if got := planSummary(r.Stdout); got != "Plan: 6 to add, 0 to change, 0 to destroy." {
			t.Fatalf("first plan: summary %q\n%s", got, r)
		}
		want := []string{"controller.controller1", "controller.controller2", "registry", "webserver", "worker.glm-4-9b-chat", "worker.text2vec"}
		if got := planTargets(r.Stdout); !slices.Equal(got, want) {
			t.Fatalf("first plan acts on %v, want %v\n%s", got, want, r)
		}
		for _, line := range []string{"# registry will be created (table absent)", `+ registry "mysql" {`,
			"# (table dbgpt_cluster_registry_instance will be created in database dbgpt)", "password = (sensitive)"} {
			if !strings.Contains(r.Stdout, line) {
				t.Errorf("first plan lacks %q:\n%s", line, r)
			}
		}
		r = h.must(0, cmdTimeout, "apply", "-auto-approve")
		if !strings.Contains(r.Stdout, "registry: Creation complete after") ||
			!strings.Contains(r.Stdout, "Resources: 6 added, 0 changed, 0 destroyed.") {
			t.Errorf("first apply:\n%s", r)
		}
		rep := h.status()
		for _, c := range rep.Components {
			if c.State != status.StateRunning || c.PID == 0 {
				t.Errorf("%s: state %s pid %d: %s", c.Name, c.State, c.PID, c.Reason)
			}
		}
		if len(rep.Components) != 5 {
			t.Errorf("status shows %d components, want 5", len(rep.Components))
		}
		expectLive(t, rep, "glm-4-9b-chat", "llm", s3, 8001, bothControllers)
		expectLive(t, rep, "text2vec", "text2vec", s3, 8003, bothControllers)
		expectLive(t, rep, "WorkerManager", "service", s3, 8001, bothControllers)
		// Text output says the same, aligned like dbgpt model list.
		txt := h.must(0, statusTimout, "status").Stdout
		t.Logf("hactl status:\n%s", txt)
		for _, s := range []string{"Models (through controller.controller1, controller.controller2)", "glm-4-9b-chat", "text2vec"} {
			if !strings.Contains(txt, s) {
				t.Errorf("status text lacks %q:\n%s", s, txt)
			}
		}
	})

	// 2. Nothing to do the second time; no process restarted.
	step(t, "2-idempotent", func(t *testing.T) {
		r := h.must(0, cmdTimeout, "plan", "-detailed-exitcode")
		if !strings.Contains(r.Stdout, "No changes. Your cluster matches the configuration.") {
			t.Fatalf("second plan:\n%s", r)
		}
		pids := componentPIDs(t, h.status())
		r = h.must(0, cmdTimeout, "apply", "-auto-approve")
		if !strings.Contains(r.Stdout, "No changes") {
			t.Errorf("second apply does not say No changes:\n%s", r)
		}
		after := componentPIDs(t, h.status())
		if fmt.Sprint(after) != fmt.Sprint(pids) {
			t.Fatalf("a no-op apply changed pids: %v -> %v", pids, after)
		}
		// logs: the last lines of a component's log, by bare name too.
		r = h.must(0, statusTimout, "logs", "controller1", "-n", "5")
		if n := strings.Count(strings.TrimRight(r.Stdout, "\n"), "\n") + 1; r.Stdout == "" || n > 5 {
			t.Errorf("logs -n 5 gave %d lines:\n%s", n, r)
		}
		r = h.must(1, statusTimout, "logs", "worker.nosuch")
		if !strings.Contains(r.Stderr, `component "worker.nosuch" is not deployed; deployed: controller.controller1, controller.controller2, webserver, worker.glm-4-9b-chat, worker.text2vec`) {
			t.Errorf("logs of an unknown component:\n%s", r)
		}
		// The pids are real processes on their hosts.
		for name, pid := range pids {
			srv := map[string]string{"controller.controller1": "server1", "controller.controller2": "server2"}[name]
			if srv == "" {
				srv = "server3"
			}
			role := strings.SplitN(name, ".", 2)[0]
			if args := mustExec(t, tc, srv, "ps -o args= -p "+strconv.Itoa(pid)); !strings.Contains(args, "dbgpt") || !strings.Contains(args, "start "+role) {
				t.Errorf("%s: pid %d on %s is %q, not its dbgpt process", name, pid, srv, strings.TrimSpace(args))
			}
		}
	})

	// 2b. hactl drill (issue 11): each controller stopped in turn, a worker
	// killed, a drill interrupted; nothing left down.
	step(t, "2b-drill", func(t *testing.T) {
		drillHA(t, h, "text2vec", p.HeartbeatInterval, p.HeartbeatTimeout)
	})

	// 3. Move one worker: only it changes; its old registration turns stale.
	step(t, "3-port-change", func(t *testing.T) {
		p.Text2VecPort = 8004
		write()
		r := h.must(2, cmdTimeout, "plan", "-detailed-exitcode")
		t.Logf("port-change plan:\n%s", r.Stdout)
		if got := planTargets(r.Stdout); !slices.Equal(got, []string{"worker.text2vec"}) {
			t.Fatalf("port-change plan acts on %v, want only worker.text2vec\n%s", got, r)
		}
		if !strings.Contains(r.Stdout, `8003 -> 8004`) {
			t.Errorf("port-change plan does not show the port change:\n%s", r)
		}
		h.must(0, cmdTimeout, "apply", "-auto-approve")
		h.must(0, cmdTimeout, "plan", "-detailed-exitcode")
		rep := h.status()
		expectLive(t, rep, "text2vec", "text2vec", s3, 8004, bothControllers)
		expectLive(t, rep, "glm-4-9b-chat", "llm", s3, 8001, bothControllers)
		old := modelRows(rep, "text2vec", "text2vec", s3, 8003)
		if len(old) == 0 {
			t.Fatalf("the old registration at %s:8003 is not shown\n%+v", s3, rep.Models)
		}
		for _, m := range old {
			if m.Live || !m.StaleRegistration || !strings.Contains(m.State, "stale") {
				t.Errorf("old registration at :8003 shown as %q (live %v)", m.State, m.Live)
			}
		}
	})

	// 3b. Move that worker to server2: a replace, shown as Terraform shows
	// create_before_destroy (+/-), the new copy live before the old goes.
	step(t, "3b-move-worker", func(t *testing.T) {
		before, ok := componentByName(h.status(), "worker.text2vec")
		if !ok || before.PID == 0 {
			t.Fatalf("worker.text2vec not running before the move: %+v", before)
		}
		// server2 needs the model's files first: pre-flight refuses a move
		// onto a server without them.
		mustExec(t, tc, "server2", "mkdir -p /app/models/text2vec-large-chinese")
		defer mustExec(t, tc, "server2", "rm -rf /app/models/text2vec-large-chinese")
		p.Text2VecServer = "server2"
		write()
		r := h.must(2, cmdTimeout, "plan", "-detailed-exitcode")
		if !strings.Contains(r.Stdout, "# worker.text2vec must be replaced (server changed)") ||
			!strings.Contains(r.Stdout, `+/- worker "text2vec" {`) ||
			!strings.Contains(r.Stdout, `~ server`) || !strings.Contains(r.Stdout, "# forces replacement") ||
			planSummary(r.Stdout) != "Plan: 1 to add, 0 to change, 1 to destroy." {
			t.Fatalf("move plan:\n%s", r)
		}
		h.must(0, cmdTimeout, "apply", "-auto-approve")
		h.must(0, cmdTimeout, "plan", "-detailed-exitcode")
		expectLive(t, h.status(), "text2vec", "text2vec", p.Servers["server2"], 8004, bothControllers)
		if out, err := tc.Exec("server3", "kill -0 "+strconv.Itoa(before.PID)); err == nil {
			t.Errorf("the old worker (pid %d) still runs on server3: %s", before.PID, out)
		}
		p.Text2VecServer = "server3" // back where the later steps expect it
		write()
		h.must(0, cmdTimeout, "apply", "-auto-approve")
		expectLive(t, h.status(), "text2vec", "text2vec", s3, 8004, bothControllers)
	})

	// 4. Remove a worker: one destroy, its process gone from server3.
	step(t, "4-remove-worker", func(t *testing.T) {
		glm, ok := componentByName(h.status(), "worker.glm-4-9b-chat")
		if !ok || glm.PID == 0 {
			t.Fatalf("worker.glm-4-9b-chat not running before removal: %+v", glm)
		}
		p.WithoutGLM = true
		write()
		r := h.must(2, cmdTimeout, "plan", "-detailed-exitcode")
		if got := planSummary(r.Stdout); got != "Plan: 0 to add, 0 to change, 1 to destroy." {
			t.Fatalf("removal plan: summary %q\n%s", got, r)
		}
		if got := planTargets(r.Stdout); !slices.Equal(got, []string{"worker.glm-4-9b-chat"}) {
			t.Fatalf("removal plan acts on %v\n%s", got, r)
		}
		h.must(0, cmdTimeout, "apply", "-auto-approve")
		if out, err := tc.Exec("server3", "kill -0 "+strconv.Itoa(glm.PID)); err == nil {
			t.Errorf("worker pid %d still alive on server3: %s", glm.PID, out)
		}
		if out, _ := tc.Exec("server3", "ls -R "+deployDir); strings.Contains(out, "worker.glm-4-9b-chat") {
			t.Errorf("worker directory left on server3: %s", out)
		}
		rep := h.status()
		if _, ok := componentByName(rep, "worker.glm-4-9b-chat"); ok {
			t.Errorf("status still lists worker.glm-4-9b-chat")
		}
		for _, m := range modelRows(rep, "glm-4-9b-chat", "llm", s3, 8001) {
			if m.Live {
				t.Errorf("removed worker's row still live: %+v", m)
			}
		}
	})

	// 5. The password on no command line; files holding it are 0600.
	step(t, "5-secrets", func(t *testing.T) {
		holders := 0
		for _, s := range testcluster.Hosts {
			ps := mustExec(t, tc, s, "ps -eww -o args=")
			if strings.Contains(ps, password) {
				t.Errorf("%s: the registry password is on a command line:\n%s", s, ps)
			}
		}
		for _, s := range testcluster.Hosts {
			// the password reaches grep on stdin, not as an argument
			out, err := tc.SSH(s, "grep -rlF -D skip -f /dev/stdin /opt /etc /root /tmp /var/tmp /var/log /run 2>/dev/null | xargs -r stat -c '%a %U %n'", []byte(password+"\n"))
			if err != nil && strings.TrimSpace(out) != "" {
				t.Fatalf("%s: %v\n%s", s, err, out)
			}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if line == "" {
					continue
				}
				holders++
				t.Logf("%s: holds the password: %s", s, line)
				if !strings.HasPrefix(line, "600 ") {
					t.Errorf("%s: file holding the password is not mode 0600: %s", s, line)
				}
			}
		}
		// Nor in anything hactl printed so far (plans, applies, status, logs).
		for _, r := range h.outputs {
			if strings.Contains(r.Stdout, password) || strings.Contains(r.Stderr, password) {
				t.Errorf("the registry password shows in the output of hactl %s", strings.Join(r.Args, " "))
			}
		}
		if holders < 2 {
			t.Errorf("found the password in %d settings files, want at least one per controller", holders)
		}
	})

	// A worker process that dies is restarted by hactl's supervisor; status
	// counts the restart and shows the new pid.
	step(t, "status-restarts", func(t *testing.T) {
		before, _ := componentByName(h.status(), "worker.text2vec")
		mustExec(t, tc, testcluster.Server3, "kill -9 "+strconv.Itoa(before.PID))
		eventually(t, 60*time.Second, time.Second, "worker.text2vec restarted and live", func() error {
			rep := h.status()
			c, _ := componentByName(rep, "worker.text2vec")
			if c.State != status.StateRunning || c.PID == before.PID || c.Restarts == nil || before.Restarts == nil || *c.Restarts != *before.Restarts+1 {
				return fmt.Errorf("worker.text2vec %s pid %d restarts %s (before: pid %d restarts %s): %s", c.State, c.PID, known(c.Restarts), before.PID, known(before.Restarts), c.Reason)
			}
			return nil
		})
	})

	// Status with server1 paused: the models are still listed through server2.
	step(t, "status-one-controller-down", func(t *testing.T) {
		if err := tc.Pause(testcluster.Server1); err != nil {
			t.Fatal(err)
		}
		pausedAt := time.Now()
		paused := true
		defer func() {
			if paused {
				tc.Unpause(testcluster.Server1)
			}
		}()
		var rep *status.Report
		// The guide's promise: the worker fails over to controller2 and keeps
		// its rows fresh there (a heartbeat sent after the pause), and the
		// webserver sees the models through controller2.
		eventually(t, 90*time.Second, time.Second, "text2vec heartbeating through controller2 with server1 paused", func() error {
			rep = h.status("--timeout", "2s")
			if rep.ModelsSource != status.SourceControllers {
				return fmt.Errorf("models from %q", rep.ModelsSource)
			}
			for _, c := range rep.Controllers {
				if c.Name == "controller.controller1" && c.Answered {
					return fmt.Errorf("controller1 answered while server1 is paused")
				}
				if c.Name == "controller.controller2" && !c.Answered {
					return fmt.Errorf("controller2 did not answer: %s", c.Error)
				}
			}
			rows := modelRows(rep, "text2vec", "text2vec", s3, 8004)
			if len(rows) == 0 || !rows[0].Live || !slices.Equal(rows[0].Via, []string{"controller.controller2"}) {
				return fmt.Errorf("text2vec rows %+v", rows)
			}
			if age, since := rows[0].HeartbeatAgeSeconds, time.Since(pausedAt); age == nil || time.Duration(*age)*time.Second > since-2*time.Second {
				return fmt.Errorf("text2vec's last heartbeat is %s s old: from before the pause %s ago", known(age), since.Round(time.Second))
			}
			for _, name := range []string{"worker.text2vec", "webserver", "controller.controller2"} {
				if c, _ := componentByName(rep, name); c.State != status.StateRunning {
					return fmt.Errorf("%s %s: %s", name, c.State, c.Reason)
				}
			}
			return nil
		})
		t.Logf("failed over %s after the pause", time.Since(pausedAt).Round(time.Second))
		t.Logf("hactl status with server1 paused:\n%s", h.must(0, statusTimout, "status", "--timeout", "2s").Stdout)
		if c, _ := componentByName(rep, "controller.controller1"); c.State == status.StateRunning {
			t.Errorf("controller1 shown running while its host is paused: %+v", c)
		}
		if err := tc.Unpause(testcluster.Server1); err != nil {
			t.Fatal(err)
		}
		paused = false
		eventually(t, 60*time.Second, time.Second, "cluster healthy again after unpause", func() error {
			rep := h.status()
			for _, c := range rep.Components {
				if c.State != status.StateRunning {
					return fmt.Errorf("%s %s: %s", c.Name, c.State, c.Reason)
				}
			}
			return nil
		})
	})

	// Both controller processes frozen (their hosts still up): status reads
	// the registry database itself and says so.
	step(t, "status-no-controller-answers", func(t *testing.T) {
		pids := componentPIDs(t, h.status())
		hosts := map[string]string{"controller.controller1": testcluster.Server1, "controller.controller2": testcluster.Server2}
		for name, host := range hosts {
			mustExec(t, tc, host, "kill -STOP "+strconv.Itoa(pids[name]))
		}
		defer func() {
			for name, host := range hosts {
				tc.Exec(host, "kill -CONT "+strconv.Itoa(pids[name]))
			}
		}()
		rep := h.status("--timeout", "2s")
		if rep.ModelsSource != status.SourceDatabase {
			t.Fatalf("models source %q, want %q; notes %v", rep.ModelsSource, status.SourceDatabase, rep.Notes)
		}
		if rows := modelRows(rep, "text2vec", "text2vec", s3, 8004); len(rows) != 1 || !slices.Equal(rows[0].Via, []string{status.SourceDatabase}) {
			t.Errorf("text2vec rows read from the database: %+v", rows)
		}
		txt := h.must(0, statusTimout, "status", "--timeout", "2s").Stdout
		if !strings.Contains(txt, "Models (read from the registry database: no controller answered)") {
			t.Errorf("status text does not say where the models come from:\n%s", txt)
		}
		for name, host := range hosts {
			mustExec(t, tc, host, "kill -CONT "+strconv.Itoa(pids[name]))
		}
		eventually(t, 60*time.Second, time.Second, "cluster healthy again after SIGCONT", func() error {
			for _, c := range h.status().Components {
				if c.State != status.StateRunning {
					return fmt.Errorf("%s %s: %s", c.Name, c.State, c.Reason)
				}
			}
			return nil
		})
	})

	// Duplicate rows (sys_code is NULL, so the unique key lets them in) are flagged.
	step(t, "status-duplicate-rows", func(t *testing.T) {
		db := tc.DB()
		if _, err := db.Exec(`INSERT INTO dbgpt_cluster_registry_instance
			(model_name, host, port, weight, check_healthy, healthy, enabled, last_heartbeat)
			SELECT model_name, host, port, weight, check_healthy, healthy, enabled, last_heartbeat
			FROM dbgpt_cluster_registry_instance WHERE model_name = 'text2vec@text2vec' AND port = 8004`); err != nil {
			t.Fatal(err)
		}
		rows := modelRows(h.status(), "text2vec", "text2vec", s3, 8004)
		if len(rows) != 2 {
			t.Fatalf("want the duplicate pair, got %+v", rows)
		}
		for _, m := range rows {
			if !m.Duplicate || !strings.HasSuffix(m.State, ", duplicate") {
				t.Errorf("duplicate row not flagged: %+v", m)
			}
		}
		txt := h.must(0, statusTimout, "status").Stdout
		if !strings.Contains(txt, "live, duplicate") {
			t.Errorf("status text does not flag the duplicate:\n%s", txt)
		}
	})

	// A controller whose registry table vanished still says ok on
	// /api/health; status must call it unhealthy and say why.
	step(t, "status-registry-table-missing", func(t *testing.T) {
		db := tc.DB()
		if _, err := db.Exec("RENAME TABLE dbgpt_cluster_registry_instance TO e2e_hidden_registry"); err != nil {
			t.Fatal(err)
		}
		renamed := true
		defer func() {
			if renamed {
				db.Exec("RENAME TABLE e2e_hidden_registry TO dbgpt_cluster_registry_instance")
			}
		}()
		rep := h.status()
		for _, name := range bothControllers {
			c, _ := componentByName(rep, name)
			if c.State != status.StateUnhealthy || !strings.Contains(c.Reason, "registry table missing or database unreachable: HTTP 500") {
				t.Errorf("%s with its table gone: state %q, reason %q", name, c.State, c.Reason)
			}
		}
		if rep.ModelsSource == status.SourceControllers {
			t.Errorf("models said to come from the controllers while both answer 500")
		}
		if _, err := db.Exec("RENAME TABLE e2e_hidden_registry TO dbgpt_cluster_registry_instance"); err != nil {
			t.Fatal(err)
		}
		renamed = false
	})

	// 6. destroy leaves no hactl process or file on any host.
	step(t, "6-destroy", func(t *testing.T) {
		r := h.must(0, cmdTimeout, "destroy", "-auto-approve")
		// The registry is not destroyed: not in the destroy plan, its table
		// and rows kept.
		if strings.Contains(r.Stdout, "# registry") || !strings.Contains(r.Stdout, "Plan: 0 to add, 0 to change, 4 to destroy.") {
			t.Errorf("destroy plan:\n%s", r)
		}
		var rows int
		if err := tc.DB().QueryRow("SELECT COUNT(*) FROM dbgpt_cluster_registry_instance").Scan(&rows); err != nil || rows == 0 {
			t.Errorf("registry table after destroy: %d rows, %v", rows, err)
		}
		for _, s := range testcluster.Hosts {
			ps := mustExec(t, tc, s, "ps -eww -o args=")
			for _, line := range strings.Split(ps, "\n") {
				if strings.Contains(line, "dbgpt") || strings.Contains(line, deployDir) || strings.Contains(line, "hactl") && !strings.Contains(line, "hactl-e2e") {
					t.Errorf("%s: process left after destroy: %s", s, line)
				}
			}
			// The webserver's own metadata database is kept, like the
			// registry, until destroy --purge-registry.
			var kept []string
			if s == testcluster.Server3 {
				web, meta := deployDir+"/e2e/webserver", "/data/dbgpt.db"
				if gen == schema.GenerationTOML {
					meta = "/data/dbgpt-meta.db"
				}
				kept = []string{"/opt/hactl", deployDir, deployDir + "/e2e", web, web + "/.hactl-owner", web + "/data", web + "/data/README", web + meta}
			}
			left := newItems(before[s], hactlFiles(t, tc, s))
			slices.Sort(left)
			slices.Sort(kept)
			if !slices.Equal(left, kept) {
				t.Errorf("%s: files left after destroy: %v, want %v", s, left, kept)
			}
		}
		rep := h.status()
		if len(rep.Components) != 4 {
			t.Errorf("status after destroy: %d components, want the 4 declared ones", len(rep.Components))
		}
		for _, c := range rep.Components {
			if c.State != status.StateNotDeployed {
				t.Errorf("after destroy %s is %s", c.Name, c.State)
			}
		}
		h.must(0, cmdTimeout, "destroy", "-auto-approve", "--purge-registry")
		for _, s := range testcluster.Hosts {
			if left := newItems(before[s], hactlFiles(t, tc, s)); len(left) > 0 {
				t.Errorf("%s: files left after destroy --purge-registry: %v", s, left)
			}
		}
	})
	t.Logf("generation %s: %s", version, time.Since(start).Round(time.Second))
}

// step runs one stage; a failed stage stops the scenario (later stages build on it).
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if t.Failed() {
		t.Logf("skipping %s: an earlier stage failed", name)
		return
	}
	start := time.Now()
	ok := t.Run(name, f)
	t.Logf("%s: %s", name, time.Since(start).Round(time.Millisecond))
	if !ok {
		t.FailNow()
	}
}

func expectLive(t *testing.T, rep *status.Report, name, typ, host string, port int, via []string) {
	t.Helper()
	rows := modelRows(rep, name, typ, host, port)
	if len(rows) != 1 {
		t.Errorf("%s (%s) at %s:%d: %d rows, want 1\nall rows: %+v", name, typ, host, port, len(rows), rep.Models)
		return
	}
	m := rows[0]
	if !m.Live || !m.Healthy || m.State != "live" || !slices.Equal(m.Via, via) {
		t.Errorf("%s (%s) at %s:%d: state %q healthy %v via %v; want live via %v", name, typ, host, port, m.State, m.Healthy, m.Via, via)
	}
}

func componentPIDs(t *testing.T, rep *status.Report) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, c := range rep.Components {
		if c.PID == 0 {
			t.Fatalf("%s has no pid (state %s)", c.Name, c.State)
		}
		m[c.Name] = c.PID
	}
	return m
}

// hactlFiles lists every path on the host whose name mentions hactl or
// dbgpt, plus everything under the deploy directory.
func hactlFiles(t *testing.T, tc *testcluster.Cluster, server string) []string {
	t.Helper()
	out := mustExec(t, tc, server, `find / -xdev \( -path /proc -o -path /sys -o -path /dev \) -prune -o \( -iname '*hactl*' -o -iname '*dbgpt*' -o -path '`+deployDir+`*' \) -print 2>/dev/null; true`)
	var files []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			files = append(files, l)
		}
	}
	return files
}

func newItems(before, after []string) []string {
	had := map[string]bool{}
	for _, b := range before {
		had[b] = true
	}
	var out []string
	for _, a := range after {
		if !had[a] {
			out = append(out, a)
		}
	}
	return out
}

// mustExec runs script on host through docker exec and fails the test on error.
func mustExec(t *testing.T, tc *testcluster.Cluster, host, script string) string {
	t.Helper()
	out, err := tc.Exec(host, script)
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", host, script, err, out)
	}
	return out
}

// known prints a value status may leave unknown (nil).
func known[T any](p *T) string {
	if p == nil {
		return "unknown"
	}
	return fmt.Sprint(*p)
}
