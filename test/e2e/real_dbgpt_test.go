package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/status"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/test/e2e/testcluster"
)

// Issues 13 and 14 on the test cluster: what real DB-GPT clusters need.
// dbgpt-sim is as strict as DB-GPT 0.6.3 and 0.7.5 (unknown worker flags,
// unknown embedding names, a relative -c for the 0.7 webserver, a missing
// provider or password key), so these pass only when hactl writes what
// the real processes accept.

// proxyAPIKey is the proxy models' key: it must show on no command line, in
// no output and in no file others can read.
const proxyAPIKey = "sk-e2e-proxy-key-3f9c1d" // no shell quoting in the env file: grep finds it as is

// realParams are the knobs of realClusterFile.
type realParams struct {
	testcluster.HAParams
	// EmbeddingName is the proxy embedding model's name (0.6 knows a proxy
	// embedding only by its adapter's name, proxy_openai).
	EmbeddingName string
	WebLogLevel   string
	// SlowWorker adds worker "slow" whose model loads for the given time.
	SlowWorker string
	// BrokenWorker adds worker "broken", which crashes after the given time.
	BrokenWorker string
	// Extra is appended to the file as is.
	Extra string
}

// realClusterFile is the HA guide's topology with proxy models (nothing to
// download, no model directory): two controllers sharing the MySQL
// registry, an LLM and an embedding worker and the webserver on server3,
// whose dbgpt command is given with arguments. defaults' env reaches every
// component; the LLM worker overrides it.
func realClusterFile(p *realParams) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `cluster {
  name          = "e2e"
  dbgpt_version = %q
}

variable "registry_password" {
  type      = string
  sensitive = true
}

variable "openai_api_key" {
  type      = string
  sensitive = true
}

defaults {
  user             = "root"
  key_file         = %q
  known_hosts_file = %q
  host_key_policy  = "strict"
  deploy_dir       = %q
  connect_timeout  = "3s"
  env = {
    HACTL_E2E_MARK              = "from-defaults"
    DBGPT_SIM_PROBE_INTERVAL    = "1s"
    DBGPT_SIM_MANAGER_HEARTBEAT = "2s"
    DBGPT_SIM_LOAD_DELAY        = "200ms"
  }
}

server "server1" {
  address = %q
}

server "server2" {
  address = %q
}

server "server3" {
  address       = %q
  dbgpt_command = "/bin/sh '%s'"
}

registry "mysql" {
  host            = %q
  port            = %d
  database        = "dbgpt"
  user            = %q
  password        = var.registry_password
  create_database = true
}

model "gpt-4o" {
  type     = "llm"
  provider = "proxy/openai"
  api_base = "http://127.0.0.1:9/v1"
  api_key  = var.openai_api_key
  backend  = "gpt-4o-mini"
}

model %q {
  type     = "text2vec"
  provider = "proxy/openai"
  api_base = "http://127.0.0.1:9/v1"
  api_key  = var.openai_api_key
}

controller "controller1" {
  server             = server.server1
  heartbeat_interval = 2
  heartbeat_timeout  = 6
}

controller "controller2" {
  server             = server.server2
  heartbeat_interval = 2
  heartbeat_timeout  = 6
}

worker "llm" {
  server             = server.server3
  model              = model.gpt-4o
  port               = 8001
  heartbeat_interval = 2
  env = {
    HACTL_E2E_MARK = "own"
  }
}

worker "embedding" {
  server             = server.server3
  model              = model[%q]
  port               = 8003
  heartbeat_interval = 2
}

webserver {
  server            = server.server3
  port              = 5670
  remote_embedding  = true
  default_llm       = model.gpt-4o
  default_embedding = model[%q]
  log_level         = %q
}
`, p.Version, p.KeyFile, p.KnownHostsFile, p.DeployDir, p.Servers["server1"], p.Servers["server2"], p.Servers["server3"],
		testcluster.DBGPTPath, p.DBHost, p.DBPort, p.DBUser, p.EmbeddingName, p.EmbeddingName, p.EmbeddingName, p.WebLogLevel)
	if p.SlowWorker != "" {
		fmt.Fprintf(&b, `
model "slow-llm" {
  type          = "llm"
  provider      = "proxy/openai"
  api_key       = var.openai_api_key
  start_timeout = "3m"
}

worker "slow" {
  server             = server.server2
  model              = model.slow-llm
  port               = 8002
  heartbeat_interval = 2
  env = {
    DBGPT_SIM_LOAD_DELAY = %q
  }
}
`, p.SlowWorker)
	}
	if p.BrokenWorker != "" {
		fmt.Fprintf(&b, `
model "broken-llm" {
  type     = "llm"
  provider = "proxy/openai"
  api_key  = var.openai_api_key
}

worker "broken" {
  server             = server.server1
  model              = model.broken-llm
  port               = 8004
  heartbeat_interval = 2
  env = {
    DBGPT_SIM_LOAD_DELAY = "30s"
    DBGPT_SIM_FAIL_AFTER = %q
  }
}
`, p.BrokenWorker)
	}
	b.WriteString(p.Extra)
	return []byte(b.String())
}

// realCLI writes realClusterFile(p) (with the e2e deploy directory) into a
// directory of its own and returns hactl there, with the secrets as
// variables, and the function that writes the file again after p changed.
func realCLI(t *testing.T, bin string, tc *testcluster.Cluster, p *realParams) (*hactlCLI, func()) {
	p.DeployDir = deployDir
	dir := t.TempDir()
	write := func() {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), realClusterFile(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write()
	return &hactlCLI{t: t, bin: bin, dir: dir, env: []string{
		"HACTL_VAR_registry_password=" + tc.DBPassword, "HACTL_VAR_openai_api_key=" + proxyAPIKey}}, write
}

// TestProxyModels is issue 13's must-show 1 and 5 and issue 14's 1–3 over
// SSH, in both generations: proxy models planned, applied and live through
// both controllers, the key nowhere it must not be; defaults' env in every
// process, the worker's own env winning; a dbgpt command with arguments;
// (0.7) the webserver's meta database under its component directory and
// kept by destroy until purged; a log_level change is one update that
// reaches the process.
func TestProxyModels(t *testing.T) {
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip")
	}
	bin := hactlBinary(t)
	for _, version := range []string{"0.6.3", "0.7.5"} {
		t.Run(version, func(t *testing.T) { proxyScenario(t, bin, version) })
	}
}

func proxyScenario(t *testing.T, bin, version string) {
	gen, embedding := schema.GenerationFlags, "proxy_openai"
	if strings.HasPrefix(version, "0.7") {
		gen, embedding = schema.GenerationTOML, "text-embedding-3-small"
	}
	tc := testcluster.Start(t, testcluster.Options{Generation: gen, SimVersion: version, NoModelDirs: true})
	p := &realParams{HAParams: tc.HAParams(), EmbeddingName: embedding, WebLogLevel: "INFO"}
	h, write := realCLI(t, bin, tc, p)
	s3 := p.Servers["server3"]
	both := []string{"controller.controller1", "controller.controller2"}
	componentDir := deployDir + "/e2e/"

	step(t, "apply", func(t *testing.T) {
		r := h.must(2, cmdTimeout, "plan", "-detailed-exitcode")
		if got := planSummary(r.Stdout); got != "Plan: 6 to add, 0 to change, 0 to destroy." {
			t.Fatalf("first plan: %q\n%s", got, r)
		}
		if !strings.Contains(r.Stdout, `provider`) || !strings.Contains(r.Stdout, `"proxy/openai"`) {
			t.Errorf("the plan does not show the models' provider:\n%s", r.Stdout)
		}
		h.must(0, cmdTimeout, "apply", "-auto-approve")
		rep := h.status()
		for _, c := range rep.Components {
			if c.State != status.StateRunning || c.PID == 0 {
				t.Errorf("%s: state %s pid %d: %s", c.Name, c.State, c.PID, c.Reason)
			}
		}
		expectLive(t, rep, "gpt-4o", "llm", s3, 8001, both)
		expectLive(t, rep, embedding, "text2vec", s3, 8003, both)
		h.must(0, cmdTimeout, "plan", "-detailed-exitcode")
	})

	step(t, "env-and-command", func(t *testing.T) {
		rep := h.status()
		for _, c := range rep.Components {
			want := "from-defaults"
			if c.Name == "worker.llm" {
				want = "own"
			}
			env := mustExec(t, tc, c.Server, "tr '\\0' '\\n' < /proc/"+strconv.Itoa(c.PID)+"/environ")
			if !strings.Contains(env, "\nHACTL_E2E_MARK="+want+"\n") && !strings.HasPrefix(env, "HACTL_E2E_MARK="+want+"\n") {
				t.Errorf("%s: HACTL_E2E_MARK is not %q in its environment", c.Name, want)
			}
			if !strings.Contains(env, "DBGPT_LOG_DIR="+componentDir+c.Name+"/logs") {
				t.Errorf("%s: DBGPT_LOG_DIR is not its own logs directory", c.Name)
			}
		}
		// server3's dbgpt command has arguments: its start scripts run it so.
		start := mustExec(t, tc, testcluster.Server3, "cat "+componentDir+"worker.llm/start.sh")
		if !strings.Contains(start, "exec /bin/sh "+testcluster.DBGPTPath+" start worker") {
			t.Errorf("worker.llm's start.sh does not run the dbgpt command with its arguments:\n%s", start)
		}
		// Each component's DB-GPT log files in its own directory.
		logs := mustExec(t, tc, testcluster.Server3, "ls "+componentDir+"worker.llm/logs "+componentDir+"webserver/logs")
		if strings.Count(logs, ".log") < 2 {
			t.Errorf("DB-GPT's log files are not in the components' logs directories:\n%s", logs)
		}
	})

	step(t, "secrets", func(t *testing.T) {
		for _, s := range testcluster.Hosts {
			ps := mustExec(t, tc, s, "ps -eww -o args=")
			if strings.Contains(ps, proxyAPIKey) {
				t.Errorf("%s: the API key is on a command line:\n%s", s, ps)
			}
		}
		holders := 0
		for _, s := range testcluster.Hosts {
			out, err := tc.SSH(s, "grep -rlF -D skip -f /dev/stdin /opt /etc /root /tmp /var/tmp /var/log /run /usr/local/lib/hactl-e2e 2>/dev/null | xargs -r stat -c '%a %U %n'", []byte(proxyAPIKey+"\n"))
			if err != nil && strings.TrimSpace(out) != "" {
				t.Fatalf("%s: %v\n%s", s, err, out)
			}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if line == "" {
					continue
				}
				holders++
				if !strings.HasPrefix(line, "600 ") {
					t.Errorf("%s: file holding the API key is not mode 0600: %s", s, line)
				}
			}
		}
		if holders < 2 {
			t.Errorf("found the API key in %d files, want one per proxy worker at least", holders)
		}
		for _, r := range h.outputs {
			if strings.Contains(r.Stdout+r.Stderr, proxyAPIKey) {
				t.Errorf("the API key shows in the output of hactl %s", strings.Join(r.Args, " "))
			}
		}
	})

	meta := componentDir + "webserver/data/dbgpt.db" // 0.6: LOCAL_DB_NAME
	if gen == schema.GenerationTOML {
		meta = componentDir + "webserver/data/dbgpt-meta.db"
	}
	step(t, "meta-database", func(t *testing.T) {
		mustExec(t, tc, testcluster.Server3, "test -s "+meta)
		if out, err := tc.Exec(testcluster.Server3, "find /usr/local/lib/hactl-e2e -name '*.db'"); err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("a database landed in DB-GPT's install root: %q %v", out, err)
		}
	})

	step(t, "log-level", func(t *testing.T) {
		p.WebLogLevel = "DEBUG"
		write()
		r := h.must(2, cmdTimeout, "plan", "-detailed-exitcode")
		if got := planSummary(r.Stdout); got != "Plan: 0 to add, 1 to change, 0 to destroy." || !slices.Equal(planTargets(r.Stdout), []string{"webserver"}) {
			t.Fatalf("log_level change: %q on %v\n%s", got, planTargets(r.Stdout), r)
		}
		h.must(0, cmdTimeout, "apply", "-auto-approve")
		eventually(t, time.Minute, time.Second, "a DEBUG line in the webserver's log", func() error {
			out := h.must(0, statusTimout, "logs", "webserver", "-n", "200").Stdout
			if !strings.Contains(out, "DEBUG") {
				return fmt.Errorf("no DEBUG line:\n%s", out)
			}
			return nil
		})
		h.must(0, cmdTimeout, "plan", "-detailed-exitcode")
	})

	step(t, "destroy", func(t *testing.T) {
		r := h.must(0, cmdTimeout, "destroy", "-auto-approve")
		mustExec(t, tc, testcluster.Server3, "test -s "+meta)
		if !strings.Contains(r.Stdout, "webserver: data kept in "+componentDir+"webserver/data on server3") {
			t.Errorf("destroy does not say where it kept the webserver's data:\n%s", r)
		}
		h.must(0, cmdTimeout, "destroy", "-auto-approve", "--purge-registry")
		for _, s := range testcluster.Hosts {
			if out, _ := tc.Exec(s, "ls -A "+deployDir+" 2>/dev/null"); strings.TrimSpace(out) != "" {
				t.Errorf("%s: %s not empty after destroy --purge-registry: %s", s, deployDir, out)
			}
		}
	})
}

// TestLongLoadsAndCrashLoops is issue 13's must-show 2–4 over SSH: a worker
// that loads for 60 s is "starting" (a plan counts no change, an
// interrupted apply run again does not restart it); a worker that crashes
// fails the apply within 30 s with its error; a params typo and an unknown
// default_embedding are refused before anything starts.
func TestLongLoadsAndCrashLoops(t *testing.T) {
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip")
	}
	bin := hactlBinary(t)
	tc := testcluster.Start(t, testcluster.Options{Generation: schema.GenerationFlags, SimVersion: "0.6.3"})
	p := &realParams{HAParams: tc.HAParams(), EmbeddingName: "proxy_openai", WebLogLevel: "INFO", SlowWorker: "60s"}
	h, write := realCLI(t, bin, tc, p)
	dir, file := h.dir, filepath.Join(h.dir, "cluster.hcl")

	// 4. Refused before anything starts, with the file's location.
	step(t, "refused-before-start", func(t *testing.T) {
		before := map[string][]string{}
		for _, s := range testcluster.Hosts {
			before[s] = hactlFiles(t, tc, s)
		}
		p.Extra = `
model "glm" {
  type   = "llm"
  path   = "/app/models/glm-4-9b-chat"
  params = {
    max_context_sise = "8192"
  }
}

worker "glm" {
  server             = server.server3
  model              = model.glm
  port               = 8005
  heartbeat_interval = 2
}
`
		write()
		r := h.must(1, cmdTimeout, "plan")
		if !strings.Contains(r.Stderr, "max_context_sise") || !strings.Contains(r.Stderr, "cluster.hcl:") || !strings.Contains(r.Stderr, `"max_context_size"`) {
			t.Errorf("a params typo: the plan's error does not name the key, its location and the right name:\n%s", r)
		}
		p.Extra = `
model "my-embedding" {
  type = "text2vec"
  path = "/app/models/text2vec-large-chinese"
}

worker "my-embedding" {
  server             = server.server3
  model              = model.my-embedding
  port               = 8006
  heartbeat_interval = 2
}
`
		write()
		text := strings.Replace(string(realClusterFile(p)), "default_embedding = model[\"proxy_openai\"]", "default_embedding = model.my-embedding", 1)
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		r = h.must(1, cmdTimeout, "plan")
		if !strings.Contains(r.Stderr, "on cluster.hcl line ") || !strings.Contains(r.Stderr, "default_embedding = model.my-embedding") {
			t.Errorf("an unknown default_embedding: the plan's error does not name it with its location:\n%s", r)
		}
		for _, s := range testcluster.Hosts {
			if n := newItems(before[s], hactlFiles(t, tc, s)); len(n) > 0 {
				t.Errorf("%s: refused plans left %v", s, n)
			}
		}
		p.Extra = ""
		write()
	})

	// 2. The slow worker: starting, not unhealthy; an interrupted apply run
	// again waits for it instead of restarting it.
	step(t, "long-load", func(t *testing.T) {
		var out bytes.Buffer
		apply := exec.Command(bin, "apply", "-auto-approve")
		apply.Dir, apply.Env = dir, append(append(os.Environ(), "NO_COLOR=1"), h.env...)
		apply.Stdout, apply.Stderr = &out, &out
		began := time.Now()
		if err := apply.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- apply.Wait() }()
		defer func() {
			if apply.ProcessState == nil {
				apply.Process.Kill()
				<-done
			}
		}()
		var pid int
		eventually(t, 45*time.Second, time.Second, "worker.slow started", func() error {
			rep := h.status()
			c, ok := componentByName(rep, "worker.slow")
			if !ok || c.PID == 0 {
				return fmt.Errorf("not yet: %+v", c)
			}
			if c.State != status.StateStarting {
				return fmt.Errorf("worker.slow is %s, want %s: %s", c.State, status.StateStarting, c.Reason)
			}
			pid = c.PID
			return nil
		})
		if wait := 10*time.Second - time.Since(began); wait > 0 {
			time.Sleep(wait) // the "a plan 10 s after the apply started"
		}
		// The apply has not reached the webserver yet: the plan creates it,
		// and nothing else; the loading worker is no change.
		r := h.run(cmdTimeout, "plan", "-detailed-exitcode")
		if slices.Contains(planTargets(r.Stdout), "worker.slow") || !strings.Contains(r.Stdout, "Note: worker.slow is still starting (") ||
			!slices.Equal(planTargets(r.Stdout), []string{"webserver"}) {
			t.Errorf("a plan %s into the load: want worker.slow starting and no change but the webserver's create\n%s", time.Since(began).Round(time.Second), r)
		}
		if time.Since(began) > 50*time.Second {
			t.Fatalf("the load (60 s) was nearly over before the plan ended: %s", time.Since(began))
		}
		// Ctrl-C the apply during the load, then apply again.
		apply.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatalf("apply did not end a minute after Ctrl-C:\n%s", out.String())
		}
		t.Logf("interrupted apply:\n%s", out.String())
		r = h.must(0, cmdTimeout, "apply", "-auto-approve")
		if strings.Contains(r.Stdout, "worker.slow: Modifying") || strings.Contains(r.Stdout, "worker.slow: Creating") {
			t.Errorf("the second apply redeployed the loading worker:\n%s", r)
		}
		// While it waits it says for what, and what the process last logged.
		if !strings.Contains(r.Stdout, "worker.slow: Still starting... [") || !strings.Contains(r.Stdout, "slow-llm") ||
			!strings.Contains(r.Stdout, "log: Loading checkpoint shards: ") {
			t.Errorf("the second apply's progress lines do not say what it waits for:\n%s", r)
		}
		rep := h.status()
		c, _ := componentByName(rep, "worker.slow")
		if c.PID != pid || c.State != status.StateRunning {
			t.Errorf("worker.slow: pid %d state %s after the second apply, want pid %d running", c.PID, c.State, pid)
		}
		expectLive(t, rep, "slow-llm", "llm", p.Servers["server2"], 8002, []string{"controller.controller1", "controller.controller2"})
	})

	// 3. A worker that crashes while it loads, at once or after 3 s: the
	// gate sees its first exit in the supervisor's record as soon as its
	// port is found closed, and the apply fails within 30 s with its exit
	// status and error, without waiting for the supervisor's next attempts.
	for _, after := range []string{"100ms", "3s"} {
		step(t, "crash-after-"+after, func(t *testing.T) {
			p.BrokenWorker = after
			write()
			r := h.run(cmdTimeout, "apply", "-auto-approve")
			if r.Code == 0 || r.Took > 30*time.Second {
				t.Fatalf("apply with a crashing worker: exit %d after %s, want a failure within 30 s\n%s", r.Code, r.Took, r)
			}
			t.Logf("the failure:\n%s", r.Stderr)
			all := r.Stdout + r.Stderr
			for _, want := range []string{"worker.broken", "exit status 1", "ModuleNotFoundError: No module named 'torch'"} {
				if !strings.Contains(all, want) {
					t.Errorf("the failure does not say %q:\n%s", want, r)
				}
			}
			if !strings.Contains(all, "exited right after starting") {
				t.Errorf("the failure does not say the process exited right after starting:\n%s", r)
			}
			if r.Took > 15*time.Second {
				t.Logf("note: the failure took %s (the supervisor restarts after 1 s, 2 s, 4 s: a failure this late waited for more than the first exit)", r.Took)
			}
		})
	}
	step(t, "repaired", func(t *testing.T) {
		p.BrokenWorker = ""
		write()
		h.must(0, cmdTimeout, "apply", "-auto-approve")
		h.must(0, cmdTimeout, "destroy", "-auto-approve", "--purge-registry")
	})
}
