package ssh

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

// stayDown checks, every 100 ms until the deadline, that nothing of the
// component runs in dir and Observe sees it stopped: nothing restarts it.
func stayDown(t *testing.T, p *Provider, c *schema.Cluster, address, dir string, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if left := processesIn(dir); len(left) > 0 {
			t.Fatalf("processes running in %s while down: %v", dir, left)
		}
		if o := observedOf(t, p, c, address); o.Running {
			t.Fatalf("observed running while down: %+v", o)
		}
	}
}

func logHas(t *testing.T, dir, what string) bool {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(dir, "log"))
	return strings.Contains(string(b), what)
}

// fileStamps are the contents of the files Deploy writes: Up must leave
// them as they are.
func fileStamps(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	for _, f := range []string{"manifest.json", "start.sh", "run.sh", "env", "secret.env", "restarts"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		fi, _ := os.Stat(filepath.Join(dir, f))
		mt := ""
		if fi != nil {
			mt = fi.ModTime().String()
		}
		fmt.Fprintf(&b, "%s %s %q\n", f, mt, data)
	}
	return b.String()
}

// TestDownUp takes a supervised (run.sh) component down (stop, then kill)
// and up again, over SSH and locally: nothing restarts it while down, no
// process of it is left (the log rotator neither), Up starts it from the
// same files and the same restart count, and the log says what the drill did.
func TestDownUp(t *testing.T) {
	t.Parallel()
	for _, e := range transports(t) {
		t.Run(e.transport, func(t *testing.T) {
			ctx := context.Background()
			s := e.server(t, "server1", fakeCommand(t, "0.6.3"))
			c := &schema.Cluster{Name: "test", Servers: []*schema.Server{s}}
			p := newTestProvider(t, c)
			port := freePort(t)
			comp := controllerComp(s, port, "h")
			if err := p.Deploy(ctx, comp); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(s.DeployDir, c.Name, comp.Address)
			defer func() {
				if err := p.Remove(ctx, observedOf(t, p, c, comp.Address)); err != nil {
					t.Error(err)
				}
			}()
			o := observedOf(t, p, c, comp.Address)
			if !o.Running {
				t.Fatalf("not running after deploy: %+v", o)
			}
			// Deploy returns once the process runs: wait until it serves
			// (has its signal handlers) before stopping it.
			get(t, p, s, port, "/api/health")
			stamps := fileStamps(t, dir)

			// Up of a running component changes nothing.
			if err := p.Up(ctx, o); err != nil {
				t.Fatal(err)
			}
			if o2 := observedOf(t, p, c, comp.Address); o2.PID != o.PID {
				t.Errorf("Up of a running component restarted it: pid %d, then %d", o.PID, o2.PID)
			}

			for _, mode := range []providers.FaultMode{providers.FaultStop, providers.FaultKill} {
				before := observedOf(t, p, c, comp.Address)
				sup, _ := os.ReadFile(filepath.Join(dir, "supervisor.pid"))
				supPID, _ := strconv.Atoi(strings.TrimSpace(string(sup)))
				if len(processesIn(dir)) < 3 {
					t.Errorf("want the supervisor, the process and the log rotator, found %v", processesIn(dir))
				}
				start := time.Now()
				if err := p.Down(ctx, before, mode); err != nil {
					t.Fatal(err)
				}
				t.Logf("down (%s) took %v", mode, time.Since(start).Round(time.Millisecond))
				if alive(before.PID) || alive(supPID) {
					t.Errorf("down (%s): process %d alive %v, supervisor %d alive %v", mode, before.PID, alive(before.PID), supPID, alive(supPID))
				}
				if !logHas(t, dir, "drill: down ("+string(mode)+")") {
					t.Errorf("the log does not say drill: down (%s)", mode)
				}
				if mode == providers.FaultStop && !logHas(t, dir, "fake: got SIGTERM") {
					t.Error("a stop did not reach the process as SIGTERM")
				}
				stayDown(t, p, c, comp.Address, dir, 3*time.Second)
				// Down of a component that is down: nothing to do.
				if err := p.Down(ctx, before, mode); err != nil {
					t.Errorf("second down: %v", err)
				}

				start = time.Now()
				if err := p.Up(ctx, before); err != nil {
					t.Fatal(err)
				}
				t.Logf("up took %v", time.Since(start).Round(time.Millisecond))
				after := observedOf(t, p, c, comp.Address)
				if !after.Running || after.PID == before.PID || after.Restarts != before.Restarts {
					t.Errorf("after up: %+v (before: %+v)", after, before)
				}
				if got := get(t, p, s, port, "/api/health"); !strings.Contains(got, "ok") {
					t.Errorf("after up: %q", got)
				}
				if got := get(t, p, s, port, "/env?name=CONTROLLER_REGISTRY_DB_PASSWORD"); got != secretValue {
					t.Errorf("after up the secret environment is %q", got)
				}
				if !logHas(t, dir, "drill: up") {
					t.Error("the log does not say drill: up")
				}
				if now := fileStamps(t, dir); now != stamps {
					t.Errorf("Up changed files:\n%s\nwas:\n%s", now, stamps)
				}
			}
			if err := p.Down(ctx, o, "pause"); err == nil || !strings.Contains(err.Error(), `unknown fault mode "pause"`) {
				t.Errorf("unknown mode: %v", err)
			}
		})
	}
}

const drillSimCluster = `
cluster {
  name          = "drill"
  dbgpt_version = "0.6.3"
}
server "s1" {
%s
  address       = "127.0.0.1"
  deploy_dir    = %q
  dbgpt_command = %q
  run_as        = %q
}
registry "sqlite" {
  path = %q
}
controller "c1" {
  server             = server.s1
  port               = %d
  heartbeat_interval = 1
  heartbeat_timeout  = 3
}
`

// TestDownUpRunAsAndCheckerDefect: a dbgpt-sim controller run as another
// user, over SSH and locally: Up starts it as that user again; when its
// registry table goes, its heartbeat checker dies and Observe reports the
// defect (a plan replaces it); a new process has none.
func TestDownUpRunAsAndCheckerDefect(t *testing.T) {
	t.Parallel()
	u := runAsUser(t)
	uid, _ := strconv.Atoi(u.Uid)
	sim := simBinary(t)
	for _, e := range transports(t) {
		t.Run(e.transport, func(t *testing.T) {
			ctx := context.Background()
			root := t.TempDir()
			os.Chmod(filepath.Dir(root), 0o755)
			os.Chmod(root, 0o755)
			wrapper := filepath.Join(root, "dbgpt")
			os.WriteFile(wrapper, []byte(fmt.Sprintf("#!/bin/sh\nexec %s \"$@\"\n", sim)), 0o755)
			conn := `  transport = "local"`
			if e.sshd != nil {
				conn = fmt.Sprintf("  ssh_port = %d\n  key_file = %q\n  known_hosts_file = %q", e.sshd.Port, e.sshd.ClientKey, e.sshd.KnownHosts)
			}
			deployDir := filepath.Join(root, "deploy")
			regFile := filepath.Join(root, "reg", "registry.db")
			file := filepath.Join(root, "cluster.hcl")
			os.WriteFile(file, []byte(fmt.Sprintf(drillSimCluster, conn, deployDir, wrapper, u.Username, regFile, freePort(t))), 0o644)
			c, err := schema.Load(file, schema.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := plan.Desired(c)
			if err != nil {
				t.Fatal(err)
			}
			p := newTestProvider(t, c)
			if err := p.Registry(c).Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			if err := p.Deploy(ctx, want[0]); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(deployDir, c.Name, want[0].Address)
			defer func() {
				if err := p.Remove(ctx, observedOf(t, p, c, want[0].Address)); err != nil {
					t.Error(err)
				}
			}()
			o := observedOf(t, p, c, want[0].Address)
			if !o.Running || o.Defect != "" {
				t.Fatalf("after deploy: %+v", o)
			}
			for _, mode := range []providers.FaultMode{providers.FaultKill, providers.FaultStop} {
				if err := p.Down(ctx, o, mode); err != nil {
					t.Fatal(err)
				}
				stayDown(t, p, c, o.Address, dir, 2*time.Second)
				if err := p.Up(ctx, o); err != nil {
					t.Fatal(err)
				}
				o = observedOf(t, p, c, o.Address)
				if !o.Running {
					t.Fatalf("after up: %+v", o)
				}
				if got := procUID(t, o.PID); got != uid {
					t.Errorf("after up the process runs as uid %d, want %d", got, uid)
				}
				for _, pid := range processesIn(dir) {
					n, _ := strconv.Atoi(pid)
					if got := procUID(t, n); got != uid {
						t.Errorf("after up process %s of the component runs as uid %d", pid, got)
					}
				}
			}

			// The registry table goes: the checker's next pass fails, the
			// thread dies and the controller goes on serving.
			db, err := openTestSQLite(regFile)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("DROP TABLE " + dbgpt.RegistryTable); err != nil {
				t.Fatal(err)
			}
			db.Close()
			waitUntil(t, "the defect observed", func() bool { return observedOf(t, p, c, o.Address).Defect != "" })
			o = observedOf(t, p, c, o.Address)
			if !o.Running || !strings.HasPrefix(o.Defect, "its heartbeat checker thread died (sqlalchemy.exc.") ||
				!strings.HasSuffix(o.Defect, "): stale rows are never marked unhealthy until it restarts") {
				t.Errorf("observed %+v", o)
			}
			t.Logf("defect: %s", o.Defect)
			pl := plan.Diff(c, want, []plan.Observed{o}, nil)
			if len(pl.Changes) != 1 || pl.Changes[0].Action != plan.Replace || pl.Changes[0].Reason != o.Defect {
				t.Fatalf("plan: %+v", pl.Changes)
			}

			// With the table back, apply carries out the replace: the
			// controller restarts where it is (nothing removed) and its new
			// checker lives.
			db, err = openTestSQLite(regFile)
			if err != nil {
				t.Fatal(err)
			}
			for _, ddl := range dbgpt.SQLiteRegistryDDL {
				if _, err := db.Exec(ddl); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			res, err := apply.Apply(ctx, p, c, pl, apply.Options{SkipPreflight: true})
			if err != nil {
				t.Fatal(err)
			}
			after := observedOf(t, p, c, o.Address)
			if !after.Running || after.Defect != "" || after.PID == o.PID {
				t.Errorf("after apply (%+v): %+v", res, after)
			}
			if pl := plan.Diff(c, want, []plan.Observed{after}, nil); !pl.Empty() {
				t.Errorf("plan after apply: %+v", pl.Changes)
			}
		})
	}
}
