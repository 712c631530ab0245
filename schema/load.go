package schema

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// LoadOptions are the values given to a cluster file from outside it.
type LoadOptions struct {
	// Vars are -var flags, "NAME=VALUE", in command-line order (later wins).
	Vars []string
	// VarFiles are -var-file paths, in command-line order (later wins). Each
	// is an HCL file of NAME = VALUE arguments.
	VarFiles []string
	// Environ is the process environment (os.Environ()): HACTL_VAR_NAME
	// values, env() and HOME for "~" come from it, never from the real
	// environment, so tests and callers control it.
	Environ []string
	// AllowUnsetVariables makes a variable without a value and without a
	// default unknown instead of an error, and skips the checks that need its
	// value (hactl validate: check a file without its secrets, as
	// terraform validate does).
	AllowUnsetVariables bool
}

// DiagnosticsError is the error Load returns for an invalid cluster file. Its
// Error renders every diagnostic with file:line:column and a snippet of the
// source, without colour.
type DiagnosticsError struct {
	Diagnostics hcl.Diagnostics
	// Files are the parsed files by name, for rendering the diagnostics.
	Files map[string]*hcl.File
}

func (e *DiagnosticsError) Error() string {
	var buf bytes.Buffer
	WriteDiagnostics(&buf, e.Files, e.Diagnostics, 0, false)
	return strings.TrimRight(buf.String(), "\n")
}

// WriteDiagnostics renders diags as HCL's diagnostic writer does: severity,
// summary, file:line:column, a snippet of the source and the detail. width 0
// means no wrapping. A file larger than maxSnippetSource gets no snippet:
// HCL's writer finds the snippet's lines by scanning the file in a way that
// takes seconds for a few MiB (a refused hostile file would take 20 s to
// report).
func WriteDiagnostics(w interface{ Write([]byte) (int, error) }, files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) error {
	small := make(map[string]*hcl.File, len(files))
	for name, f := range files {
		if f != nil && len(f.Bytes) <= maxSnippetSource {
			small[name] = f
		}
	}
	return hcl.NewDiagnosticTextWriter(w, small, width, color).WriteDiagnostics(diags)
}

// maxSnippetSource is the largest file whose diagnostics show a snippet.
const maxSnippetSource = 256 << 10

// Load reads, decodes and validates the cluster file at path. When the file
// is invalid the error is a *DiagnosticsError; warnings alone do not fail.
func Load(path string, opts LoadOptions) (*Cluster, error) {
	c, diags, files := LoadDiagnostics(path, opts)
	if diags.HasErrors() {
		return nil, &DiagnosticsError{Diagnostics: diags, Files: files}
	}
	return c, nil
}

// LoadDiagnostics is Load returning every diagnostic (errors and warnings)
// and the parsed files. The Cluster is nil when diags has errors.
func LoadDiagnostics(path string, opts LoadOptions) (*Cluster, hcl.Diagnostics, map[string]*hcl.File) {
	src, err := ReadSource(path, MaxSourceSize)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read cluster file",
			Detail:   err.Error(),
		}}, map[string]*hcl.File{}
	}
	return Decode(path, src, opts)
}

// Decode is LoadDiagnostics on a file already read: filename names it in
// diagnostics and anchors relative paths (file(), key_file, -var-file paths
// are taken as given).
func Decode(filename string, src []byte, opts LoadOptions) (*Cluster, hcl.Diagnostics, map[string]*hcl.File) {
	p := hclparse.NewParser()
	d := newDecoder(filename, opts, p)
	c := d.decode(src)
	diags := d.diags
	redactDiagnostics(diags, d.cluster)
	sortDiagnostics(diags)
	if diags.HasErrors() {
		c = nil
	}
	return c, diags, redactFiles(p.Files(), d.cluster)
}

// redactFiles returns the files with every secret value in their source
// masked by '*' of the same length, so diagnostic snippets (which quote the
// source) never show a password written in a file. Offsets stay valid.
func redactFiles(files map[string]*hcl.File, c *Cluster) map[string]*hcl.File {
	if c == nil {
		return files
	}
	secrets := c.Secrets()
	out := make(map[string]*hcl.File, len(files))
	for name, f := range files {
		b, changed := f.Bytes, false
		for _, s := range secrets {
			if len(s) >= 3 && bytes.Contains(b, []byte(s)) {
				b, changed = bytes.ReplaceAll(b, []byte(s), bytes.Repeat([]byte("*"), len(s))), true
			}
		}
		if changed {
			nf := *f
			nf.Bytes = b
			f = &nf
		}
		out[name] = f
	}
	return out
}

func newDecoder(filename string, opts LoadOptions, p *hclparse.Parser) *decoder {
	dir := filepath.Dir(filename)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	env := map[string]string{}
	for _, kv := range opts.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return &decoder{
		filename: filename,
		dir:      dir,
		opts:     opts,
		env:      env,
		parser:   p,
		unknown:  map[unknownKey]bool{},
	}
}

func errorf(subject *hcl.Range, summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: subject}
}

func warnf(subject *hcl.Range, summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: subject}
}

// sortDiagnostics orders diagnostics by file and position; those without a
// position (bad -var flags) come first.
func sortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
}

// redactDiagnostics replaces secret values that found their way into a
// message (say, through a function's error) with "(sensitive)".
func redactDiagnostics(diags hcl.Diagnostics, c *Cluster) {
	if c == nil {
		return
	}
	secrets := c.Secrets()
	for _, diag := range diags {
		for _, s := range secrets {
			if len(s) < 3 {
				continue
			}
			diag.Summary = strings.ReplaceAll(diag.Summary, s, "(sensitive)")
			diag.Detail = strings.ReplaceAll(diag.Detail, s, "(sensitive)")
		}
	}
}
