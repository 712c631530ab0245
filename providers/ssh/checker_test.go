package ssh

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
)

const simCheckerTraceback = `Exception in thread Thread-1 (_heartbeat_checker):
Traceback (most recent call last):
  File "dbgpt/model/cluster/registry.py", in _heartbeat_checker
sqlalchemy.exc.OperationalError: dial tcp 10.0.0.9:3306: connect: connection refused
`

const checkerErrLine = "sqlalchemy.exc.OperationalError: dial tcp 10.0.0.9:3306: connect: connection refused"

// The observe script's checker function (awk on the server) finds what
// providers.CheckerError finds, in the lines since the last attempt.
func TestObserveCheckerScript(t *testing.T) {
	if _, err := exec.LookPath("awk"); err != nil {
		t.Skip("no awk")
	}
	attempt := func(n string) string { return "hactl: 2026-12-07T15:00:0" + n + "Z attempt " + n + " starting\n" }
	info := "2026-12-07 15:00:00 ctrl dbgpt.model.cluster.controller[42] INFO ok\n"
	other := "Exception in thread Thread-2 (_serve):\nTraceback (most recent call last):\n  File \"x.py\", in _serve\nValueError: no\n"
	for _, tc := range []struct {
		name, log1, log string
		want            string // "" = no defect
	}{
		{"clean", "", attempt("1") + info, ""},
		{"died in this attempt", "", attempt("1") + info + simCheckerTraceback + info, checkerErrLine},
		{"died in an earlier attempt", "", attempt("1") + simCheckerTraceback + "hactl: 2026-12-07T15:01:00Z process exited with status 143; restart 1 in 1s\n" + attempt("2") + info, ""},
		{"the word, no traceback", "", attempt("1") + "DEBUG _heartbeat_checker pass\n", ""},
		{"another thread", "", attempt("1") + other, ""},
		{"rotated: attempt mark in log.1", attempt("3") + info, simCheckerTraceback, checkerErrLine},
		{"rotated: died before a later attempt", attempt("3") + simCheckerTraceback, attempt("4") + info, ""},
		{"far apart: another thread, then the checker", "", attempt("1") + other + strings.Repeat(info, 300) + simCheckerTraceback + strings.Repeat(info, 300), checkerErrLine},
		{"far apart: the checker, then a new attempt", "", attempt("1") + simCheckerTraceback + strings.Repeat(info, 300) + attempt("2") + strings.Repeat(info, 300), ""},
		{"no log", "", "", ""},
		{"crlf", "", attempt("1") + strings.ReplaceAll(simCheckerTraceback, "\n", "\r\n"), checkerErrLine},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "controller.c1")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.log1 != "" {
				os.WriteFile(filepath.Join(dir, fileLogOld), []byte(tc.log1), 0o600)
			}
			if tc.log != "" {
				os.WriteFile(filepath.Join(dir, fileLog), []byte(tc.log), 0o600)
			}
			out, err := exec.Command("sh", "-c", shChecker+`checker "$1"`, "sh", dir).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			got := strings.TrimSpace(string(out))
			want := ""
			if tc.want != "" {
				want = "@@checker " + tc.want
			}
			if got != want {
				t.Errorf("checker printed %q, want %q", got, want)
			}
			// The Go scanner agrees on the lines since the last attempt.
			all := tc.log1 + tc.log
			if i := strings.LastIndex(all, " starting\n"); i >= 0 {
				all = all[i:]
			}
			e, died, _ := providers.CheckerError(strings.NewReader(all))
			if died != (tc.want != "") || e != tc.want {
				t.Errorf("providers.CheckerError = %q, %v", e, died)
			}
		})
	}
}

func TestParseObserveChecker(t *testing.T) {
	out := "@@component c/controller.c1\n@@manifest {\"cluster\":\"c\",\"address\":\"controller.c1\",\"role\":\"controller\",\"server\":\"s1\"}\n" +
		"@@supervisor 100 1\n@@child 101 1\n@@started 1795000000\n@@restarts 0\n@@checker " + checkerErrLine + "\n" +
		"@@component c/controller.c2\n@@manifest {\"cluster\":\"c\",\"address\":\"controller.c2\",\"role\":\"controller\",\"server\":\"s1\"}\n" +
		"@@supervisor 100 0\n@@child 101 0\n@@checker " + checkerErrLine + "\n" +
		"@@component c/controller.c3\n@@manifest {\"cluster\":\"c\",\"address\":\"controller.c3\",\"role\":\"controller\",\"server\":\"s1\"}\n" +
		"@@supervisor 200 1\n@@child 201 1\n"
	fs, err := parseObserve([]byte(out))
	if err != nil || len(fs) != 3 {
		t.Fatalf("%+v %v", fs, err)
	}
	if o := fs[0].observed(); o.Defect != plan.CheckerDefect(checkerErrLine) {
		t.Errorf("running, checker died: defect %q", o.Defect)
	}
	if o := fs[1].observed(); o.Defect != "" {
		t.Errorf("not running: defect %q", o.Defect)
	}
	if o := fs[2].observed(); o.Defect != "" {
		t.Errorf("clean: defect %q", o.Defect)
	}
}

// The log-reading script shows the last lines across a rotation, however
// the read falls against it: the log just emptied (the rotation's note not
// yet written), a few lines since, or none rotated yet.
func TestTailLogAcrossRotation(t *testing.T) {
	lines := func(from, to int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			fmt.Fprintf(&b, "line %d\n", i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, log1, log, want string
	}{
		{name: "not rotated", log: lines(1, 9), want: lines(5, 9)},
		{name: "emptied a moment ago", log1: lines(1, 9), log: "", want: lines(5, 9)},
		{name: "two lines since", log1: lines(1, 9), log: lines(10, 11), want: lines(7, 11)},
		{name: "enough since", log1: lines(1, 9), log: lines(10, 20), want: lines(16, 20)},
		{name: "short, never rotated", log: lines(1, 2), want: lines(1, 2)},
		{name: "empty, never rotated", log: "", want: ""},
		{name: "no last newline", log: "line 1\nline 2", want: lines(1, 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := filepath.Join(dir, fileLog)
			if tc.log1 != "" {
				os.WriteFile(f+".1", []byte(tc.log1), 0o600)
			}
			os.WriteFile(f, []byte(tc.log), 0o600)
			out, err := exec.Command("sh", "-c", `f="$1"`+"\n"+shTailLog(5), "sh", f).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if string(out) != tc.want {
				t.Errorf("printed %q, want %q", out, tc.want)
			}
		})
	}
	// A rotation between the script's commands: here the first tail runs
	// just after one (a tail on PATH that rotates, then reads).
	dir := t.TempDir()
	f := filepath.Join(dir, fileLog)
	os.WriteFile(f, []byte(lines(1, 9)), 0o600)
	real, err := exec.LookPath("tail")
	if err != nil {
		t.Skip("no tail")
	}
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "tail"), []byte(fmt.Sprintf(`#!/bin/sh
if [ ! -f %[1]q.done ]; then : > %[1]q.done; cp %[1]q %[1]q.1; : > %[1]q; fi
exec %[2]q "$@"
`, f, real)), 0o755)
	cmd := exec.Command("sh", "-c", `f="$1"`+"\n"+shTailLog(5), "sh", f)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil || string(out) != lines(5, 9) {
		t.Errorf("rotated while read: %v %q", err, out)
	}

	// No log at all is an error, with tail's words.
	out, err := exec.Command("sh", "-c", `f="$1"`+"\n"+shTailLog(5), "sh", filepath.Join(t.TempDir(), fileLog)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "No such file") {
		t.Errorf("no log: %v %q", err, out)
	}
}
