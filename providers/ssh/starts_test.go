package ssh

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

func TestAttemptErrors(t *testing.T) {
	log := strings.Split(`hactl: 2026-12-01T09:00:00Z deploy: starting
hactl: 2026-12-01T09:00:00Z attempt 1 starting
old deploy's line
hactl: 2026-12-01T10:00:00Z deploy: starting
hactl: 2026-12-01T10:00:00Z attempt 1 starting
Usage: dbgpt start worker [OPTIONS]
Try 'dbgpt start worker --help' for help.

Error: No such option: --max_context_sise
hactl: 2026-12-01T10:00:01Z process exited with status 2; restart 1 in 1s
hactl: 2026-12-01T10:00:02Z attempt 2 starting
2026-12-01 10:00:02 INFO starting the worker`, "\n")
	lines, status, ok := attemptErrors(log, true)
	if !reflect.DeepEqual(lines, []string{"Error: No such option: --max_context_sise"}) || status != 2 || !ok {
		t.Errorf("run.sh: %q %d %v", lines, status, ok)
	}
	// systemd: no exit lines; the attempt before the running one failed.
	var sd []string
	for _, l := range log {
		if !exitRe.MatchString(l) {
			sd = append(sd, l)
		}
	}
	if lines, _, ok := attemptErrors(sd, true); !reflect.DeepEqual(lines, []string{"Error: No such option: --max_context_sise"}) || ok {
		t.Errorf("systemd, running: %q %v", lines, ok)
	}
	if lines, _, _ := attemptErrors(sd, false); !reflect.DeepEqual(lines, []string{"2026-12-01 10:00:02 INFO starting the worker"}) {
		t.Errorf("systemd, not running: the last attempt: %q", lines)
	}
	// A log without marks (written before them): all of it is one attempt.
	if lines, _, _ := attemptErrors([]string{"a", "Traceback (most recent call last):", "KeyError: 'x'"}, false); len(lines) != 2 {
		t.Errorf("no marks: %q", lines)
	}
	if got := lastLine(log); got != "2026-12-01 10:00:02 INFO starting the worker" {
		t.Errorf("last line %q", got)
	}
	if got := lastLine([]string{"x", "hactl: 2026 supervisor stopped", ""}); got != "x" {
		t.Errorf("last line %q", got)
	}
}

func TestParseStarts(t *testing.T) {
	out := `@@component .
@@supervisor 10 1
@@child 11 1
@@started 1796120000
@@restarts 2
@@exit 1796119990 2 0
@@exit 1796119995 2 1
@@log hactl: 2026-12-01T10:00:00Z attempt 2 starting
@@log Error: No such option: --x
@@log hactl: 2026-12-01T10:00:01Z process exited with status 2; restart 2 in 2s
@@log hactl: 2026-12-01T10:00:03Z attempt 3 starting
@@log loading 1/4
`
	st, err := parseStarts([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := providers.Starts{Running: true, PID: 11, StartedAt: time.Unix(1796120000, 0).UTC(), Restarts: 2,
		Exits:      []providers.Exit{{At: time.Unix(1796119990, 0).UTC(), Status: 2}, {At: time.Unix(1796119995, 0).UTC(), Status: 2, Uptime: time.Second}},
		ErrorLines: []string{"Error: No such option: --x"}, LastLine: "loading 1/4"}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("got  %+v\nwant %+v", st, want)
	}

	unit := `@@component .
@@child 11 1
@@started 1796120000
@@unit active 11 3
@@sd ExecMainStatus=2
@@sd ExecMainCode=1
@@sdts ExecMainStartTimestamp 1796120003
@@sdts ExecMainExitTimestamp 1796120001
@@log loading
`
	st, err = parseStarts([]byte(unit))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Running || st.Restarts != 3 || !st.StartedAt.Equal(time.Unix(1796120003, 0)) || len(st.Exits) != 1 ||
		st.Exits[0].Status != 2 || !st.Exits[0].At.Equal(time.Unix(1796120001, 0)) || st.Exits[0].Uptime != 0 {
		t.Errorf("systemd: %+v", st)
	}
	killed := strings.Replace(unit, "ExecMainCode=1", "ExecMainCode=2", 1)
	killed = strings.Replace(killed, "ExecMainStatus=2", "ExecMainStatus=9", 1)
	if st, _ := parseStarts([]byte(killed)); len(st.Exits) != 1 || st.Exits[0].Status != 137 {
		t.Errorf("killed by a signal: %+v", st.Exits)
	}
	if st, err := parseStarts(nil); err != nil || st.Running || st.Restarts != 0 {
		t.Errorf("no directory: %+v %v", st, err)
	}
}

// The exits file keeps the last 10 exits.
func TestRecordExitCap(t *testing.T) {
	dir := t.TempDir()
	script := "cd " + dir + " || exit 1\nbegan=100\nfor i in 1 2 3 4 5 6 7 8 9 10 11 12; do\nnow=$((100 + i)); rc=$i\n" + shRecordExit + "done\n"
	if out, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b, _ := os.ReadFile(filepath.Join(dir, fileExits))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 10 || lines[0] != "103 3 3" || lines[9] != "112 12 12" {
		t.Errorf("exits:\n%s", b)
	}
}

// A process that exits with a traceback: the deploy (should the exit come
// first) fails naming the exit
// status and the traceback (not the attempt's banner); Starts then shows
// the restarts, each exit and the traceback, and the log marks each attempt.
func TestCrashLoopStarts(t *testing.T) {
	t.Parallel()
	for _, e := range transports(t) {
		t.Run(e.transport, func(t *testing.T) {
			ctx := context.Background()
			s := e.server(t, "server1", fakeCommand(t, "0.6.3"))
			c := &schema.Cluster{Name: "test", Servers: []*schema.Server{s}}
			p := newTestProvider(t, c)
			comp := controllerComp(s, freePort(t), "h")
			comp.Launch.Env["FAKE_MODE"] = "traceback"
			// Deploy returns once the process runs; should it have exited
			// already, its error says how.
			err := p.Deploy(ctx, comp)
			if err != nil && (!strings.Contains(err.Error(), "exit status 1") || !strings.Contains(err.Error(), "ModuleNotFoundError: No module named 'torch'") ||
				!strings.Contains(err.Error(), "Traceback (most recent call last):") || strings.Contains(err.Error(), "INFO loading the model")) {
				t.Fatalf("want success, or the traceback and the exit status, got %v", err)
			}
			var st providers.Starts
			for deadline := time.Now().Add(time.Minute); ; {
				if st, err = p.Starts(ctx, comp); err != nil {
					t.Fatal(err)
				}
				if st.Restarts >= 2 && len(st.Exits) >= 2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no second restart within a minute: %+v", st)
				}
				time.Sleep(200 * time.Millisecond)
			}
			for _, x := range st.Exits {
				if x.Status != 1 || x.At.IsZero() || x.Uptime > 30*time.Second {
					t.Errorf("exit %+v", x)
				}
			}
			if n := len(st.ErrorLines); n != 3 || st.ErrorLines[n-1] != "ModuleNotFoundError: No module named 'torch'" {
				t.Errorf("error lines %q", st.ErrorLines)
			}
			if st.LastLine == "" || strings.HasPrefix(st.LastLine, "hactl:") {
				t.Errorf("last line %q", st.LastLine)
			}
			logs, _ := p.Logs(ctx, providers.Observed{Address: comp.Address, Server: s.Name}, 100)
			if !strings.Contains(logs, "attempt 2 starting") {
				t.Errorf("attempts not marked:\n%s", logs)
			}
			obs, _ := p.Observe(ctx, c)
			for _, o := range obs {
				if err := p.Remove(ctx, o); err != nil {
					t.Fatal(err)
				}
			}
			// Nothing deployed: nothing known.
			if st, err := p.Starts(ctx, comp); err != nil || st.Running || st.Restarts != 0 {
				t.Errorf("after remove: %+v %v", st, err)
			}
		})
	}
}

// The data directory survives a redeploy and a remove (a directory holding
// only it is no component), a later deploy reuses it, and a purging
// Teardown deletes it.
func TestDataKept(t *testing.T) {
	t.Parallel()
	for _, e := range transports(t) {
		t.Run(e.transport, func(t *testing.T) {
			ctx := context.Background()
			s := e.server(t, "server1", fakeCommand(t, "0.6.3"))
			c := &schema.Cluster{Name: "test", Generation: schema.GenerationFlags, Version: "0.6.3", Servers: []*schema.Server{s}}
			var out strings.Builder
			p, err := New(c, Options{StopTimeout: 3 * time.Second, Out: &out})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			comp := controllerComp(s, freePort(t), "h1")
			dir := filepath.Join(s.DeployDir, c.Name, comp.Address)
			meta := filepath.Join(dir, "data", "dbgpt-meta.db")
			if err := p.Deploy(ctx, comp); err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Dir(meta), 0o755)
			os.WriteFile(meta, []byte("rows"), 0o644)
			comp.Hash = "h2"
			if err := p.Deploy(ctx, comp); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(meta); string(b) != "rows" {
				t.Fatalf("redeploy lost the data: %q", b)
			}
			obs, _ := p.Observe(ctx, c)
			if len(obs) != 1 {
				t.Fatalf("observed %+v", obs)
			}
			if err := p.Remove(ctx, obs[0]); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(meta); string(b) != "rows" {
				t.Fatalf("remove lost the data: %q", b)
			}
			if !strings.Contains(out.String(), "kept the data of controller.ctrl1 in "+filepath.Join(dir, "data")) {
				t.Errorf("not told where the data is:\n%s", out.String())
			}
			if _, err := os.Stat(filepath.Join(dir, fileManifest)); err == nil {
				t.Error("manifest left")
			}
			if obs, _ := p.Observe(ctx, c); len(obs) != 0 {
				t.Errorf("a directory with only data/ observed: %+v", obs)
			}
			if probs := p.Preflight(ctx, c, nil); len(probs) != 0 {
				t.Errorf("pre-flight: %v", probs)
			}
			if err := p.Deploy(ctx, comp); err != nil {
				t.Fatalf("deploy over kept data: %v", err)
			}
			if b, _ := os.ReadFile(meta); string(b) != "rows" {
				t.Fatalf("deploy over kept data lost it: %q", b)
			}
			obs, _ = p.Observe(ctx, c)
			if err := p.Remove(ctx, obs[0]); err != nil {
				t.Fatal(err)
			}
			if err := p.Teardown(ctx, false); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(meta); err != nil {
				t.Fatalf("teardown without purge deleted the data: %v", err)
			}
			if err := p.Teardown(ctx, true); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(s.DeployDir, c.Name)); !os.IsNotExist(err) {
				t.Errorf("purge left %s: %v", filepath.Join(s.DeployDir, c.Name), err)
			}
			if !strings.Contains(out.String(), "deleted "+filepath.Join(dir, "data")) {
				t.Errorf("purge not told:\n%s", out.String())
			}
		})
	}
}

// A dbgpt command of several words (a venv's python with -m …) is quoted
// word by word in start.sh and in the pre-flight checks.
func TestDBGPTArgv(t *testing.T) {
	t.Parallel()
	for _, e := range transports(t) {
		t.Run(e.transport, func(t *testing.T) {
			ctx := context.Background()
			fake := fakeCommand(t, "0.6.3")
			s := e.server(t, "server1", "unused")
			s.DBGPTArgv = []string{"/bin/sh", "-c", `exec "$0" "$@"`, fake}
			s.DBGPTCommand = strings.Join(s.DBGPTArgv, " ")
			c := &schema.Cluster{Name: "test", Generation: schema.GenerationFlags, Version: "0.6.3", Servers: []*schema.Server{s}}
			p := newTestProvider(t, c)
			port := freePort(t)
			comp := controllerComp(s, port, "h")
			comp.Launch.Env["WHERE"] = dbgpt.ComponentDir + "/data"
			comp.Launch.Files["conf/public.t"] = dbgpt.File{Content: []byte("public " + dbgpt.ComponentDir + "\n")}
			if probs := p.Preflight(ctx, c, []*plan.Component{comp}); len(probs) != 0 {
				t.Fatalf("pre-flight: %v", probs)
			}
			if err := p.Deploy(ctx, comp); err != nil {
				t.Fatal(err)
			}
			if got := get(t, p, s, port, "/env?name=PLAIN"); got != "x y'z" {
				t.Errorf("env through the argv: %q", got)
			}
			// Paths under the component directory reach the process absolute.
			dir := filepath.Join(s.DeployDir, c.Name, comp.Address)
			if got := get(t, p, s, port, "/env?name=WHERE"); got != dir+"/data" {
				t.Errorf("component directory in env: %q, want %q", got, dir+"/data")
			}
			if got := get(t, p, s, port, "/file?name="+url.QueryEscape(dir+"/conf/public.t")); got != "public "+dir+"\n" {
				t.Errorf("component directory in a file: %q", got)
			}
			s.DBGPTArgv = []string{"/bin/sh", "-c", `exit 0`, "/nonexistent/dbgpt"}
			s.DBGPTArgv[0] = "/nonexistent/python"
			probs := p.Preflight(ctx, c, []*plan.Component{comp})
			if len(probs) == 0 || !strings.Contains(fmt.Sprint(probs), `"/nonexistent/python -c exit 0 /nonexistent/dbgpt" is not found`) {
				t.Errorf("missing program: %v", probs)
			}
			obs, _ := p.Observe(ctx, c)
			for _, o := range obs {
				p.Remove(ctx, o)
			}
		})
	}
}
