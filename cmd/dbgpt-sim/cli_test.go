package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	out, _, code := run(t, nil, "--version")
	if code != 0 || out != "dbgpt, version 0.6.3\n" {
		t.Errorf("default --version: %q exit %d", out, code)
	}
	out, _, _ = run(t, []string{"DBGPT_SIM_VERSION=0.7.1"}, "--version")
	if out != "dbgpt, version 0.7.1\n" {
		t.Errorf("--version with DBGPT_SIM_VERSION=0.7.1: %q", out)
	}
	_, errOut, code := run(t, []string{"DBGPT_SIM_NO_METADATA=1"}, "--version")
	if code == 0 || !strings.Contains(errOut, "RuntimeError") {
		t.Errorf("--version without metadata: exit %d, %q", code, errOut)
	}
	for _, v := range []string{"0.6.3", "0.7.0"} {
		out, _, code = run(t, []string{"DBGPT_SIM_VERSION=" + v}, "--help")
		for _, g := range []string{"start", "stop", "model"} {
			if code != 0 || !strings.Contains(out, "\n  "+g+" ") {
				t.Errorf("%s --help lacks %s (exit %d):\n%s", v, g, code, out)
			}
		}
	}
	out, _, _ = run(t, []string{"DBGPT_SIM_VERSION=0.6.3"}, "start", "controller", "--help")
	if !strings.Contains(out, "--registry_type") || strings.Contains(out, "--config") {
		t.Errorf("flags generation controller help:\n%s", out)
	}
	out, _, _ = run(t, []string{"DBGPT_SIM_VERSION=0.7.0"}, "start", "controller", "--help")
	if !strings.Contains(out, "-c, --config") || strings.Contains(out, "--registry_type") {
		t.Errorf("TOML generation controller help:\n%s", out)
	}
	out, _, _ = run(t, nil, "start", "worker", "--help")
	for _, f := range []string{"--model_name", "--model_path", "--worker_type", "--controller_addr", "--worker_register_host", "--heartbeat_interval", "--prompt_template"} {
		if !strings.Contains(out, f) {
			t.Errorf("worker help lacks %s", f)
		}
	}
	out, _, _ = run(t, nil, "start", "--help")
	for _, c := range []string{"controller", "worker", "webserver", "apiserver"} {
		if !strings.Contains(out, c) {
			t.Errorf("start --help lacks %s", c)
		}
	}
	_, errOut, code = run(t, nil, "stop", "controller")
	if code == 0 || !strings.Contains(errOut, "not supported") {
		t.Errorf("stop: exit %d %q", code, errOut)
	}
}

// Each generation rejects the other's command line as click does: usage,
// "Error: ..." and exit 2.
func TestCommandLineRejection(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(cfg, []byte("[service.model.controller]\nport = 1\n"), 0o600)
	cases := []struct {
		version string
		args    []string
		want    string
	}{
		{"0.6.3", []string{"start", "controller", "-c", cfg}, "Error: No such option '-c'."},
		{"0.6.3", []string{"start", "controller", "--config", cfg}, "Error: No such option '--config'."},
		{"0.6.3", []string{"start", "webserver", "--config=" + cfg}, "Error: No such option '--config'."},
		{"0.7.0", []string{"start", "controller", "--registry_type", "database"}, "Error: No such option '--registry_type'."},
		{"0.7.0", []string{"start", "controller", "-c", cfg, "--port", "8000"}, "Error: No such option '--port'."},
		{"0.8.0", []string{"start", "worker", "-c", cfg, "--model_name", "x"}, "Error: No such option '--model_name'."},
		{"0.7.0", []string{"start", "apiserver", "--api_keys", "k"}, "Error: No such option '--api_keys'."},
		{"0.6.3", []string{"start", "controller", "--port", "abc"}, "Error: Invalid value for '--port': 'abc' is not a valid integer."},
		{"0.6.3", []string{"start", "controller", "--port"}, "Error: Option '--port' requires an argument."},
		{"0.6.3", []string{"start", "webserver", "--light=false"}, "Error: Option '--light' does not take a value."},
		{"0.6.3", []string{"start", "worker", "--model_path", "/tmp"}, "Error: Missing option '--model_name'."},
		{"0.6.3", []string{"start", "controller", "extra"}, "Error: Got unexpected extra argument (extra)"},
		{"0.6.3", []string{"start", "nothing"}, "Error: No such command 'nothing'."},
		{"0.6.3", []string{"model", "list", "--address", "http://x"}, "Error: No such option '--address'."},
	}
	for _, c := range cases {
		_, errOut, code := run(t, []string{"DBGPT_SIM_VERSION=" + c.version}, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "Usage: dbgpt") {
			t.Errorf("%s dbgpt %s: exit %d, stderr:\n%s\nwant exit 2 and %q", c.version, strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
}

func TestTOMLPlaceholders(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	os.WriteFile(cfg, []byte(`
[service.model.controller]
port = "${env:SIM_TEST_PORT}"
[service.model.controller.registry.database]
type = "sqlite"
path = "${env:SIM_TEST_DB:-`+filepath.Join(dir, "default.db")+`}"
`), 0o600)
	env := []string{"DBGPT_SIM_VERSION=0.7.0"}
	// Missing variable without default: an error naming it, non-zero exit.
	_, errOut, code := run(t, env, "start", "controller", "-c", cfg)
	if code == 0 || !strings.Contains(errOut, "SIM_TEST_PORT") {
		t.Fatalf("missing variable: exit %d, %q", code, errOut)
	}
	// Set: the port is taken from it, the path falls back to its default.
	port := freePort(t)
	p := start(t, append(env, "SIM_TEST_PORT="+itoa(port)), "start", "controller", "-c", cfg)
	waitUp(t, p, url(port))
	if _, err := os.Stat(filepath.Join(dir, "default.db")); err != nil {
		t.Errorf("default path not used: %v", err)
	}
	// A non-integer from the environment is an error.
	_, errOut, code = run(t, append(env, "SIM_TEST_PORT=eighty"), "start", "controller", "-c", cfg)
	if code == 0 || !strings.Contains(errOut, "eighty") {
		t.Errorf("bad integer: exit %d, %q", code, errOut)
	}
	// A config file that does not exist.
	_, errOut, code = run(t, env, "start", "controller", "-c", filepath.Join(dir, "nope.toml"))
	if code == 0 || !strings.Contains(errOut, "nope.toml") {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
}

// --daemon starts a detached copy and returns at once, leaving no pid file.
func TestDaemon(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	p := start(t, nil, "start", "controller", "--host", "127.0.0.1", "--port", itoa(port), "--daemon")
	if code := p.wait(patience); code != 0 {
		t.Fatalf("--daemon exit %d: %s", code, p.err.String())
	}
	eventually(t, patience, "daemon to answer", func() bool { return portOpen(port) })
	// Find the daemon by its command line to stop it.
	matches, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	found := false
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) > 0 && args[0] == bin && strings.Contains(string(b), "\x00"+itoa(port)+"\x00") {
			if strings.Contains(string(b), "--daemon") {
				t.Errorf("daemon kept --daemon in its command line: %q", args)
			}
			pid, _ := strconv.Atoi(strings.Split(m, "/")[2])
			syscall.Kill(pid, syscall.SIGTERM)
			found = true
		}
	}
	if !found {
		t.Fatal("daemon process not found")
	}
	eventually(t, patience, "daemon to stop on SIGTERM", func() bool { return !portOpen(port) })
}
