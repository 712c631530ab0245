package ssh

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestMain lets the test binary stand in for the dbgpt command: a wrapper
// script (fakeDBGPT) execs it with HACTL_FAKE_DBGPT=1.
func TestMain(m *testing.M) {
	if os.Getenv("HACTL_FAKE_DBGPT") == "1" {
		os.Exit(fakeDBGPT(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeDBGPT: `--version` prints the version of $FAKE_VERSION (0.6.3);
// `start controller --help` prints the flag shape of that generation;
// `start ROLE ... --port N` serves HTTP on 127.0.0.1:N (GET /env?name=X
// answers the process's variable X) until SIGTERM; FAKE_MODE=crash exits 3 at once,
// FAKE_MODE=traceback prints a Python traceback and exits 1.
func fakeDBGPT(args []string) int {
	version := os.Getenv("FAKE_VERSION")
	if version == "" {
		version = "0.6.3"
	}
	noMeta := strings.HasPrefix(version, "nometa-") // as a source install without package metadata
	version = strings.TrimPrefix(version, "nometa-")
	if len(args) == 1 && args[0] == "--version" {
		if noMeta {
			fmt.Println("importlib.metadata.PackageNotFoundError: No package metadata was found for dbgpt")
			return 1
		}
		fmt.Println("dbgpt, version " + version)
		return 0
	}
	if len(args) >= 3 && args[0] == "start" && args[len(args)-1] == "--help" {
		if strings.HasPrefix(version, "0.6") {
			fmt.Println("  --registry_type TEXT  Registry type")
		} else {
			fmt.Println("  -c, --config TEXT  config file")
		}
		return 0
	}
	fmt.Printf("fake started: %q\n", args)
	switch os.Getenv("FAKE_MODE") {
	case "crash":
		fmt.Println("fake: crashing on purpose")
		return 3
	case "traceback":
		fmt.Println("2026-12-01 10:00:00 INFO loading the model")
		fmt.Println("Traceback (most recent call last):")
		fmt.Println(`  File "dbgpt/model/cli.py", line 1, in <module>`)
		fmt.Println("ModuleNotFoundError: No module named 'torch'")
		return 1
	}
	port := ""
	for i, a := range args {
		if a == "--port" && i+1 < len(args) {
			port = args[i+1]
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Println("fake:", err)
		return 1
	}
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/env":
			fmt.Fprint(w, os.Getenv(r.URL.Query().Get("name")))
		case "/file":
			b, _ := os.ReadFile(r.URL.Query().Get("name"))
			w.Write(b)
		default:
			fmt.Fprint(w, `{"status":"ok"}`)
		}
	}))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig
	fmt.Println("fake: got SIGTERM, exiting")
	return 0
}

// fakeCommand writes a dbgpt wrapper script running the test binary.
func fakeCommand(t testing.TB, version string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "dbgpt")
	content := fmt.Sprintf("#!/bin/sh\nHACTL_FAKE_DBGPT=1 FAKE_VERSION=%s exec %s \"$@\"\n", version, exe)
	if err := os.WriteFile(script, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	// Let the test directories be traversed by anyone (the tests run as root anyway).
	_ = os.Chmod(dir, 0o755)
	return script
}
