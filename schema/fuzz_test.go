package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecode runs the whole decode path (parse, variables, locals,
// references, functions, validation, diagnostics rendering) on arbitrary
// input: it must never panic, and an input without errors must give a
// cluster whose references are all set.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/invalid/*.hcl")
	more, _ := filepath.Glob("../examples/*/cluster.hcl")
	starters, _ := filepath.Glob("starters/*.hcl")
	for _, p := range append(append(seeds, more...), starters...) {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte(funcsSrc))
	f.Add([]byte(varsSrc))
	f.Add([]byte(defaultsSrc))
	// Hostile shapes (limits.go): deep nesting of each kind, evaluation
	// that grows without bound.
	for _, expr := range []string{
		strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000),
		strings.Repeat(`"${`, 300) + "1" + strings.Repeat(`}"`, 300),
		strings.Repeat("-", 1000) + "1",
		strings.Repeat("true ? 1 : ", 500) + "1",
		"<<EOT\n" + strings.Repeat("${[", 300) + "\nEOT\n",
		`[for a in range(1000) : [for b in range(1000) : [for c in range(1000) : a + b + c]]]`,
		`"%{for a in range(1000)}%{for b in range(1000)}${a}%{endfor}%{endfor}"`,
		`format("%0999999999d", 1)`,
		`tonumber(var.registry_password)`,
		"<<EOT\n" + strings.Repeat("x\n", 1001) + "EOT\n",
		"[" + strings.Repeat("1,", 60000) + "]",
	} {
		f.Add([]byte(minimalCluster + "variable \"registry_password\" {\n  sensitive = true\n}\nlocals {\n  x = " + expr + "\n}\n"))
	}
	opts := LoadOptions{Vars: []string{"registry_password=pw"}, Environ: []string{"HOME=/nonexistent", "HACTL_VAR_key=k"}}
	f.Fuzz(func(t *testing.T, src []byte) {
		c, diags, files := Decode("/nonexistent/fuzz/cluster.hcl", src, opts)
		if diags.HasErrors() {
			if c != nil {
				t.Fatal("cluster returned with errors")
			}
			_ = (&DiagnosticsError{diags, files}).Error()
			_ = DiagnosticsJSON(diags)
			return
		}
		if c == nil {
			t.Fatal("no cluster and no errors")
		}
		for _, ctl := range c.Controllers {
			if ctl.Server == nil {
				t.Fatal("controller without server")
			}
			_ = ctl.URL()
		}
		for _, w := range c.Workers {
			if w.Server == nil || w.Model == nil {
				t.Fatal("worker without server or model")
			}
		}
		if c.Registry == nil || c.Compose == nil {
			t.Fatal("nil registry or compose")
		}
		_, _ = Format("x.hcl", src)
	})
}
