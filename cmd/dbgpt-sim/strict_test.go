package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tests of the refusals and shapes the sim copies from real DB-GPT v0.6.3
// and v0.7.5 (DBGPT-PROTOCOL.md, "Observed on real ...").

var toml7 = []string{"DBGPT_SIM_VERSION=0.7.5"}

// A 0.6 worker accepts the flags of its model's parameter class only.
func TestWorkerFlagsFromModelClass(t *testing.T) {
	t.Parallel()
	_, errOut, code := run(t, nil, "start", "worker", "--model_name", "glm-4-9b-chat", "--model_path", t.TempDir(), "--proxy_api_key", "x")
	if code != 2 || !strings.Contains(errOut, "Error: No such option '--proxy_api_key'.") || !strings.Contains(errOut, "Try 'dbgpt start worker --help' for help.") {
		t.Errorf("local LLM with a proxy flag: exit %d\n%s", code, errOut)
	}
	_, errOut, code = run(t, nil, "start", "worker", "--model_name", "gpt-4o", "--model_path", "chatgpt_proxyllm", "--max_gpu_memory", "1G")
	if code != 2 || !strings.Contains(errOut, "Error: No such option '--max_gpu_memory'.") {
		t.Errorf("proxy LLM with a local flag: exit %d\n%s", code, errOut)
	}
	for _, c := range []struct {
		args       []string
		has, hasnt []string
	}{
		{[]string{"--model_name", "gpt-4o", "--model_path", "chatgpt_proxyllm"},
			[]string{"--proxy_server_url", "--proxy_api_key", "--proxy_api_base", "--proxy_api_type", "--proxy_api_version", "--proxyllm_backend", "--worker_register_host"},
			[]string{"--load_8bit"}},
		{[]string{"--model_name", "glm-4-9b-chat"}, []string{"--load_8bit", "--max_gpu_memory", "--num_gpus", "--prompt_template"}, []string{"--proxy_api_key"}},
		{[]string{"--model_name", "bge", "--worker_type", "text2vec"}, []string{"--normalize_embeddings", "--device"}, []string{"--prompt_template", "--proxy_api_key"}},
		{[]string{"--model_name", "proxy_openai", "--worker_type", "text2vec"}, []string{"--proxy_server_url", "--proxy_api_key", "--proxy_backend"}, []string{"--normalize_embeddings"}},
	} {
		out, errOut, code := run(t, nil, append(append([]string{"start", "worker"}, c.args...), "--help")...)
		if code != 0 || !strings.HasPrefix(out, "Usage: dbgpt start worker [OPTIONS]") {
			t.Fatalf("%v --help: exit %d %s", c.args, code, errOut)
		}
		for _, f := range c.has {
			if !strings.Contains(out, "\n  "+f+" ") {
				t.Errorf("%v --help lacks %s:\n%s", c.args, f, out)
			}
		}
		for _, f := range c.hasnt {
			if strings.Contains(out, "  "+f+" ") {
				t.Errorf("%v --help lists %s", c.args, f)
			}
		}
	}
}

// A proxy model has no path to check; its key comes from the model-name
// prefixed variable and only the variable's name is logged.
func TestProxyWorkers(t *testing.T) {
	t.Parallel()
	cport := freePort(t)
	c := start(t, nil, "start", "controller", "--host", "127.0.0.1", "--port", itoa(cport))
	waitUp(t, c, url(cport))
	const secret = "sk-very-secret-value"
	wport := freePort(t)
	w := start(t, []string{"GPT_4O_PROXY_API_KEY=" + secret}, "start", "worker", "--model_name", "gpt-4o", "--model_path", "chatgpt_proxyllm",
		"--proxyllm_backend", "gpt-4o-mini", "--host", "127.0.0.1", "--port", itoa(wport), "--controller_addr", url(cport), "--worker_register_host", "127.0.0.1")
	eport := freePort(t)
	e := start(t, nil, "start", "worker", "--model_name", "proxy_openai", "--model_path", "proxy_openai", "--worker_type", "text2vec",
		"--proxy_server_url", "https://api.example/v1", "--host", "127.0.0.1", "--port", itoa(eport), "--controller_addr", url(cport), "--worker_register_host", "127.0.0.1")
	eventually(t, patience, "both proxy models registered", func() bool {
		l := listRaw(t, url(cport), "?healthy_only=true")
		return find(l, "gpt-4o@llm", "127.0.0.1", wport) != nil && find(l, "proxy_openai@text2vec", "127.0.0.1", eport) != nil
	})
	if log := w.err.String(); !strings.Contains(log, "API key found (GPT_4O_PROXY_API_KEY)") || strings.Contains(log, secret) {
		t.Errorf("LLM key log:\n%s", log)
	}
	if log := e.err.String(); !strings.Contains(log, "no API key found") {
		t.Errorf("embedding key log:\n%s", log)
	}
	// An embedding named otherwise is a local model: its "path" fails to load.
	_, errOut, code := run(t, nil, "start", "worker", "--model_name", "emb", "--model_path", "proxy_openai", "--worker_type", "text2vec", "--port", itoa(freePort(t)))
	if code != 0 || !strings.Contains(errOut, "Incorrect path_or_model_id: 'proxy_openai'") {
		t.Errorf("embedding proxy chosen by path: exit %d\n%s", code, errOut)
	}
}

func TestWebserverEmbeddingModel(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	_, errOut, code := run(t, []string{"EMBEDDING_MODEL=gpt-emb", "LLM_MODEL=anything"}, "start", "webserver", "--light", "--host", "127.0.0.1", "--port", itoa(port))
	if code != 1 || !strings.Contains(errOut, "Traceback (most recent call last):") || !strings.HasSuffix(strings.TrimSpace(errOut), "KeyError: 'gpt-emb'") {
		t.Errorf("unknown EMBEDDING_MODEL: exit %d\n%s", code, errOut)
	}
	w := start(t, []string{"EMBEDDING_MODEL=proxy_openai", "LLM_MODEL=anything"}, "start", "webserver", "--light", "--host", "127.0.0.1", "--port", itoa(port))
	waitUp(t, w, url(port))
}

func TestWebserverErrors(t *testing.T) {
	t.Parallel()
	cport := freePort(t)
	c := start(t, nil, "start", "controller", "--host", "127.0.0.1", "--port", itoa(cport))
	waitUp(t, c, url(cport))
	wport := freePort(t)
	w := start(t, nil, "start", "webserver", "--light", "--host", "127.0.0.1", "--port", itoa(wport), "--controller_addr", url(cport))
	waitUp(t, w, url(wport))
	eventually(t, patience, "forwarding", func() bool { code, _ := do(t, "GET", url(wport)+modelsPath, nil); return code == 200 })
	code, b := do(t, "GET", url(wport)+modelsPath+"?healthy_only=perhaps", nil)
	if code != 400 || !strings.HasPrefix(b, `{"success":false,"err_code":"E0001","err_msg":"`) || !strings.HasSuffix(b, `","data":null}`) {
		t.Errorf("bad query: %d %s", code, b)
	}
	c.signal(syscall.SIGKILL)
	c.wait(patience)
	code, b = do(t, "GET", url(wport)+modelsPath, nil)
	if code != 400 || !strings.HasPrefix(b, `{"success":false,"err_code":"E0003","err_msg":"`) {
		t.Errorf("controller down: %d %s", code, b)
	}
}

// A controller dies of SIGTERM (143 to a shell); SIGINT stays graceful.
func TestControllerSIGTERM(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	c := start(t, nil, "start", "controller", "--host", "127.0.0.1", "--port", itoa(port))
	waitUp(t, c, url(port))
	c.signal(syscall.SIGTERM)
	c.wait(patience)
	ws := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("controller after SIGTERM: %v, want killed by SIGTERM", c.cmd.ProcessState)
	}
	out, err := exec.Command("sh", "-c", "\"$0\" start controller --host 127.0.0.1 --port $1 & pid=$!; "+
		"for i in $(seq 600); do kill -0 $pid 2>/dev/null || exit 9; curl -s -o /dev/null http://127.0.0.1:$1/api/health && break; sleep 0.1; done; "+
		"kill -TERM $pid; wait $pid; echo $?", bin, itoa(freePort(t))).Output()
	if _, noCurl := exec.LookPath("curl"); noCurl == nil && (err != nil || strings.TrimSpace(string(out)) != "143") {
		t.Errorf("exit status seen by a shell: %q %v", out, err)
	}
}

// --log_level reaches the logger: DEBUG lines only at DEBUG; the log file
// goes to DBGPT_LOG_DIR, else <root>/logs.
func TestLogLevelAndFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port := freePort(t)
	c := start(t, []string{"DBGPT_LOG_DIR=" + dir}, "start", "controller", "--host", "127.0.0.1", "--port", itoa(port))
	waitUp(t, c, url(port))
	if strings.Contains(c.err.String(), " DEBUG ") {
		t.Errorf("DEBUG line at the default level:\n%s", c.err.String())
	}
	if b, err := os.ReadFile(filepath.Join(dir, "dbgpt_model_controller.log")); err != nil || !strings.Contains(string(b), "Model Controller Parameters") {
		t.Errorf("controller log file: %v %q", err, b)
	}
	port = freePort(t)
	d := start(t, nil, "start", "controller", "--host", "127.0.0.1", "--port", itoa(port), "--log_level", "DEBUG", "--log_file", "ctl-debug.log")
	waitUp(t, d, url(port))
	if !strings.Contains(d.err.String(), " DEBUG Logging level DEBUG") {
		t.Errorf("no DEBUG line at DEBUG:\n%s", d.err.String())
	}
	if _, err := os.Stat(filepath.Join(root, "logs", "ctl-debug.log")); err != nil {
		t.Errorf("log file not under <root>/logs: %v", err)
	}
	_, errOut, code := run(t, nil, "start", "apiserver", "--port", itoa(freePort(t)), "--log_level", "LOUD")
	if code != 1 || !strings.Contains(errOut, "ValueError: Unknown level: 'LOUD'") {
		t.Errorf("unknown level: exit %d %s", code, errOut)
	}
	// 0.7: [service.model.controller.log] level, else [log].
	for _, cfg := range []string{"[log]\nlevel = \"DEBUG\"\n", "[log]\nlevel = \"INFO\"\n[service.model.controller.log]\nlevel = \"DEBUG\"\n"} {
		port = freePort(t)
		p := start(t, append([]string{"DBGPT_LOG_DIR=" + dir}, toml7...), "start", "controller", "-c",
			writeFile(t, "log.toml", cfg+"[service.model.controller]\nhost = \"127.0.0.1\"\nport = "+itoa(port)+"\n"))
		waitUp(t, p, url(port))
		if !strings.Contains(p.err.String(), " DEBUG ") {
			t.Errorf("%q: no DEBUG line:\n%s", cfg, p.err.String())
		}
	}
}

func TestTOMLConfigPaths(t *testing.T) {
	t.Parallel()
	simRoot := t.TempDir()
	cwd := t.TempDir()
	env := append([]string{"DBGPT_SIM_ROOT=" + simRoot, "DBGPT_LOG_DIR=" + t.TempDir()}, toml7...)
	wport, cport := freePort(t), freePort(t)
	os.WriteFile(filepath.Join(cwd, "dbgpt.toml"), []byte("[service.web]\nhost = \"127.0.0.1\"\nport = "+itoa(wport)+
		"\nlight = true\n[service.web.database]\ntype = \"sqlite\"\npath = \"data/meta.db\"\n"+
		"[service.model.controller]\nhost = \"127.0.0.1\"\nport = "+itoa(cport)+"\n"), 0o600)
	// The webserver joins a relative -c to the install root.
	w := startIn(t, cwd, env, "start", "webserver", "-c", "dbgpt.toml")
	if code := w.wait(patience); code != 1 || !strings.Contains(w.err.String(), "Configuration file not found: "+filepath.Join(simRoot, "dbgpt.toml")) {
		t.Errorf("relative -c for the webserver: exit %d\n%s", code, w.err.String())
	}
	// The controller opens it from the working directory.
	c := startIn(t, cwd, env, "start", "controller", "-c", "dbgpt.toml")
	waitUp(t, c, url(cport))
	// An absolute -c works; the relative meta DB path lands under the root.
	w = startIn(t, cwd, env, "start", "webserver", "-c", filepath.Join(cwd, "dbgpt.toml"))
	waitUp(t, w, url(wport))
	if _, err := os.Stat(filepath.Join(simRoot, "data", "meta.db")); err != nil {
		t.Errorf("meta DB not under the install root: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cwd, "data", "meta.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("meta DB in the working directory: %v", err)
	}
	// 0.7 requires -c.
	if _, errOut, code := run(t, toml7, "start", "controller"); code != 2 || !strings.Contains(errOut, "Missing option '-c'") {
		t.Errorf("no -c: exit %d %s", code, errOut)
	}
}

func TestTOMLRefusals(t *testing.T) {
	t.Parallel()
	// MySQL registry without password: ${env:DBGPT_DB_PASSWORD} at parse time.
	cfg := writeFile(t, "c.toml", "[service.model.controller]\nport = "+itoa(freePort(t))+
		"\n[service.model.controller.registry.database]\ntype = \"mysql\"\nhost = \"127.0.0.1\"\nuser = \"u\"\ndatabase = \"d\"\n")
	_, errOut, code := run(t, toml7, "start", "controller", "-c", cfg)
	if code != 1 || !strings.HasSuffix(strings.TrimSpace(errOut), "ValueError: Environment variable DBGPT_DB_PASSWORD not found") {
		t.Errorf("mysql without password: exit %d\n%s", code, errOut)
	}
	worker := func(model string, env ...string) (string, int) {
		cfg := writeFile(t, "w.toml", "[service.model.worker]\nhost = \"127.0.0.1\"\nport = "+itoa(freePort(t))+
			"\ncontroller_addr = \"http://127.0.0.1:1\"\n[log]\nlevel = \"DEBUG\"\n"+model)
		_, errOut, code := run(t, append(env, toml7...), "start", "worker", "-c", cfg)
		return errOut, code
	}
	errOut, code = worker("[[models.llms]]\nname = \"glm\"\npath = \"" + t.TempDir() + "\"\n")
	if code != 1 || !strings.Contains(errOut, "ValueError: Can not find adapter for model glm") {
		t.Errorf("no provider: exit %d\n%s", code, errOut)
	}
	errOut, code = worker("[[models.llms]]\nname = \"gpt-4o\"\nprovider = \"proxy/openai\"\napi_base = \"https://x/v1\"\n")
	if code != 1 || !strings.Contains(errOut, "Environment variable OPENAI_API_KEY not found") {
		t.Errorf("proxy/openai LLM without key: exit %d\n%s", code, errOut)
	}
	errOut, code = worker("[[models.embeddings]]\nname = \"emb\"\nprovider = \"proxy/openai\"\napi_url = \"https://x/v1/embeddings\"\n")
	if code != 1 || !strings.Contains(errOut, "api_key") {
		t.Errorf("proxy/openai embedding without key: exit %d\n%s", code, errOut)
	}
	// With OPENAI_API_KEY it starts; unknown keys are dropped with a DEBUG
	// line (here: api_base, which the embedding class lacks). No controller:
	// it gives up registering, after the load.
	errOut, _ = worker("[[models.embeddings]]\nname = \"emb\"\nprovider = \"proxy/openai\"\napi_base = \"https://x/v1\"\nbogus = 1\n", "OPENAI_API_KEY=k")
	if !strings.Contains(errOut, `DEBUG Ignoring key "api_base"`) || !strings.Contains(errOut, `DEBUG Ignoring key "bogus"`) || !strings.Contains(errOut, "API key found (OPENAI_API_KEY)") {
		t.Errorf("dropped keys:\n%s", errOut)
	}
}

// DBGPT_SIM_LOAD_DELAY: progress lines while loading, the port opens after;
// DBGPT_SIM_FAIL_AFTER: a traceback and exit 1.
func TestWorkerLoadKnobs(t *testing.T) {
	t.Parallel()
	cport := freePort(t)
	c := start(t, nil, "start", "controller", "--host", "127.0.0.1", "--port", itoa(cport))
	waitUp(t, c, url(cport))
	wport := freePort(t)
	begin := time.Now()
	w := start(t, []string{"DBGPT_SIM_LOAD_DELAY=2s"}, "start", "worker", "--model_name", "m", "--model_path", t.TempDir(),
		"--host", "127.0.0.1", "--port", itoa(wport), "--controller_addr", url(cport), "--worker_register_host", "127.0.0.1")
	eventually(t, patience, "first progress line", func() bool { return strings.Contains(w.err.String(), "Loading checkpoint shards: 1/4") })
	if portOpen(wport) && !strings.Contains(w.err.String(), "Loading checkpoint shards: 4/4") {
		t.Error("port open before the load finished")
	}
	eventually(t, patience, "port", func() bool { return portOpen(wport) })
	if time.Since(begin) < 2*time.Second {
		t.Errorf("port answered after %s, before the 2s load", time.Since(begin))
	}
	f := start(t, []string{"DBGPT_SIM_FAIL_AFTER=300ms", "DBGPT_SIM_LOAD_DELAY=1m"}, "start", "worker", "--model_name", "m", "--model_path", t.TempDir(),
		"--port", itoa(freePort(t)), "--controller_addr", url(cport))
	if code := f.wait(patience); code != 1 || !strings.Contains(f.err.String(), "Traceback (most recent call last):") ||
		!strings.Contains(f.err.String(), "ModuleNotFoundError: No module named 'torch'") {
		t.Errorf("fail after: exit %d\n%s", code, f.err.String())
	}
}
