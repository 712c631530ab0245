package ssh

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/host/sshdtest"
	"github.com/hactl/hactl/schema"

	"github.com/hactl/hactl/internal/testport"
)

// testEnv is one server reached over a real loopback sshd or locally.
type testEnv struct {
	transport string
	sshd      *sshdtest.Server
}

// transports: a real loopback sshd and the local transport; only local when
// HACTL_E2E=skip.
func transports(t testing.TB) []testEnv {
	if os.Getenv("HACTL_E2E") == "skip" {
		return []testEnv{{schema.TransportLocal, nil}}
	}
	d := sshdtest.Start(t)
	return []testEnv{{schema.TransportSSH, d}, {schema.TransportLocal, nil}}
}

func (e testEnv) server(t testing.TB, name, command string) *schema.Server {
	dir := filepath.Join(t.TempDir(), "deploy dir it's $(touch pwned) `id`")
	s := &schema.Server{Name: name, Address: "127.0.0.1", Transport: e.transport, DeployDir: dir, DBGPTCommand: command,
		SSH: schema.SSHSettings{CommandTimeout: 30 * time.Second, ConnectTimeout: 30 * time.Second}}
	if e.sshd != nil {
		s.SSH = schema.SSHSettings{Port: e.sshd.Port, User: "root", KeyFile: e.sshd.ClientKey, HostKeyPolicy: schema.HostKeyStrict,
			KnownHostsFile: e.sshd.KnownHosts, ConnectTimeout: 30 * time.Second, CommandTimeout: 30 * time.Second}
	}
	return s
}

func newTestProvider(t *testing.T, c *schema.Cluster) *Provider {
	t.Helper()
	pr, err := New(c, Options{StopTimeout: 3 * time.Second, Out: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	p := pr
	t.Cleanup(func() { p.Close() })
	return p
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func freePort(t testing.TB) int { return testport.Free(t) }

const secretValue = "s3cr3t'$(touch /tmp/hactl-pwned)`id`"

func controllerComp(s *schema.Server, port int, hash string) *plan.Component {
	return &plan.Component{
		Address: "controller.ctrl1", Role: schema.RoleController, Name: "ctrl1", Server: s, Port: port, Hash: hash,
		Attributes: map[string]string{"port": strconv.Itoa(port), "registry_password": "(sensitive)"},
		Level:      1,
		Launch: dbgpt.Launch{
			Args:      []string{"start", "controller", "--port", strconv.Itoa(port), "--note", "a'b $(touch /tmp/hactl-pwned); `id`"},
			Env:       map[string]string{"PLAIN": "x y'z", "HOSTILE": "$(touch /tmp/hactl-pwned)"},
			SecretEnv: map[string]string{"CONTROLLER_REGISTRY_DB_PASSWORD": secretValue},
			Files: map[string]dbgpt.File{
				"dbgpt.toml":    {Content: []byte("password = \"" + secretValue + "\"\n"), Secret: true},
				"conf/public.t": {Content: []byte("public\n")},
			},
		},
	}
}

func get(t *testing.T, p *Provider, s *schema.Server, port int, path string) string {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return p.DialContext(ctx, s, network, addr)
	}}, Timeout: 30 * time.Second}
	// A process just (re)started may not listen yet.
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(time.Minute); ; {
		if resp, err = hc.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s through %s for a minute: %v", path, s.Name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	s = s[strings.LastIndex(s, ") ")+2:]
	return !strings.HasPrefix(s, "Z")
}

func TestDeployObserveRemove(t *testing.T) {
	t.Parallel()
	os.Remove("/tmp/hactl-pwned")
	for _, e := range transports(t) {
		t.Run(e.transport, func(t *testing.T) {
			ctx := context.Background()
			s := e.server(t, "server1", fakeCommand(t, "0.6.3"))
			c := &schema.Cluster{Name: "test", Generation: schema.GenerationFlags, Version: "0.6.3", Servers: []*schema.Server{s}}
			p := newTestProvider(t, c)
			port := freePort(t)
			comp := controllerComp(s, port, "hash1")

			start := time.Now()
			if err := p.Deploy(ctx, comp); err != nil {
				t.Fatal(err)
			}
			t.Logf("deploy took %s", time.Since(start))
			dir := filepath.Join(s.DeployDir, c.Name, "controller.ctrl1")
			for name, mode := range map[string]os.FileMode{"secret.env": 0o600, "dbgpt.toml": 0o600, "env": 0o644, "conf/public.t": 0o644, "manifest.json": 0o644, "run.sh": 0o755} {
				fi, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != mode {
					t.Errorf("%s: mode %o, want %o", name, fi.Mode().Perm(), mode)
				}
			}
			// The process got the secret through its environment and the
			// hostile values verbatim; nothing ran.
			if got := get(t, p, s, port, "/env?name=CONTROLLER_REGISTRY_DB_PASSWORD"); got != secretValue {
				t.Errorf("secret env = %q", got)
			}
			if got := get(t, p, s, port, "/env?name=PLAIN"); got != "x y'z" {
				t.Errorf("PLAIN = %q", got)
			}
			if got := get(t, p, s, port, "/env?name=HOSTILE"); got != "$(touch /tmp/hactl-pwned)" {
				t.Errorf("HOSTILE = %q", got)
			}
			if _, err := os.Stat("/tmp/hactl-pwned"); err == nil {
				t.Fatal("a hostile value ran a command")
			}
			assertNoSecretOnCommandLines(t)

			obs, err := p.Observe(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if len(obs) != 1 {
				t.Fatalf("observed %+v", obs)
			}
			o := obs[0]
			if o.Address != "controller.ctrl1" || o.Role != "controller" || o.Server != "server1" || o.Port != port || o.Hash != "hash1" ||
				!o.Running || o.PID == 0 || o.Restarts != 0 || o.Attributes["registry_password"] != "(sensitive)" {
				t.Errorf("observed %+v", o)
			}
			if !alive(o.PID) {
				t.Errorf("pid %d not alive", o.PID)
			}
			if time.Since(o.StartedAt) > time.Minute || time.Since(o.StartedAt) < 0 {
				t.Errorf("started at %s", o.StartedAt)
			}
			var m Manifest
			b, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
			if err := json.Unmarshal(b, &m); err != nil || m.Cluster != "test" || m.Supervisor != "process" || m.DeployedAt.IsZero() {
				t.Errorf("manifest %s: %v", b, err)
			}

			// Deploy again with a new hash: a new process, the old one gone.
			comp.Hash = "hash2"
			if err := p.Deploy(ctx, comp); err != nil {
				t.Fatal(err)
			}
			obs, err = p.Observe(ctx, c)
			if err != nil || len(obs) != 1 || obs[0].Hash != "hash2" || !obs[0].Running || obs[0].PID == o.PID {
				t.Fatalf("after redeploy: %+v %v", obs, err)
			}
			if alive(o.PID) {
				t.Errorf("old pid %d still alive", o.PID)
			}
			logs, err := p.Logs(ctx, obs[0], 50)
			if err != nil || !strings.Contains(logs, "fake started") || !strings.Contains(logs, "fake: got SIGTERM") {
				t.Errorf("logs %q %v", logs, err)
			}

			// A component of another cluster in the same directory is not ours.
			other := filepath.Join(s.DeployDir, "else", "controller.other")
			os.MkdirAll(other, 0o755)
			os.WriteFile(filepath.Join(other, "manifest.json"), []byte(`{"cluster":"else","address":"controller.other"}`), 0o644)

			spid, _ := os.ReadFile(filepath.Join(dir, "supervisor.pid"))
			if err := p.Remove(ctx, obs[0]); err != nil {
				t.Fatal(err)
			}
			if left := leftovers(dir, strings.TrimSpace(string(spid))); len(left) > 0 {
				t.Errorf("processes left after Remove: %v", left)
			}
			if alive(obs[0].PID) {
				t.Errorf("pid %d survived Remove", obs[0].PID)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s left behind: %v", dir, err)
			}
			obs, err = p.Observe(ctx, c)
			if err != nil || len(obs) != 0 {
				t.Fatalf("after remove: %+v %v", obs, err)
			}
			// The other cluster's directory keeps the deploy dir; without it
			// the last Remove takes the deploy dir and an empty …/hactl parent.
			if _, err := os.Stat(s.DeployDir); err != nil {
				t.Errorf("deploy dir of a shared directory removed: %v", err)
			}
			os.RemoveAll(filepath.Dir(other))
			parent := filepath.Join(filepath.Dir(s.DeployDir), "hactl")
			s.DeployDir = filepath.Join(parent, "c")
			comp.Server = s
			if err := p.Deploy(ctx, comp); err != nil {
				t.Fatal(err)
			}
			if err := p.Remove(ctx, providers.Observed{Address: comp.Address, Server: s.Name}); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(parent); !os.IsNotExist(err) {
				t.Errorf("%s left behind: %v", parent, err)
			}
			if err := p.Remove(ctx, providers.Observed{Address: "controller.ctrl1", Server: "server1"}); err != nil {
				t.Errorf("removing twice: %v", err)
			}
		})
	}
}

// leftovers lists processes working in dir or in the session sid.
func leftovers(dir, sid string) []string {
	var out []string
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		pdir := filepath.Dir(f)
		cwd, _ := os.Readlink(pdir + "/cwd")
		b, _ := os.ReadFile(f)
		st := string(b)
		if i := strings.LastIndex(st, ") "); i >= 0 {
			st = st[i+2:]
		}
		fields := strings.Fields(st)
		if len(fields) > 0 && fields[0] == "Z" {
			continue // exited, waiting for init to reap it
		}
		if strings.HasPrefix(cwd, dir) || (len(fields) > 3 && fields[3] == sid && sid != "") {
			cmd, _ := os.ReadFile(pdir + "/cmdline")
			out = append(out, pdir+" "+strings.ReplaceAll(string(cmd), "\x00", " ")+" in "+cwd)
		}
	}
	return out
}

// assertNoSecretOnCommandLines reads every process's command line.
func assertNoSecretOnCommandLines(t *testing.T) {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range procs {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte("s3cr3t")) {
			t.Errorf("%s shows the secret: %q", f, b)
		}
	}
}

func TestRestartOnExit(t *testing.T) {
	t.Parallel()
	for _, e := range transports(t) {
		t.Run(e.transport, func(t *testing.T) {
			ctx := context.Background()
			s := e.server(t, "server1", fakeCommand(t, "0.6.3"))
			c := &schema.Cluster{Name: "test", Servers: []*schema.Server{s}}
			p := newTestProvider(t, c)
			port := freePort(t)
			comp := controllerComp(s, port, "h")

			// A healthy process killed from outside is restarted and counted.
			if err := p.Deploy(ctx, comp); err != nil {
				t.Fatal(err)
			}
			obs, _ := p.Observe(ctx, c)
			first := obs[0].PID
			syscall.Kill(first, syscall.SIGKILL)
			deadline := time.Now().Add(time.Minute)
			for {
				obs, err := p.Observe(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				if obs[0].Running && obs[0].PID != first && obs[0].Restarts == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not restarted within a minute: %+v", obs[0])
				}
				time.Sleep(200 * time.Millisecond)
			}
			if got := get(t, p, s, port, "/api/health"); !strings.Contains(got, "ok") {
				t.Errorf("after restart: %q", got)
			}

			// A process that exits at once: Deploy does not wait to see it
			// (or fails with its log when the exit came first); the
			// supervisor's record has the exit and its error lines at once.
			comp.Launch.Env["FAKE_MODE"] = "crash"
			if err := p.Deploy(ctx, comp); err != nil && (!strings.Contains(err.Error(), "fake: crashing on purpose") || !strings.Contains(err.Error(), "exited right after starting")) {
				t.Fatalf("want success or a start failure with the log, got %v", err)
			}
			deadline = time.Now().Add(time.Minute)
			for {
				st, err := p.Starts(ctx, comp)
				if err != nil {
					t.Fatal(err)
				}
				if len(st.Exits) > 0 {
					lines := strings.Join(st.ErrorLines, "\n")
					if !strings.Contains(lines, "fake: crashing on purpose") || strings.Contains(lines, "fake: got SIGTERM") {
						t.Fatalf("the exit's error lines: %q", lines)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no exit recorded within a minute: %+v", st)
				}
				time.Sleep(20 * time.Millisecond)
			}
			obs, _ = p.Observe(ctx, c)
			if obs[0].Restarts < 1 {
				t.Errorf("restarts %d", obs[0].Restarts)
			}
			dir := filepath.Join(s.DeployDir, c.Name, "controller.ctrl1")
			spid, _ := os.ReadFile(filepath.Join(dir, "supervisor.pid"))
			if err := p.Remove(ctx, obs[0]); err != nil {
				t.Fatal(err)
			}
			if left := leftovers(dir, strings.TrimSpace(string(spid))); len(left) > 0 {
				t.Errorf("processes left after Remove: %v", left)
			}
		})
	}
}

func TestObserveUnreachable(t *testing.T) {
	t.Parallel()
	d := sshdtest.Start(t)
	good := testEnv{schema.TransportSSH, d}.server(t, "server1", "dbgpt")
	bad := testEnv{schema.TransportSSH, d}.server(t, "server2", "dbgpt")
	bad.SSH.Port = 1
	bad2 := testEnv{schema.TransportSSH, d}.server(t, "server3", "dbgpt")
	bad2.Address = "127.0.0.2"
	bad2.SSH.Port = 1
	c := &schema.Cluster{Name: "test", Servers: []*schema.Server{good, bad, bad2}}
	p := newTestProvider(t, c)
	_, err := p.Observe(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "cannot observe server2, server3") {
		t.Fatalf("got %v", err)
	}
}

func TestNewRejects(t *testing.T) {
	for _, s := range []*schema.Server{
		{Name: "a", Transport: "telnet", DeployDir: "/opt"},
		{Name: "b", Transport: schema.TransportLocal, DeployDir: "relative"},
	} {
		if _, err := New(&schema.Cluster{Servers: []*schema.Server{s}}, Options{}); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	_ = url.Values{}
}

// TestObserveSharedLocalDir: two local servers sharing a deploy directory
// are read once, each component under the server its manifest names.
func TestObserveSharedLocalDir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := testEnv{schema.TransportLocal, nil}
	a := e.server(t, "a", fakeCommand(t, "0.6.3"))
	b := e.server(t, "b", a.DBGPTCommand)
	b.DeployDir = a.DeployDir
	c := &schema.Cluster{Name: "test", Servers: []*schema.Server{a, b}}
	p := newTestProvider(t, c)
	ca := controllerComp(a, freePort(t), "h")
	cb := controllerComp(b, freePort(t), "h")
	cb.Address = "controller.ctrl2"
	for _, comp := range []*plan.Component{ca, cb} {
		if err := p.Deploy(ctx, comp); err != nil {
			t.Fatal(err)
		}
	}
	obs, err := p.Observe(ctx, c)
	if err != nil || len(obs) != 2 || obs[0].Server != "a" || obs[0].Address != "controller.ctrl1" || obs[1].Server != "b" || obs[1].Address != "controller.ctrl2" {
		t.Fatalf("%+v %v", obs, err)
	}
	for _, o := range obs {
		if err := p.Remove(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUnitFile(t *testing.T) {
	u := string(unitFile("prod", "worker.llm", "/opt/hactl/prod/worker.llm", 15*time.Second, "", ""))
	for _, want := range []string{
		"WorkingDirectory=/opt/hactl/prod/worker.llm\n",
		"ExecStart=/bin/sh \"/opt/hactl/prod/worker.llm/start.sh\"\n",
		"Restart=always\n", "TimeoutStopSec=16\n",
		"StandardOutput=append:/opt/hactl/prod/worker.llm/log\n",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("unit lacks %q:\n%s", want, u)
		}
	}
}

// TestUnitFileRunAs: with run_as the unit names the user and its primary
// group; without, neither (systemd runs it as root); systemd never gives up
// restarting it.
func TestUnitFileRunAs(t *testing.T) {
	u := string(unitFile("prod", "worker.llm", "/opt/hactl/prod/worker.llm", 15*time.Second, "dbgpt", "nogroup"))
	for _, want := range []string{"\nUser=dbgpt\nGroup=nogroup\nWorkingDirectory=", "\nStartLimitIntervalSec=0\n"} {
		if !strings.Contains(u, want) {
			t.Errorf("unit lacks %q:\n%s", want, u)
		}
	}
	if u := string(unitFile("prod", "worker.llm", "/d", time.Second, "", "")); strings.Contains(u, "User=") || strings.Contains(u, "Group=") {
		t.Errorf("unit without run_as names a user:\n%s", u)
	}
}

// TestStartScriptRotates: start.sh starts the rotator with the server's cap
// before it execs the process, watching its own pid (which the process takes).
func TestStartScriptRotates(t *testing.T) {
	s := string(startScript("worker.llm", "/d", []string{"dbgpt"}, []string{"start", "worker"}, 65536))
	rot := strings.Index(s, "hactl_rotate $$ </dev/null >/dev/null 2>&1 &\n")
	exec := strings.Index(s, "exec dbgpt start worker\n")
	if rot < 0 || exec < rot || !strings.Contains(s, `if [ "$_n" -gt 65536 ]; then`) ||
		!strings.Contains(s, "cp log log.1.tmp && mv -f log.1.tmp log.1 && : > log") {
		t.Errorf("start.sh:\n%s", s)
	}
	if switchUser(&schema.Server{RunAs: "root", SSH: schema.SSHSettings{User: "deploy", Sudo: true}}) != "" ||
		switchUser(&schema.Server{RunAs: "deploy", SSH: schema.SSHSettings{User: "deploy"}}) != "" ||
		switchUser(&schema.Server{RunAs: "dbgpt", SSH: schema.SSHSettings{User: "deploy", Sudo: true}}) != "dbgpt" {
		t.Error("switchUser")
	}
}
