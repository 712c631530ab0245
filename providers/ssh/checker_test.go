package ssh

import (
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
