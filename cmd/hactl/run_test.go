package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hactl/hactl/docs"
	"github.com/hactl/hactl/schema"
)

// Commands run in-process through run(), as main runs them, for those that
// need no server, or that fail before contacting one.

type runResult struct {
	code           int
	stdout, stderr string
}

func runIn(t *testing.T, args ...string) runResult {
	t.Helper()
	var so, se bytes.Buffer
	code := run(args, &so, &se)
	return runResult{code, so.String(), se.String()}
}

func (r runResult) want(t *testing.T, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, code, r.stdout, r.stderr)
	}
}

func writeFile(t *testing.T, name, src string) string {
	t.Helper()
	if err := os.WriteFile(name, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

const brokenCluster = "cluster {\n  name = 1\n}\nnot_a_block {}\n"

func TestRunValidate(t *testing.T) {
	dir := t.TempDir()
	ha := filepath.Join(examplesDir(t), "ha-three-servers", "cluster.hcl")
	broken := writeFile(t, filepath.Join(dir, "broken.hcl"), brokenCluster)

	r := runIn(t, "validate", "-f", ha)
	r.want(t, 0, "validate")
	if r.stdout != ha+" is valid.\n" || r.stderr != "" {
		t.Errorf("validate: %+v", r)
	}
	r = runIn(t, "validate", "-json", "-f", ha)
	r.want(t, 0, "validate -json")
	var doc struct {
		Valid       bool `json:"valid"`
		ErrorCount  int  `json:"error_count"`
		Diagnostics []struct {
			Severity, Summary string
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || !doc.Valid || doc.ErrorCount != 0 {
		t.Errorf("validate -json: %v %+v\n%s", err, doc, r.stdout)
	}
	r = runIn(t, "validate", "-json", "-f", broken)
	r.want(t, 1, "validate -json of an invalid file")
	doc.Valid = true
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.Valid || doc.ErrorCount < 2 || r.stderr != "" {
		t.Errorf("validate -json of an invalid file: %v %+v\n%+v", err, doc, r)
	}
	r = runIn(t, "validate", "-f", broken)
	r.want(t, 1, "validate of an invalid file")
	if r.stdout != "" {
		t.Errorf("validate of an invalid file: %+v", r)
	}
	r = runIn(t, "validate", "-f", filepath.Join(dir, "none.hcl"))
	r.want(t, 1, "validate of a missing file")
	if !strings.HasPrefix(r.stderr, "Error: cluster file "+filepath.Join(dir, "none.hcl")+" not found. Check") {
		t.Errorf("validate of a missing file: %+v", r)
	}
	r = runIn(t, "validate", "extra")
	r.want(t, 1, "validate with an argument")
	if !strings.HasPrefix(r.stderr, "Error: unknown command \"extra\"") {
		t.Errorf("validate extra: %q", r.stderr)
	}
}

func TestRunFmt(t *testing.T) {
	dir := t.TempDir()
	ugly := "cluster {\nname = \"x\"\n}\n"
	pretty := "cluster {\n  name = \"x\"\n}\n"
	a := writeFile(t, filepath.Join(dir, "a.hcl"), ugly)
	b := writeFile(t, filepath.Join(dir, "b.hcl"), pretty)

	r := runIn(t, "fmt", "-check", "-diff", dir)
	r.want(t, 1, "fmt -check -diff")
	if !strings.HasPrefix(r.stdout, a+"\n--- a/") || !strings.Contains(r.stdout, "+  name = \"x\"") || strings.Contains(r.stdout, b) {
		t.Errorf("fmt -check -diff:\n%s", r.stdout)
	}
	if src, _ := os.ReadFile(a); string(src) != ugly {
		t.Error("fmt -check rewrote the file")
	}
	r = runIn(t, "fmt", dir)
	r.want(t, 0, "fmt")
	if r.stdout != a+"\n" {
		t.Errorf("fmt listed %q", r.stdout)
	}
	if src, _ := os.ReadFile(a); string(src) != pretty {
		t.Errorf("fmt wrote %q", src)
	}
	runIn(t, "fmt", "-check", a, b).want(t, 0, "fmt -check of formatted files")

	bad := writeFile(t, filepath.Join(dir, "bad.hcl"), "cluster {\n")
	r = runIn(t, "fmt", "-check", bad)
	r.want(t, 1, "fmt of a file that does not parse")
	runIn(t, "fmt", filepath.Join(dir, "none.hcl")).want(t, 1, "fmt of a missing file")
	// A directory named *.hcl is listed by the glob but cannot be read.
	sub := t.TempDir()
	if err := os.Mkdir(filepath.Join(sub, "dir.hcl"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = runIn(t, "fmt", sub)
	r.want(t, 1, "fmt of an unreadable *.hcl")
	if r.stdout != "" {
		t.Errorf("fmt of an unreadable *.hcl listed %q", r.stdout)
	}
}

func TestRunInit(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "c.hcl")
	r := runIn(t, "init", "--single", "-o", out)
	r.want(t, 0, "init --single")
	if r.stdout != "Wrote "+out+". Next: hactl validate -f "+out+"\n" {
		t.Errorf("init: %q", r.stdout)
	}
	if src, _ := os.ReadFile(out); string(src) != schema.StarterSingle {
		t.Error("init --single did not write the single-machine starter")
	}
	runIn(t, "validate", "-f", out).want(t, 0, "validate of the starter")

	r = runIn(t, "init", "-o", out)
	r.want(t, 1, "init over a file")
	if r.stderr != "Error: "+out+" already exists; use --force to overwrite it\n" {
		t.Errorf("init over a file: %q", r.stderr)
	}
	runIn(t, "init", "-force", "-o", out).want(t, 0, "init --force")
	if src, _ := os.ReadFile(out); string(src) != schema.StarterHA {
		t.Error("init --force did not write the HA starter")
	}
	r = runIn(t, "init", "-o", filepath.Join(dir, "no", "such", "dir.hcl"))
	r.want(t, 1, "init into a missing directory")
	if !strings.Contains(r.stderr, "no such file or directory") {
		t.Errorf("init into a missing directory: %q", r.stderr)
	}
	t.Chdir(dir)
	runIn(t, "init").want(t, 0, "init without -o")
	if _, err := os.Stat(filepath.Join(dir, "cluster.hcl")); err != nil {
		t.Error(err)
	}
}

func TestRunDocsAndVersion(t *testing.T) {
	r := runIn(t, "docs")
	r.want(t, 0, "docs")
	if !strings.HasPrefix(r.stdout, "Documents built into hactl; read one with 'hactl docs TOPIC':\n  ") {
		t.Errorf("docs:\n%s", r.stdout)
	}
	tp := docs.Topics()[0]
	text, _ := docs.Read(tp.Name)
	if r := runIn(t, "docs", tp.Name); r.code != 0 || r.stdout != text {
		t.Errorf("docs %s: exit %d, not its text", tp.Name, r.code)
	}
	r = runIn(t, "docs", "nope")
	r.want(t, 1, "docs nope")
	if r.stdout != "" || !strings.HasPrefix(r.stderr, "Error: no document \"nope\". The documents are:\n  ") || strings.Count(r.stderr, "Error:") != 1 {
		t.Errorf("docs nope: %+v", r)
	}
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		r := runIn(t, args...)
		r.want(t, 0, args[0])
		if r.stdout != versionText() {
			t.Errorf("%s: %q", args[0], r.stdout)
		}
	}
	runIn(t, "version", "x").want(t, 1, "version x")
}

func TestRunCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_hactl", "zsh": "#compdef hactl", "fish": "complete -c hactl"} {
		r := runIn(t, "completion", shell)
		r.want(t, 0, "completion "+shell)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("completion %s lacks %q", shell, want)
		}
	}
	ha := filepath.Join(examplesDir(t), "ha-three-servers", "cluster.hcl")
	r := runIn(t, "__complete", "logs", "-file", ha, "")
	r.want(t, 0, "__complete logs")
	if !strings.HasPrefix(r.stdout, "controller.controller1\ncontroller.controller2\n") || !strings.HasSuffix(r.stdout, "webserver\n:4\n") {
		t.Errorf("__complete logs:\n%s", r.stdout)
	}
}

func TestRunExportCompose(t *testing.T) {
	dir := t.TempDir()
	ex := filepath.Join(examplesDir(t), "compose", "cluster.hcl")
	out := filepath.Join(dir, "compose.yaml")
	r := runIn(t, "export", "compose", "-f", ex, "-var", "registry_password=pw-secret", "-var", "openai_api_key=sk-secret", "-o", out)
	r.want(t, 0, "export compose -o")
	if !strings.HasPrefix(r.stdout, "Wrote "+out+" (compose project ") || !strings.Contains(r.stdout, " services) and ") {
		t.Errorf("export compose -o: %q", r.stdout)
	}
	y, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(y), "services:") || strings.Contains(string(y), "pw-secret") || strings.Contains(string(y), "sk-secret") {
		t.Errorf("the YAML lacks services or holds the secret:\n%s", y)
	}
	if _, err := os.Stat(filepath.Join(dir, ".env")); err != nil {
		t.Error(err)
	}
	r = runIn(t, "export", "compose", "-f", ex, "-var", "registry_password=pw-secret", "-var", "openai_api_key=sk-secret")
	r.want(t, 0, "export compose to stdout")
	if r.stdout != string(y) {
		t.Errorf("the printed YAML differs from the written one")
	}

	ha := filepath.Join(examplesDir(t), "ha-three-servers", "cluster.hcl")
	r = runIn(t, "export", "compose", "-f", ha, "-var", "registry_password=x")
	r.want(t, 1, "export compose without a compose block")
	if !strings.HasPrefix(r.stderr, "Error: "+ha+" has no compose block") || r.stdout != "" {
		t.Errorf("without a compose block: %+v", r)
	}
	r = runIn(t, "export", "compose", "-f", ha)
	r.want(t, 1, "export compose without a required variable")
	r = runIn(t, "export", "compose", "-f", ex, "-var", "registry_password=x", "-var", "openai_api_key=sk-x", "-o", filepath.Join(out, "c.yaml"))
	r.want(t, 1, "export compose under a file")
	if !strings.HasPrefix(r.stderr, "Error: ") {
		t.Errorf("export compose under a file: %q", r.stderr)
	}
}

// plan, apply, destroy, status and logs fail before any server is
// contacted when the file is missing or invalid.
func TestRunFailsBeforeConnecting(t *testing.T) {
	dir := t.TempDir()
	broken := writeFile(t, filepath.Join(dir, "broken.hcl"), brokenCluster)
	missing := filepath.Join(dir, "none.hcl")
	for _, cmd := range [][]string{
		{"plan"}, {"plan", "-json"}, {"apply", "-auto-approve"}, {"apply", "-json", "-auto-approve"},
		{"destroy", "-auto-approve"}, {"destroy", "-json", "-auto-approve"}, {"status"}, {"logs", "webserver"},
	} {
		what := strings.Join(cmd, " ")
		fileFlag := "-f"
		if cmd[0] == "logs" {
			fileFlag = "--file"
		}
		asJSON := strings.Contains(what, "-json")

		r := runIn(t, append(slices.Clone(cmd), fileFlag, missing)...)
		r.want(t, 1, what+" of a missing file")
		if asJSON {
			if !strings.Contains(r.stdout, `"type":"diagnostic"`) || !strings.Contains(r.stdout, "not found") || r.stderr != "" {
				t.Errorf("%s of a missing file: %+v", what, r)
			}
		} else if !strings.HasPrefix(r.stderr, "Error: cluster file "+missing+" not found. Check the path") {
			t.Errorf("%s of a missing file: %q", what, r.stderr)
		}

		r = runIn(t, append(slices.Clone(cmd), fileFlag, broken)...)
		r.want(t, 1, what+" of an invalid file")
		if asJSON {
			if !strings.Contains(r.stdout, `"type":"diagnostic"`) || r.stderr != "" {
				t.Errorf("%s of an invalid file: %+v", what, r)
			}
		} else if strings.Count(r.stderr, "Error:") < 2 || !strings.Contains(r.stderr, "broken.hcl line 4") {
			t.Errorf("%s of an invalid file:\n%s", what, r.stderr)
		}
	}

	r := runIn(t, "logs", "webserver", "-n", "0", "--file", broken)
	r.want(t, 1, "logs -n 0")
	if r.stderr != "Error: -n 0: want a positive number of lines\n" {
		t.Errorf("logs -n 0: %q", r.stderr)
	}
	r = runIn(t, "apply", "-json", "-f", broken)
	r.want(t, 1, "apply -json without -auto-approve")
	if r.stderr != "Error: --json needs --auto-approve or a saved plan: there is no way to ask for approval\n" || r.stdout != "" {
		t.Errorf("apply -json without -auto-approve: %+v", r)
	}
	r = runIn(t, "destroy", "-json", "-f", broken)
	r.want(t, 1, "destroy -json without -auto-approve")
	if r.stderr != "Error: --json needs --auto-approve: there is no way to ask for approval\n" {
		t.Errorf("destroy -json without -auto-approve: %q", r.stderr)
	}
	// Without a terminal, apply and destroy refuse to ask: checked with a
	// pipe as the standard input in TestApproveWithoutTerminal.

	corrupt := writeFile(t, filepath.Join(dir, "corrupt.tfplan"), "not a plan")
	r = runIn(t, "apply", corrupt)
	r.want(t, 1, "apply of a corrupt plan")
	if !strings.HasPrefix(r.stderr, "Error: ") || !strings.Contains(r.stderr, corrupt) {
		t.Errorf("apply of a corrupt plan: %q", r.stderr)
	}
	r = runIn(t, "apply", "-json", corrupt)
	r.want(t, 1, "apply -json of a corrupt plan")
	if !strings.Contains(r.stdout, `"type":"diagnostic"`) || r.stderr != "" {
		t.Errorf("apply -json of a corrupt plan: %+v", r)
	}
	r = runIn(t, "apply", filepath.Join(dir, "none.tfplan"))
	r.want(t, 1, "apply of a missing plan")

	ha := filepath.Join(examplesDir(t), "ha-three-servers", "cluster.hcl")
	r = runIn(t, "plan", "-f", ha, "-var", "registry_password=x", "--provider", "nope")
	r.want(t, 1, "plan with an unknown provider")
	if !strings.HasPrefix(r.stderr, "Error: ") || !strings.Contains(r.stderr, "nope") {
		t.Errorf("plan --provider nope: %q", r.stderr)
	}
}
