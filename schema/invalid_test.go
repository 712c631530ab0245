package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// Each file in testdata/invalid is a cluster file with one or more
//
//	# want: LINE:COLUMN Summary: fragment of the detail
//
// lines (at the end of the file). Its error diagnostics must be exactly these:
// one per want, at that position, with that summary and a detail containing
// the fragment. "# var: NAME=VALUE" lines give -var values.
var wantRe = regexp.MustCompile(`(?m)^# want: (\d+):(\d+) ([^:]+): (.*)$`)
var varRe = regexp.MustCompile(`(?m)^# var: (.*)$`)

type want struct {
	line, col       int
	summary, detail string
}

func (w want) String() string { return fmt.Sprintf("%d:%d %s: %s", w.line, w.col, w.summary, w.detail) }

func TestInvalidFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("only %d invalid files", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var wants []want
			for _, m := range wantRe.FindAllStringSubmatch(string(src), -1) {
				var w want
				fmt.Sscan(m[1], &w.line)
				fmt.Sscan(m[2], &w.col)
				w.summary, w.detail = m[3], m[4]
				wants = append(wants, w)
			}
			if len(wants) == 0 {
				t.Fatalf("%s has no '# want:' line", f)
			}
			opts := LoadOptions{Environ: []string{"HOME=/home/op"}}
			for _, m := range varRe.FindAllStringSubmatch(string(src), -1) {
				opts.Vars = append(opts.Vars, m[1])
			}
			c, diags, _ := Decode(f, src, opts)
			if c != nil {
				t.Errorf("Decode returned a cluster for an invalid file")
			}
			var errs []*hcl.Diagnostic
			for _, d := range diags {
				if d.Severity == hcl.DiagError {
					errs = append(errs, d)
				}
			}
			matched := make([]bool, len(errs))
		wantLoop:
			for _, w := range wants {
				for i, d := range errs {
					if matched[i] || d.Subject == nil {
						continue
					}
					if d.Subject.Start.Line == w.line && d.Subject.Start.Column == w.col &&
						d.Summary == w.summary && strings.Contains(d.Detail, w.detail) {
						matched[i] = true
						continue wantLoop
					}
				}
				t.Errorf("missing diagnostic %s", w)
			}
			for i, d := range errs {
				if !matched[i] {
					t.Errorf("unexpected diagnostic %s", describe(d))
				}
			}
		})
	}
}

func describe(d *hcl.Diagnostic) string {
	pos := "-"
	if d.Subject != nil {
		pos = fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column)
	}
	return fmt.Sprintf("%s %s: %s", pos, d.Summary, d.Detail)
}
