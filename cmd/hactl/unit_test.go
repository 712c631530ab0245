package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/hactl/hactl/docs"
	"github.com/hactl/hactl/schema"
)

// In-process tests of hactl's helpers: they run under HACTL_E2E=skip and
// need no binary.

func TestNormalizeArgsEdgeCases(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{nil, []string{}},
		{[]string{"-var-file=x.hcl"}, []string{"--var-file=x.hcl"}},
		{[]string{"-auto-approve", "-no-color", "-out", "p"}, []string{"--auto-approve", "--no-color", "--out", "p"}},
		{[]string{"--json", "-n", "5", "-f"}, []string{"--json", "-n", "5", "-f"}}, // already long, or a shorthand
		{[]string{"-varx", "-", "-jsonx"}, []string{"-varx", "-", "-jsonx"}},       // not a name of the list
		{[]string{"logs", "x", "-lines=3"}, []string{"logs", "x", "--lines=3"}},
		{[]string{"--", "-json"}, []string{"--", "-json"}},
	} {
		in := slices.Clone(tc.in)
		got := normalizeArgs(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("normalizeArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !slices.Equal(tc.in, in) {
			t.Errorf("normalizeArgs changed its argument: %q", tc.in)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plan.out":            "plan.out",
		"/tmp/a-b_c/x.tfplan": "/tmp/a-b_c/x.tfplan",
		"name=va:l@1%+,":      "name=va:l@1%+,",
		"":                    "''",
		"a b":                 "'a b'",
		"it's":                `'it'\''s'`,
		"$HOME":               "'$HOME'",
		"x;rm -rf":            "'x;rm -rf'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// loadExample loads examples/NAME/cluster.hcl with vars.
func loadExample(t *testing.T, name string, vars ...string) *schema.Cluster {
	t.Helper()
	c, err := schema.Load(filepath.Join(examplesDir(t), name, "cluster.hcl"), schema.LoadOptions{Vars: vars})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestApplyCommandRepeatsVariablesButNoSecret(t *testing.T) {
	t.Setenv(schema.EnvVarPrefix+"registry_password", "")
	os.Unsetenv(schema.EnvVarPrefix + "registry_password")
	c := loadExample(t, "ha-three-servers", "registry_password=s3cret")
	f := &clusterFlags{
		file:     "ignored.hcl",
		vars:     []string{"registry_password=s3cret", "other=a b", " registry_password =again"},
		varFiles: []string{"one.tfvars", "my vars.hcl"},
	}
	got := f.applyCommand(c, "my plan")
	if strings.Contains(got, "s3cret") || strings.Contains(got, "again") {
		t.Errorf("a sensitive value is printed:\n%s", got)
	}
	lines := strings.Split(got, "\n")
	wantCmd := "    hactl apply -var-file one.tfvars -var-file 'my vars.hcl' -var registry_password=... -var 'other=a b' -var registry_password=... 'my plan'"
	if lines[0] != wantCmd {
		t.Errorf("command line\n%s\nwant\n%s", lines[0], wantCmd)
	}
	if strings.Contains(got, "ignored.hcl") || strings.Contains(got, " -f ") {
		t.Errorf("-f is repeated:\n%s", got)
	}
	note := "  (replace ... with the value of the sensitive variable registry_password, or drop that -var and set HACTL_VAR_registry_password)"
	if strings.Count(got, note) != 1 {
		t.Errorf("want the note once:\n%s", got)
	}
	if strings.Contains(got, "set to the same value as now") {
		t.Errorf("an environment note without HACTL_VAR_ set:\n%s", got)
	}

	// Values from the environment are named (declared variables only),
	// never shown.
	t.Setenv(schema.EnvVarPrefix+"registry_password", "from-env")
	t.Setenv(schema.EnvVarPrefix+"not_declared", "x")
	args, notes := (&clusterFlags{}).repeatFlags(c)
	if len(args) != 0 {
		t.Errorf("args %q, want none", args)
	}
	if !slices.Equal(notes, []string{"with HACTL_VAR_registry_password set to the same value as now"}) {
		t.Errorf("notes %q", notes)
	}
	if got := (&clusterFlags{}).applyCommand(c, "p"); got != "    hactl apply p\n  (with HACTL_VAR_registry_password set to the same value as now)\n" {
		t.Errorf("applyCommand:\n%s", got)
	}
}

func TestFmtTargets(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.hcl", "a.hcl", "c.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	got, err := fmtTargets([]string{dir})
	if want := []string{filepath.Join(dir, "a.hcl"), filepath.Join(dir, "b.hcl")}; err != nil || !slices.Equal(got, want) {
		t.Errorf("a directory: %q, %v; want %q", got, err, want)
	}
	file := filepath.Join(dir, "c.txt")
	got, err = fmtTargets([]string{file, empty})
	if err != nil || !slices.Equal(got, []string{file}) {
		t.Errorf("a file and an empty directory: %q, %v", got, err)
	}
	if _, err := fmtTargets([]string{empty}); err == nil || err.Error() != "no *.hcl files in "+empty {
		t.Errorf("only an empty directory: %v", err)
	}
	if _, err := fmtTargets([]string{filepath.Join(dir, "missing.hcl")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
	if _, err := fmtTargets([]string{"[" + dir}); err == nil {
		t.Error("a missing path with glob characters: no error")
	}
	t.Chdir(dir)
	if got, err := fmtTargets(nil); err != nil || !slices.Equal(got, []string{"a.hcl", "b.hcl"}) {
		t.Errorf("no arguments: %q, %v", got, err)
	}
}

func TestNeedComposeBlock(t *testing.T) {
	if err := needComposeBlock(loadExample(t, "compose", "registry_password=x", "openai_api_key=sk-x")); err != nil {
		t.Errorf("a file with a compose block: %v", err)
	}
	c := loadExample(t, "ha-three-servers", "registry_password=x")
	err := needComposeBlock(c)
	if err == nil {
		t.Fatal("no error without a compose block")
	}
	src, _ := os.ReadFile(c.Filename)
	lines := bytes.Count(src, []byte("\n")) + 1
	msg := err.Error()
	for _, want := range []string{
		c.Filename + " has no compose block: 'export compose' needs one",
		"at the end of the file (" + c.Filename + ":" + strconv.Itoa(lines) + "), or after the cluster block (it starts at " + c.Filename + ":",
		"compose {\n  dbgpt_image = ",
		"'hactl docs cluster-file' lists every argument of the compose block.",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("lacks %q:\n%s", want, msg)
		}
	}

	// The registry's user is root with a password: that password serves.
	if c.Registry.User != "root" || strings.Contains(msg, "root_password") || strings.Contains(msg, "managed_database") {
		t.Errorf("registry user root with a password:\n%s", msg)
	}
	c.Registry.User = "dbgpt"
	if msg := needComposeBlock(c).Error(); !strings.Contains(msg, "  root_password = var.registry_root_password #") {
		t.Errorf("registry user dbgpt: no root_password line:\n%s", msg)
	}

	q := loadExample(t, "quickstart", "dbgpt_command=/bin/true")
	msg = needComposeBlock(q).Error()
	if !strings.Contains(msg, `managed_database = false # the registry is "sqlite"`) || strings.Contains(msg, "root_password") {
		t.Errorf("a SQLite registry:\n%s", msg)
	}
	// A file that cannot be read any more: named without a line.
	q.Filename = filepath.Join(t.TempDir(), "gone.hcl")
	q.Registry = nil
	msg = needComposeBlock(q).Error()
	if !strings.Contains(msg, "Add one at the end of "+q.Filename+",") || strings.Contains(msg, "managed_database") {
		t.Errorf("an unreadable file, no registry:\n%s", msg)
	}
}

func TestCheckExists(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "x.hcl")

	cmd := &cobra.Command{Use: "plan"}
	f := addClusterFlags(cmd)
	if err := cmd.ParseFlags([]string{"-f", missing}); err != nil {
		t.Fatal(err)
	}
	want := "cluster file " + missing + " not found. Check the path, or write a starter file there with 'hactl init -o " + missing + "'"
	if err := f.checkExists(); err == nil || err.Error() != want {
		t.Errorf("-f missing: %v", err)
	}

	t.Chdir(dir)
	f = addClusterFlags(&cobra.Command{Use: "plan"})
	want = "no cluster.hcl in this directory. Write a starter cluster file with 'hactl init' (or 'hactl init --single' for one machine), or name another file with -f FILE"
	if err := f.checkExists(); err == nil || err.Error() != want {
		t.Errorf("no cluster.hcl: %v", err)
	}
	// Named by a saved plan: no flag was given.
	f = &clusterFlags{file: missing}
	if err := f.checkExists(); err == nil || err.Error() != "cluster file "+missing+" not found" {
		t.Errorf("named by a plan: %v", err)
	}
	// Other errors are the decoder's.
	if err := os.WriteFile(filepath.Join(dir, "cluster.hcl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cluster.hcl", dir} {
		if err := (&clusterFlags{file: name}).checkExists(); err != nil {
			t.Errorf("%s exists: %v", name, err)
		}
	}
}

func TestApproveWithoutTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := w.WriteString("yes\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var out bytes.Buffer
	ok, err := approve(r, &out, "Do it?", "detail")
	if ok || err == nil || err.Error() != "no terminal to ask for approval on: pass --auto-approve (or -auto-approve) to apply without asking" {
		t.Errorf("approve from a pipe: %v, %v", ok, err)
	}
	if out.Len() != 0 {
		t.Errorf("asked without a terminal: %q", out.String())
	}
}

func TestFailed(t *testing.T) {
	boom := errors.New("boom")
	var out, errOut bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)

	if err := failed(newView(cmd, false, true), false, boom); err != boom {
		t.Errorf("human view: %v, want the error itself", err)
	}
	if out.Len()+errOut.Len() != 0 {
		t.Errorf("human view printed: %q %q", out.String(), errOut.String())
	}

	err := failed(newView(cmd, true, false), true, boom)
	var ec exitCodeError
	if !errors.As(err, &ec) || ec.code != exitError {
		t.Errorf("JSON view: %v, want exit code 1", err)
	}
	if !strings.Contains(out.String(), `"type":"diagnostic"`) || !strings.Contains(out.String(), "boom") {
		t.Errorf("JSON view printed:\n%s", out.String())
	}
	if ec.Error() != "exit status 1" {
		t.Errorf("exitCodeError says %q", ec.Error())
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 problems", 1: "1 problem", 2: "2 problems", 11: "11 problems"} {
		if got := plural(n, "problem"); got != want {
			t.Errorf("plural(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPrintError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errors.New("it broke"), "Error: it broke\n"},
		{errors.New("Error: already said"), "Error: already said\n"},
	} {
		var b bytes.Buffer
		printError(&b, tc.err)
		if b.String() != tc.want {
			t.Errorf("printError(%v) = %q, want %q", tc.err, b.String(), tc.want)
		}
	}

	// Diagnostics carry their own headings, to a buffer or a file.
	src := []byte("cluster {\n  name = 1\n}\n")
	de := &schema.DiagnosticsError{
		Files: map[string]*hcl.File{"x.hcl": {Bytes: src}},
		Diagnostics: hcl.Diagnostics{{
			Severity: hcl.DiagError, Summary: "Bad name", Detail: "a string is needed",
			Subject: &hcl.Range{Filename: "x.hcl", Start: hcl.Pos{Line: 2, Column: 10, Byte: 19}, End: hcl.Pos{Line: 2, Column: 11, Byte: 20}},
		}},
	}
	var b bytes.Buffer
	printError(&b, de)
	if got := b.String(); strings.Count(got, "Error:") != 1 || !strings.Contains(got, "Bad name") || !strings.Contains(got, "on x.hcl line 2:") {
		t.Errorf("diagnostics to a buffer:\n%s", got)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	printError(f, de)
	got, _ := os.ReadFile(f.Name())
	if string(got) != b.String() {
		t.Errorf("diagnostics to a file (no terminal, no colour):\n%s\nwant\n%s", got, b.String())
	}
}

func TestNoColorAndWidth(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Setenv("NO_COLOR", "1")
	if useColor(f) || terminalWidth(f) != 0 {
		t.Error("NO_COLOR set: colour or a width")
	}
	t.Setenv("NO_COLOR", "")
	if useColor(f) || terminalWidth(f) != 0 {
		t.Error("a plain file: colour or a width")
	}
}

func TestCompletionFunctions(t *testing.T) {
	ha := filepath.Join(examplesDir(t), "ha-three-servers", "cluster.hcl")
	logs := func(args ...string) *cobra.Command {
		t.Helper()
		root := newRootCmd(nil, nil)
		cmd, _, err := root.Find([]string{"logs"})
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	want := []string{"controller.controller1", "controller.controller2", "worker.glm-4-9b-chat", "worker.text2vec", "webserver"}
	got, d := completeComponents(logs("--file", ha), nil, "")
	if !slices.Equal(got, want) || d != cobra.ShellCompDirectiveNoFileComp {
		t.Errorf("logs TAB: %q %v", got, d)
	}
	if got, d := completeComponents(logs("--file", ha), []string{"webserver"}, ""); got != nil || d != cobra.ShellCompDirectiveNoFileComp {
		t.Errorf("a second argument: %q %v", got, d)
	}
	dir := t.TempDir()
	invalid := filepath.Join(dir, "bad.hcl")
	if err := os.WriteFile(invalid, []byte("cluster {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{filepath.Join(dir, "missing.hcl"), invalid} {
		if c := completionCluster(logs("--file", file)); c != nil {
			t.Errorf("%s: a cluster", file)
		}
		if got, d := completeComponents(logs("--file", file), nil, ""); got != nil || d != cobra.ShellCompDirectiveNoFileComp {
			t.Errorf("%s: %q %v", file, got, d)
		}
		drill := &cobra.Command{Use: "drill"}
		addClusterFlags(drill)
		_ = drill.ParseFlags([]string{"-f", file})
		if got, d := completeDrillTargets(drill, nil, ""); got != nil || d != cobra.ShellCompDirectiveNoFileComp {
			t.Errorf("drill on %s: %q %v", file, got, d)
		}
	}
	// A --var given to logs reaches the loader.
	q := filepath.Join(examplesDir(t), "quickstart", "cluster.hcl")
	if c := completionCluster(logs("--file", q, "--var", "dbgpt_command=/x/dbgpt")); c == nil || c.Servers[0].DBGPTCommand != "/x/dbgpt" {
		t.Errorf("--var not used by completion: %+v", c)
	}

	// APIServer present: the address list ends with it.
	c := loadExample(t, "ha-three-servers", "registry_password=x")
	c.APIServer = &schema.APIServer{}
	if got := componentAddresses(c); got[len(got)-1] != "apiserver" {
		t.Errorf("with an API server: %q", got)
	}

	// documentCompletion wired logs, --provider and the docs topics.
	root := newRootCmd(nil, nil)
	docsCmd, _, _ := root.Find([]string{"docs"})
	topics, d := docsCmd.ValidArgsFunction(docsCmd, nil, "")
	if d != cobra.ShellCompDirectiveNoFileComp || len(topics) != len(docs.Topics()) || !strings.HasPrefix(topics[0], docs.Topics()[0].Name+"\t") {
		t.Errorf("docs TAB: %q %v", topics, d)
	}
	if more, _ := docsCmd.ValidArgsFunction(docsCmd, []string{"x"}, ""); more != nil {
		t.Errorf("docs x TAB: %q", more)
	}
	compl, _, _ := root.Find([]string{"completion"})
	if compl.Name() != "completion" || !strings.Contains(compl.Long, "hactl logs TAB") {
		t.Errorf("completion is not documented: %q", compl.Long)
	}
}

func TestListTopics(t *testing.T) {
	var b bytes.Buffer
	listTopics(&b)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(docs.Topics()) {
		t.Fatalf("%d lines for %d topics:\n%s", len(lines), len(docs.Topics()), b.String())
	}
	for i, tp := range docs.Topics() {
		if !strings.HasPrefix(lines[i], "  "+tp.Name+" ") || !strings.HasSuffix(lines[i], "  "+tp.Title) {
			t.Errorf("line %q for %s", lines[i], tp.Name)
		}
	}
}
