package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/docs"
	"github.com/hactl/hactl/internal/testport"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/schema"
)

// The command line's own contract (issue 8), through the built binary:
// version, error messages, completion and the built-in docs.

// commitOfBinary is what the go command recorded in bin as its commit, or
// "unknown" when it recorded none (as in a git worktree or under
// GOFLAGS=-buildvcs=false).
func commitOfBinary(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	rev, dirty := "", false
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 || f[0] != "build" {
			continue
		}
		if v, ok := strings.CutPrefix(f[1], "vcs.revision="); ok {
			rev = v
		}
		dirty = dirty || f[1] == "vcs.modified=true"
	}
	switch {
	case rev == "":
		return "unknown"
	case dirty:
		return rev + "+dirty"
	}
	return rev
}

func TestVersion(t *testing.T) {
	dir := t.TempDir()
	r := runHactl(t, dir, nil, "version")
	commit := commitOfBinary(t, hactlBinary(t))
	for _, want := range []string{
		"hactl " + testVersion + "\n",
		"commit: " + commit + "\n",
		"default 0.6.3",
		"0.6: DB-GPT 0.5.9 – 0.6.x, settings as command-line flags and environment variables\n",
		"0.7: DB-GPT 0.7.0 and later, settings as a TOML file (dbgpt start ... -c FILE)\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 0 || r.stderr != "" {
		t.Errorf("version: %+v", r)
	}
	for _, flag := range []string{"--version", "-version", "-v"} {
		if f := runHactl(t, dir, nil, flag); f.code != 0 || f.stdout != r.stdout {
			t.Errorf("%s printed %+v, want what version prints:\n%s", flag, f, r.stdout)
		}
	}
}

// invalidCluster has two errors: no controller, and an unknown argument.
const invalidCluster = "cluster {\n  name = \"x\"\n}\n\nserver \"a\" {\n  address = \"10.0.0.1\"\n  port_nr = 22\n}\n"

// An invalid file's diagnostics carry their own "Error:"; no command adds
// another. Every command that reads the file prints them as validate does
// (with -json, how errors are reported is the JSON view's, tested there).
func TestErrorOnce(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "c.hcl"), []byte(invalidCluster), 0o644)
	v := runHactl(t, dir, []string{"NO_COLOR=1"}, "validate", "-f", "c.hcl")
	if v.code != 1 || strings.Count(v.stderr, "Error:") != 2 {
		t.Fatalf("validate: %+v", v)
	}
	for _, args := range [][]string{
		{"plan"}, {"apply", "-auto-approve"}, {"destroy", "-auto-approve"},
		{"status"}, {"logs", "worker.x"}, {"export", "compose"},
	} {
		fileFlag := "-f"
		if args[0] == "logs" {
			fileFlag = "--file" // logs -f follows
		}
		r := runHactl(t, dir, []string{"NO_COLOR=1"}, append(args, fileFlag, "c.hcl")...)
		if r.code != 1 || r.stderr != v.stderr {
			t.Errorf("%v: exit %d, stderr\n%s\nwant validate's\n%s", args, r.code, r.stderr, v.stderr)
		}
	}
	// Other errors get one "Error:" too.
	r := runHactl(t, dir, nil, "logs", "x", "-n", "0", "--file", "c.hcl")
	if r.code != 1 || r.stderr != "Error: -n 0: want a positive number of lines\n" {
		t.Errorf("logs -n 0: %+v", r)
	}
}

func TestMissingClusterFile(t *testing.T) {
	dir := t.TempDir()
	for _, cmd := range []string{"validate", "plan", "apply", "destroy", "status", "export compose"} {
		r := runHactl(t, dir, nil, strings.Fields(cmd)...)
		if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "Error:") != 1 ||
			!strings.Contains(r.stderr, "no cluster.hcl in this directory") ||
			!strings.Contains(r.stderr, "'hactl init'") || !strings.Contains(r.stderr, "-f FILE") {
			t.Errorf("%s without cluster.hcl: %+v", cmd, r)
		}
		r = runHactl(t, dir, nil, append(strings.Fields(cmd), "-f", "prod.hcl")...)
		if r.code != 1 || r.stderr != "Error: cluster file prod.hcl not found. Check the path, or write a starter file there with 'hactl init -o prod.hcl'\n" {
			t.Errorf("%s -f prod.hcl: %+v", cmd, r)
		}
	}
}

func TestExportComposeWithoutComposeBlock(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(examplesDir(t), "quickstart", "cluster.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "cluster.hcl"), src, 0o644)
	lines := strings.Count(string(src), "\n")
	clusterLine := 1 + slices.Index(strings.Split(string(src), "\n"), "cluster {")
	r := runHactl(t, dir, nil, "export", "compose", "-var", "dbgpt_command=/bin/dbgpt")
	for _, want := range []string{
		"Error: cluster.hcl has no compose block: 'export compose' needs one to know the image that runs DB-GPT.",
		fmt.Sprintf("Add one at the end of the file (cluster.hcl:%d), or after the cluster block (it starts at cluster.hcl:%d)", lines+1, clusterLine),
		"\ncompose {\n  dbgpt_image = \"eosphorosai/dbgpt:latest\"",
		"'hactl docs cluster-file'",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "Error:") != 1 || clusterLine < 1 {
		t.Errorf("%+v (cluster block at line %d)", r, clusterLine)
	}

	// The example it proposes, added where it says, makes the export work.
	example := r.stderr[strings.Index(r.stderr, "compose {"):]
	example = example[:strings.Index(example, "}\n")+2]
	os.WriteFile(filepath.Join(dir, "cluster.hcl"), append(src, []byte("\n"+example)...), 0o644)
	r = runHactl(t, dir, nil, "export", "compose", "-var", "dbgpt_command=/bin/dbgpt")
	if r.code != 0 || !strings.Contains(r.stdout, "image: eosphorosai/dbgpt:latest") {
		t.Errorf("export with the proposed block: %+v", r)
	}
}

// planVarsCluster is deployed on this machine (transport local) by a
// stand-in dbgpt that only says its version: enough for plan's pre-flight.
const planVarsCluster = `variable "worker_port" {
  type = number
}

variable "api_key" {
  type      = string
  sensitive = true
}

cluster {
  name = "plan-vars"
}

server "local" {
  transport     = "local"
  address       = "127.0.0.1"
  deploy_dir    = "%[1]s/deploy"
  dbgpt_command = "%[1]s/dbgpt"
}

registry "sqlite" {
  path = "%[1]s/registry.db"
}

model "glm" {
  type = "llm"
  path = "%[1]s/models/glm"
}

controller "c1" {
  server = server.local
  port   = %[2]d
}

worker "llm" {
  server = server.local
  model  = model.glm
  port   = var.worker_port
}

apiserver {
  server   = server.local
  port     = %[3]d
  api_keys = [var.api_key]
}
`

// A saved plan records its variables' values as salted digests: apply
// with other values names the variables (not the values) before pre-flight,
// and plan's hint repeats the flags apply needs without a secret.
func TestPlanFileVariables(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "models", "glm"), 0o755); err != nil {
		t.Fatal(err)
	}
	dbgpt := filepath.Join(dir, "dbgpt")
	if err := os.WriteFile(dbgpt, []byte("#!/bin/sh\necho 'dbgpt, version 0.6.3'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(planVarsCluster, dir, testport.Free(t), testport.Free(t))
	os.WriteFile(filepath.Join(dir, "cluster.hcl"), []byte(src), 0o644)
	port := testport.Free(t)
	os.WriteFile(filepath.Join(dir, "vars.hcl"), []byte(fmt.Sprintf("worker_port = %d\n", port)), 0o644)
	const secret = "s3cret-key"

	r := runHactl(t, dir, []string{"NO_COLOR=1"}, "plan", "-var-file", "vars.hcl", "-var", "api_key="+secret, "-out", "my plan")
	if r.code != 0 {
		t.Fatalf("plan: %+v", r)
	}
	for _, want := range []string{
		"Saved the plan to: my plan\n\nTo perform exactly these actions, run:\n    hactl apply -var-file vars.hcl -var api_key=... 'my plan'\n",
		"(replace ... with the value of the sensitive variable api_key, or drop that -var and set HACTL_VAR_api_key)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan's hint lacks %q:\n%s", want, r.stdout)
		}
	}
	saved, err := os.ReadFile(filepath.Join(dir, "my plan"))
	if err != nil || strings.Contains(string(saved)+r.stdout+r.stderr, secret) {
		t.Fatalf("the secret is in the plan file or the output (or %v)", err)
	}
	f, err := plan.ReadFile(filepath.Join(dir, "my plan"))
	if err != nil || len(f.Variables) != 2 || f.VariablesSalt == "" {
		t.Fatalf("plan file variables: %v %+v", err, f)
	}

	// A non-sensitive -var is repeated as given; one from the environment
	// is named.
	r = runHactl(t, dir, []string{"HACTL_VAR_api_key=" + secret}, "plan", "-var", fmt.Sprintf("worker_port=%d", port), "-out", "p2")
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("    hactl apply -var worker_port=%d p2\n  (with HACTL_VAR_api_key set to the same value as now)\n", port)) {
		t.Errorf("plan with HACTL_VAR_: %+v", r)
	}

	// From here pre-flight would fail: without the dbgpt command. Other
	// values are refused before it, naming what differs.
	os.Remove(dbgpt)
	for _, c := range []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"-var", fmt.Sprintf("worker_port=%d", port+1), "-var", "api_key=" + secret}, nil, "worker_port"},
		{[]string{"-var-file", "vars.hcl"}, []string{"HACTL_VAR_api_key=other"}, "api_key"},
		{[]string{"-var", fmt.Sprintf("worker_port=%d", port+1), "-var", "api_key=other"}, nil, "api_key, worker_port"},
	} {
		r = runHactl(t, dir, append([]string{"NO_COLOR=1"}, c.env...), append(append([]string{"apply"}, c.args...), "my plan")...)
		if r.code != 1 || strings.Count(r.stderr, "Error:") != 1 ||
			!strings.Contains(r.stderr, "the plan was made with other variable values: "+c.want+" (") ||
			strings.Contains(r.stderr, "pre-flight") || strings.Contains(r.stderr, secret) || strings.Contains(r.stderr, fmt.Sprint(port+1)) {
			t.Errorf("apply %v: %+v", c.args, r)
		}
	}
	// The same values pass that check and meet the failing pre-flight: the
	// check above is what refused, not pre-flight.
	r = runHactl(t, dir, []string{"NO_COLOR=1", "HACTL_VAR_api_key=" + secret}, "apply", "-var-file", "vars.hcl", "my plan")
	if r.code != 1 || !strings.Contains(r.stderr, "pre-flight") || strings.Contains(r.stderr, "variable values") {
		t.Errorf("apply with the plan's values: %+v", r)
	}
}

func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	ha := filepath.Join(examplesDir(t), "ha-three-servers", "cluster.hcl")
	complete := func(args ...string) (values []string, directive string) {
		t.Helper()
		r := runHactl(t, dir, nil, append([]string{"__complete"}, args...)...)
		if r.code != 0 {
			t.Fatalf("__complete %v: %+v", args, r)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		for _, l := range lines[:len(lines)-1] {
			v, _, _ := strings.Cut(l, "\t")
			values = append(values, v)
		}
		return values, lines[len(lines)-1]
	}
	want := []string{"controller.controller1", "controller.controller2", "worker.glm-4-9b-chat", "worker.text2vec", "webserver"}
	for _, f := range []string{"--file", "-file"} { // logs -f is --follow
		if got, _ := complete("logs", f, ha, ""); !slices.Equal(got, want) {
			t.Errorf("logs %s: %q, want %q", f, got, want)
		}
	}
	if got, _ := complete("logs", "--file", filepath.Join(dir, "none.hcl"), ""); len(got) != 0 {
		t.Errorf("logs on a missing file: %q", got)
	}
	for _, f := range []string{"--provider", "-provider"} {
		if got, d := complete("plan", f, ""); !slices.Equal(got, []string{"compose", "ssh"}) || d != ":4" {
			t.Errorf("plan %s: %q %s", f, got, d)
		}
	}
	// :8 is cobra's ShellCompDirectiveFilterFileExt.
	if got, d := complete("apply", "-f", ""); !slices.Equal(got, []string{"hcl"}) || d != ":8" {
		t.Errorf("apply -f: %q %s", got, d)
	}
	if got, d := complete("status", "-var-file", ""); !slices.Equal(got, []string{"hcl", "tfvars"}) || d != ":8" {
		t.Errorf("status -var-file: %q %s", got, d)
	}
	if got, _ := complete("docs", ""); !slices.Contains(got, "cluster-file") || !slices.Contains(got, "plan-apply") {
		t.Errorf("docs: %q", got)
	}

	for shell, want := range map[string]string{"bash": "__start_hactl", "zsh": "#compdef hactl", "fish": "complete -c hactl"} {
		r := runHactl(t, dir, nil, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("completion %s: exit %d, lacks %q", shell, r.code, want)
		}
	}
	r := runHactl(t, dir, nil, "completion", "--help")
	for _, want := range []string{"source <(hactl completion bash)", "hactl completion zsh", "hactl completion fish | source", "hactl logs TAB"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("completion --help lacks %q", want)
		}
	}
}

// The addresses completion offers are the ones plan gives the components;
// drill targets are the controllers, workers and a registry of its own.
func TestComponentAddressesAndDrillTargets(t *testing.T) {
	for ex, vars := range map[string][]string{
		"ha-three-servers": {"registry_password=x"}, "quickstart": {"dbgpt_command=/bin/dbgpt"}, "compose": {"registry_password=x", "openai_api_key=sk-x"},
	} {
		c, err := schema.Load(filepath.Join(examplesDir(t), ex, "cluster.hcl"), schema.LoadOptions{Vars: vars})
		if err != nil {
			t.Fatal(err)
		}
		comps, err := plan.Desired(c)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, comp := range comps {
			want = append(want, comp.Address)
		}
		got := componentAddresses(c)
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
			t.Errorf("%s: completion offers %q, plan has %q", ex, got, want)
		}
		targets := drillTargets(c)
		if !slices.Contains(targets, "registry") || slices.Contains(targets, "webserver") ||
			len(targets) != len(c.Controllers)+len(c.Workers)+1 {
			t.Errorf("%s: drill targets %q", ex, targets)
		}
	}
	// What a drill command will register for --target: the flags name the
	// file, variables may be unset.
	cmd := &cobra.Command{Use: "drill"}
	addClusterFlags(cmd)
	if err := cmd.ParseFlags([]string{"-f", filepath.Join(examplesDir(t), "ha-three-servers", "cluster.hcl")}); err != nil {
		t.Fatal(err)
	}
	got, dir := completeDrillTargets(cmd, nil, "")
	want := []string{"controller.controller1", "controller.controller2", "worker.glm-4-9b-chat", "worker.text2vec", "registry"}
	if !slices.Equal(got, want) || dir != cobra.ShellCompDirectiveNoFileComp {
		t.Errorf("drill --target completes %q, want %q", got, want)
	}

	c, err := schema.Load(filepath.Join(examplesDir(t), "quickstart", "cluster.hcl"), schema.LoadOptions{Vars: []string{"dbgpt_command=/bin/dbgpt"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Registry.Type = schema.RegistryEmbedded
	if slices.Contains(drillTargets(c), "registry") {
		t.Error("an embedded registry is a drill target")
	}
}

func TestDocs(t *testing.T) {
	dir := t.TempDir()
	r := runHactl(t, dir, nil, "docs")
	if r.code != 0 || !strings.Contains(r.stdout, "  cluster-file  The cluster file\n") || !strings.Contains(r.stdout, "plan-apply") {
		t.Errorf("docs: %+v", r)
	}
	for _, tp := range docs.Topics() {
		want, err := os.ReadFile(filepath.Join("..", "..", "docs", tp.Name+".md"))
		if err != nil {
			t.Fatal(err)
		}
		if r := runHactl(t, dir, nil, "docs", tp.Name); r.code != 0 || r.stdout != string(want) {
			t.Errorf("docs %s: exit %d, not the file's text", tp.Name, r.code)
		}
		if !strings.Contains(runHactl(t, dir, nil, "docs").stdout, "  "+tp.Name) {
			t.Errorf("docs does not list %s", tp.Name)
		}
	}
	r = runHactl(t, dir, nil, "docs", "nope")
	if r.code != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, "Error: no document \"nope\". The documents are:\n") ||
		!strings.Contains(r.stderr, "cluster-file") || strings.Count(r.stderr, "Error:") != 1 {
		t.Errorf("docs nope: %+v", r)
	}
	// The starter file points at the reference as the binary has it.
	if r := runHactl(t, dir, nil, "init"); r.code != 0 {
		t.Fatal(r)
	}
	src, _ := os.ReadFile(filepath.Join(dir, "cluster.hcl"))
	if !strings.Contains(string(src), "hactl docs cluster-file") {
		t.Errorf("the starter does not point at 'hactl docs cluster-file'")
	}
}

// The README's Commands table names every command hactl has.
func TestReadmeListsEveryCommand(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(readme), "## Commands")
	table, _, _ = strings.Cut(table, "\n## ")
	for _, c := range newRootCmd(nil, nil).Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		if !strings.Contains(table, "| `hactl "+c.Name()) {
			t.Errorf("README's Commands table lacks hactl %s", c.Name())
		}
	}
}
