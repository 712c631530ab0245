package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// These tests run the real hactl binary: exit codes and output are the
// contract of validate, fmt and init.

// testVersion is the version the test binary is linked with.
const (
	versionVar  = "github.com/hactl/hactl/internal/version.Version"
	testVersion = "v0.0.0-clitest"
)

var (
	schemaCLIOnce sync.Once
	schemaCLIBin  string
	schemaCLIErr  error
)

func hactlBinary(t *testing.T) string {
	t.Helper()
	schemaCLIOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hactl-cli-test")
		if err != nil {
			schemaCLIErr = err
			return
		}
		schemaCLIBin = filepath.Join(dir, "hactl")
		// Built as make build does, with the version set at link time.
		out, err := exec.Command("go", "build", "-ldflags", "-X "+versionVar+"="+testVersion, "-o", schemaCLIBin, ".").CombinedOutput()
		if err != nil {
			schemaCLIErr = err
			schemaCLIBin = string(out)
		}
	})
	if schemaCLIErr != nil {
		t.Fatalf("building hactl: %v\n%s", schemaCLIErr, schemaCLIBin)
	}
	return schemaCLIBin
}

type result struct {
	code           int
	stdout, stderr string
}

func runHactl(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(hactlBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, so.String(), se.String()}
}

func examplesDir(t *testing.T) string {
	d, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestValidateExamples(t *testing.T) {
	for _, ex := range []string{"ha-three-servers", "quickstart", "compose"} {
		r := runHactl(t, filepath.Join(examplesDir(t), ex), nil, "validate")
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "cluster.hcl is valid.") {
			t.Errorf("%s: %+v", ex, r)
		}
		r = runHactl(t, filepath.Join(examplesDir(t), ex), nil, "fmt", "-check")
		if r.code != 0 || r.stdout != "" {
			t.Errorf("%s: fmt -check: %+v", ex, r)
		}
	}
}

func TestValidateInvalid(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "c.hcl"), []byte("cluster {\n  name = \"x\"\n}\n\nserver \"s1\" {\n  address = \"10.0.0.1\"\n}\n\ncontroller \"c\" {\n  server = server.s2\n  port   = 0\n}\n"), 0o644)
	r := runHactl(t, dir, []string{"NO_COLOR=1"}, "validate", "-f", "c.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{
		"Error: Reference to undeclared server", "on c.hcl line 10, in controller \"c\":", "10:   server = server.s2", "Did you mean server.s1?",
		"Error: Port out of range", "11:   port   = 0",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}

	r = runHactl(t, dir, nil, "validate", "-json", "-f", "c.hcl")
	var res struct {
		Valid       bool `json:"valid"`
		ErrorCount  int  `json:"error_count"`
		Diagnostics []struct {
			Severity, Summary, Detail string
			Range                     struct {
				Filename   string
				Start, End struct{ Line, Column, Byte int }
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if r.code != 1 || res.Valid || res.ErrorCount != 2 || res.Diagnostics[0].Range.Start.Line != 10 || res.Diagnostics[0].Range.Start.Column != 12 ||
		res.Diagnostics[0].Range.End.Column != 21 || res.Diagnostics[0].Severity != "error" || res.Diagnostics[0].Range.Filename != "c.hcl" {
		t.Errorf("exit %d, %+v", r.code, res)
	}
}

// -var and -var-file work with one dash, as in Terraform.
func TestVarFlags(t *testing.T) {
	dir := t.TempDir()
	src := "variable \"port\" {\n  type = number\n}\n\ncluster {\n  name = \"x\"\n}\n\nserver \"s1\" {\n  address = \"10.0.0.1\"\n}\n\ncontroller \"c\" {\n  server = server.s1\n  port   = var.port\n}\n"
	os.WriteFile(filepath.Join(dir, "cluster.hcl"), []byte(src), 0o644)
	os.WriteFile(filepath.Join(dir, "v.hcl"), []byte("port = 70000\n"), 0o644)
	for _, args := range [][]string{
		{"validate", "-var", "port=0"}, {"validate", "--var", "port=0"}, {"validate", "-var=port=0"},
		{"validate", "-var-file", "v.hcl"}, {"validate", "--var-file=v.hcl"},
	} {
		r := runHactl(t, dir, nil, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "Port out of range") {
			t.Errorf("%v: %+v", args, r)
		}
	}
	r := runHactl(t, dir, []string{"HACTL_VAR_port=0"}, "validate")
	if r.code != 1 || !strings.Contains(r.stderr, "Port out of range") {
		t.Errorf("HACTL_VAR_port: %+v", r)
	}
	r = runHactl(t, dir, []string{"HACTL_VAR_port=0"}, "validate", "-var", "port=8000")
	if r.code != 0 {
		t.Errorf("-var over environment: %+v", r)
	}
}

func TestNormalizeArgs(t *testing.T) {
	got := normalizeArgs([]string{"plan", "-var", "a=b", "-var=c=d", "-var-file", "f", "-f", "x.hcl", "-json", "-v", "--", "-var"})
	want := []string{"plan", "--var", "a=b", "--var=c=d", "--var-file", "f", "-f", "x.hcl", "--json", "-v", "--", "-var"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v", got)
	}
}

func TestFmt(t *testing.T) {
	dir := t.TempDir()
	ugly := "cluster {\nname = \"x\"\n}\n"
	pretty := "cluster {\n  name = \"x\"\n}\n"
	os.WriteFile(filepath.Join(dir, "a.hcl"), []byte(ugly), 0o644)
	os.WriteFile(filepath.Join(dir, "b.hcl"), []byte(pretty), 0o644)

	r := runHactl(t, dir, nil, "fmt", "-check")
	if r.code != 1 || r.stdout != "a.hcl\n" {
		t.Errorf("fmt -check: %+v", r)
	}
	r = runHactl(t, dir, nil, "fmt", "-check", "-diff", "a.hcl")
	if r.code != 1 || !strings.Contains(r.stdout, "--- a/a.hcl\n+++ b/a.hcl\n@@ -1,3 +1,3 @@\n cluster {\n-name = \"x\"\n+  name = \"x\"\n }\n") {
		t.Errorf("fmt -diff: %+v", r)
	}
	if src, _ := os.ReadFile(filepath.Join(dir, "a.hcl")); string(src) != ugly {
		t.Errorf("-check rewrote the file")
	}
	r = runHactl(t, dir, nil, "fmt")
	if r.code != 0 || r.stdout != "a.hcl\n" {
		t.Errorf("fmt: %+v", r)
	}
	if src, _ := os.ReadFile(filepath.Join(dir, "a.hcl")); string(src) != pretty {
		t.Errorf("fmt wrote %q", src)
	}
	if r := runHactl(t, dir, nil, "fmt", "-check"); r.code != 0 {
		t.Errorf("fmt -check after fmt: %+v", r)
	}
	os.WriteFile(filepath.Join(dir, "broken.hcl"), []byte("cluster {\n"), 0o644)
	r = runHactl(t, dir, nil, "fmt", "broken.hcl")
	if r.code != 1 || !strings.Contains(r.stderr, "broken.hcl line") {
		t.Errorf("fmt on broken file: %+v", r)
	}
}

func TestInit(t *testing.T) {
	dir := t.TempDir()
	if r := runHactl(t, dir, nil, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	if r := runHactl(t, dir, nil, "validate"); r.code != 0 || r.stderr != "" {
		t.Errorf("validate of the starter: %+v", r)
	}
	if r := runHactl(t, dir, nil, "fmt", "-check"); r.code != 0 {
		t.Errorf("starter not formatted: %+v", r)
	}
	r := runHactl(t, dir, nil, "init", "--single")
	if r.code != 1 || !strings.Contains(r.stderr, "cluster.hcl already exists") {
		t.Errorf("init over an existing file: %+v", r)
	}
	if r := runHactl(t, dir, nil, "init", "--single", "--force"); r.code != 0 {
		t.Errorf("init --force: %+v", r)
	}
	src, _ := os.ReadFile(filepath.Join(dir, "cluster.hcl"))
	if !strings.Contains(string(src), `registry "sqlite"`) || !strings.Contains(string(src), `transport     = "local"`) {
		t.Errorf("--single wrote:\n%s", src)
	}
	if r := runHactl(t, dir, nil, "validate"); r.code != 0 || r.stderr != "" {
		t.Errorf("validate of the single starter: %+v", r)
	}
	if r := runHactl(t, dir, nil, "init", "-o", "other.hcl"); r.code != 0 {
		t.Errorf("init -o: %+v", r)
	}
}

// Every long flag of every command can be written with one dash. The walk
// includes what cobra itself provides, since newRootCmd adds it explicitly:
// --version on the root, and the completion command with its shells'
// --no-descriptions (only --help, cobra's on every command, is left out).
func TestTerraformStyleFlagsComplete(t *testing.T) {
	var walk func(c *cobra.Command)
	seen := map[string]bool{}
	walk = func(c *cobra.Command) {
		seen[c.CommandPath()] = true
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Name != "help" && !slices.Contains(terraformStyleFlags, f.Name) {
				t.Errorf("%s --%s is not in terraformStyleFlags (load.go)", c.CommandPath(), f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := newRootCmd(nil, nil)
	walk(root)
	for _, want := range []string{"hactl completion bash", "hactl completion zsh", "hactl completion fish", "hactl version", "hactl docs"} {
		if !seen[want] {
			t.Errorf("the walk did not reach %q", want)
		}
	}
	if root.Flags().Lookup("version") == nil {
		t.Error("the root has no --version flag before it executes")
	}
}
