package schema

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

const minimalCluster = "cluster {\n  name = \"t\"\n}\n\nserver \"s1\" {\n  address = \"10.0.0.1\"\n}\n\ncontroller \"c1\" {\n  server = server.s1\n}\n"

// Reading a device, a directory or a file over the limit is refused at once,
// for the cluster file and a variable file alike.
func TestHostileFilesRefused(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "cluster.hcl")
	if err := os.WriteFile(ok, []byte(minimalCluster), 0o644); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.hcl")
	if err := os.WriteFile(huge, bytes.Repeat([]byte(" "), MaxSourceSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, file string
		varFiles   []string
		want       string
	}{
		{"cluster /dev/zero", "/dev/zero", nil, "/dev/zero is not a regular file"},
		{"cluster directory", dir, nil, "is a directory"},
		{"cluster too large", huge, nil, "is larger than 4 MiB"},
		{"var-file /dev/zero", ok, []string{"/dev/zero"}, "/dev/zero is not a regular file"},
		{"var-file too large", ok, []string{huge}, "is larger than 4 MiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, diags, _ := LoadDiagnostics(tc.file, LoadOptions{VarFiles: tc.varFiles})
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
				t.Fatalf("diagnostics %v, want one containing %q", diags, tc.want)
			}
			t.Logf("refused in %v", time.Since(start))
		})
	}
}

func TestReadSourcePipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write([]byte("a = 1\n"))
		w.Close()
	}()
	b, err := ReadSource(fmt.Sprintf("/dev/fd/%d", r.Fd()), 100)
	if err != nil || string(b) != "a = 1\n" {
		t.Fatalf("ReadSource of a pipe = %q, %v", b, err)
	}
}

// 100,000 nested parentheses (and the other recursive shapes) used to
// overflow Go's stack in the parser; they are refused with a position.
func TestDeepNestingRefused(t *testing.T) {
	const n = 100_000
	shapes := map[string]string{
		"parens":    strings.Repeat("(", n) + "1" + strings.Repeat(")", n),
		"brackets":  strings.Repeat("[", n) + strings.Repeat("]", n),
		"objects":   strings.Repeat("{a=", n) + "1" + strings.Repeat("}", n),
		"templates": strings.Repeat(`"${`, n) + "1" + strings.Repeat(`}"`, n),
		"unary":     strings.Repeat("-", n) + "1",
		"not":       strings.Repeat("!", n) + "true",
		"binary":    strings.Repeat("1+", n) + "1",
		"condition": strings.Repeat("true ? 1 : ", n) + "1",
		"heredoc":   "<<EOT\n" + strings.Repeat("${", n) + "\nEOT\n",
	}
	for name, expr := range shapes {
		t.Run(name, func(t *testing.T) {
			src := minimalCluster + "locals {\n  x = " + expr + "\n}\n"
			line := 13 + strings.Count(expr[:strings.Index(expr, "${")+1], "\n")
			_, diags, _ := Decode("deep.hcl", []byte(src), LoadOptions{})
			if !hasSummary(diags, "Expression nested too deeply", line) {
				t.Fatalf("no nesting error on line %d: %v", line, firstDiags(diags))
			}
			if _, diags := Format("deep.hcl", []byte(src)); !hasSummary(diags, "Expression nested too deeply", line) {
				t.Fatalf("Format: no nesting error on line 13: %v", firstDiags(diags))
			}
		})
	}
	// A -var value is an HCL expression too.
	src := minimalCluster + "variable \"l\" {\n  type = list(number)\n}\n"
	_, diags, _ := Decode("deep.hcl", []byte(src), LoadOptions{Vars: []string{"l=" + strings.Repeat("[", n) + strings.Repeat("]", n)}})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "more than 256 deep") {
		t.Fatalf("-var: %v", firstDiags(diags))
	}
}

// Nesting within the limit still parses: the scanner must not refuse
// comments, strings with escapes, heredocs or templates it misreads.
func TestNestingScannerAcceptsValidFiles(t *testing.T) {
	src := minimalCluster + `locals {
  # a comment with ( and "
  // another ((((
  /* and a block (((( */
  a = "quote \" paren ( brace { $${literal} %%{literal}"
  b = replace(<<-EOT
    heredoc ((( "unbalanced
    ${upper("x")} %{ if true }yes%{ endif }
  EOT
  , "\n", " ")
  c = [for i, v in ["x", "y"] : "${i}:${v}" if v != "z"]
  d = { for k in ["p"] : k => (((1 + 2) * 3) - -4) }
}
`
	if d := checkNesting("x.hcl", []byte(src), hcl.InitialPos); d != nil {
		t.Fatalf("refused a valid file: %v", d)
	}
	if _, diags := hclsyntax.ParseConfig([]byte(src), "x.hcl", hcl.InitialPos); diags.HasErrors() {
		t.Fatalf("test file invalid: %v", diags)
	}
	_, diags, _ := Decode("x.hcl", []byte(src), LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("Decode: %v", diags)
	}
}

// Three nested for over range(1000) ran past a minute at 1.3 GB.
func TestEvaluationSizeLimited(t *testing.T) {
	exprs := map[string]string{
		"nested for":      `[for a in range(1000) : [for b in range(1000) : [for c in range(1000) : a + b + c]]]`,
		"object for":      `{for a in range(1000) : a => [for b in range(1000) : [for c in range(1000) : c]]}`,
		"template for":    `"%{for a in range(1000)}%{for b in range(1000)}${a}${b}%{endfor}%{endfor}"`,
		"format width":    `format("%0999999999d", 1)`,
		"formatlist":      `formatlist("%099999999d", [1])`,
		"indent":          `indent(999999999, "a\nb")`,
		"doubling locals": `join("", [for i in range(1000) : join("", [for j in range(1000) : "abcdefghijklmnopq"])])`,
		// A number with a hundred million digits, written out.
		"huge number in a template": `"x${1e100000000}"`,
		"huge number":               `1e100000000`,
		"huge product":              `"${1e300 * 1e300 * 1e300 * 1e300 * 1e300}"`,
		"huge number to a function": `tostring(1e100000000)`,
		"tiny number":               `"${1e-100000000}"`,
	}
	for name, expr := range exprs {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			src := minimalCluster + "locals {\n  x = " + expr + "\n}\n"
			_, diags, _ := Decode("big.hcl", []byte(src), LoadOptions{})
			found := false
			for _, d := range diags {
				if d.Subject != nil && d.Subject.Start.Line == 13 &&
					(d.Summary == "Value too large" || strings.Contains(d.Detail, "value too large")) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no value-too-large error on line 13: %v", firstDiags(diags))
			}
			t.Logf("refused in %v", time.Since(start))
		})
	}
}

func hasSummary(diags hcl.Diagnostics, summary string, line int) bool {
	for _, d := range diags {
		if d.Summary == summary && d.Subject != nil && d.Subject.Start.Line == line {
			return true
		}
	}
	return false
}

func firstDiags(diags hcl.Diagnostics) string {
	var b strings.Builder
	for i, d := range diags {
		if i == 5 {
			break
		}
		detail := d.Detail
		if len(detail) > 200 {
			detail = detail[:200]
		}
		b.WriteString(d.Summary + ": " + detail + "; ")
	}
	return b.String()
}

// Every function, called with a sensitive argument that makes it fail,
// gives a diagnostic without the value: the redaction comes from the mark
// on the value (checked here before Decode's text replacement runs).
func TestFunctionErrorsRedactedByMarks(t *testing.T) {
	const secret = "s3cr3t/Val"
	calls := map[string]string{
		"abs": "abs(var.pw)", "ceil": "ceil(var.pw)", "chomp": "chomp(var.pl)",
		"chunklist": "chunklist(var.pl, var.pw)", "coalesce": "coalesce(var.pw, [])",
		"coalescelist": "coalescelist(var.pw)", "compact": "compact(var.pw)",
		"concat": "concat(var.pw)", "contains": "contains(var.pw, 1)", "csvdecode": `csvdecode("a\n${var.pw},\"x")`,
		"distinct": "distinct(var.pw)", "element": "element(var.pw, 0)", "flatten": "flatten(var.pw)",
		"floor": "floor(var.pw)", "format": `format("%d", var.pw)`, "formatdate": "formatdate(\"YYYY\", var.pw)",
		"formatlist": `formatlist("%d", var.pw)`, "indent": "indent(var.pw, \"x\")", "join": "join(\",\", var.pw)",
		"jsondecode": "jsondecode(var.pw)", "jsonencode": "jsonencode(var.pw)[0]", "keys": "keys(var.pw)",
		"length": "length(var.pw) + var.pw", "log": "log(var.pw, 10)", "lookup": "lookup({}, var.pw)",
		"lower": "lower(var.pl)", "max": "max(var.pw)", "merge": "merge(var.pw)", "min": "min(var.pw)",
		"parseint": "parseint(var.pw, 10)", "pow": "pow(var.pw, 2)", "range": "range(var.pw)",
		"regex": "regex(var.pw, \"x\")", "regexall": "regexall(\"(\", var.pw)", "regex_replace": "regex_replace(var.pw, \"(\", \"\")",
		"replace": "replace(var.pl, \"a\", \"b\")", "reverse": "reverse(var.pw)", "setintersection": "setintersection(var.pw)",
		"setsubtract": "setsubtract(var.pw, [])", "setunion": "setunion(var.pw)",
		"signum": "signum(var.pw)", "slice": "slice(var.pw, 0, 1)", "sort": "sort(var.pw)", "split": "split(\",\", var.pl)",
		"strlen": "strlen(var.pl)", "strrev": "strrev(var.pl)", "substr": "substr(var.pw, 0, 100)[0]",
		"timeadd": "timeadd(var.pw, \"1h\")", "title": "title(var.pl)", "trim": "trim(var.pl, \"x\")",
		"trimprefix": "trimprefix(var.pl, \"x\")", "trimspace": "trimspace(var.pl)", "trimsuffix": "trimsuffix(var.pl, \"x\")",
		"upper": "upper(var.pl)", "values": "values(var.pw)", "zipmap": "zipmap(var.pw, [])",
		"tostring": "tostring(var.pl)", "tonumber": "tonumber(var.pw)",
		"tobool": "tobool(var.pw)", "tolist": "tolist(var.pw)",
		"tomap": "tomap(var.pw)",
		"file":  "file(upper(var.pw))", "env": "env(var.pw)",
	}
	for _, name := range FunctionNames() {
		if _, ok := calls[name]; !ok {
			t.Errorf("no failing call with a sensitive argument for function %s", name)
		}
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			d := newDecoder("/nonexistent/cluster.hcl", LoadOptions{}, nil)
			d.variables = map[string]*variable{"pw": {Name: "pw"}, "pl": {Name: "pl"}}
			d.varVals = map[string]cty.Value{
				"pw": cty.StringVal(secret).Mark(sensitiveMark),
				"pl": cty.ListVal([]cty.Value{cty.StringVal(secret)}).Mark(sensitiveMark),
			}
			expr, diags := hclsyntax.ParseExpression([]byte(call), "x.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			d.evalExpr(expr, "a test", []string{rootVar})
			if !d.diags.HasErrors() {
				t.Fatalf("%s did not fail", call)
			}
			for _, diag := range d.diags {
				for _, s := range []string{diag.Summary, diag.Detail} {
					if strings.Contains(s, "s3cr3t") || strings.Contains(strings.ToUpper(s), "S3CR3T") || strings.Contains(s, "laV/t3rc3s") {
						t.Errorf("%s: diagnostic shows the secret: %s: %s", call, diag.Summary, diag.Detail)
					}
				}
			}
		})
	}
}

// A file within the size limit can still hold enough tokens, or heredoc
// lines, to take gigabytes (a 4 MiB list literal took 1.6 GB and 9 s) or
// seconds (HCL parses a heredoc in time quadratic in its lines).
func TestTokenAndHeredocLimits(t *testing.T) {
	for name, tc := range map[string]struct {
		expr, summary string
	}{
		"list literal": {"[" + strings.Repeat("1,", 2_000_000) + "]", "Too many tokens"},
		"words":        {strings.Repeat("a ", 2_000_000), "Too many tokens"},
		"heredoc":      {"<<EOT\n" + strings.Repeat("line\n", 50_000) + "EOT\n", "Heredoc too long"},
	} {
		t.Run(name, func(t *testing.T) {
			src := minimalCluster + "locals {\n  x = " + tc.expr + "\n}\n"
			start := time.Now()
			_, diags, _ := Decode("big.hcl", []byte(src), LoadOptions{})
			found := false
			for _, d := range diags {
				found = found || (d.Summary == tc.summary && d.Subject != nil && d.Subject.Start.Line >= 13)
			}
			if !found {
				t.Fatalf("no %q error: %v", tc.summary, firstDiags(diags))
			}
			t.Logf("refused in %v", time.Since(start))
		})
	}
	// Within the limits, a long heredoc and many lines still decode.
	src := minimalCluster + "locals {\n  x = replace(<<EOT\n" + strings.Repeat("line\n", MaxHeredocLines-1) + "EOT\n  , \"\\n\", \" \")\n" +
		strings.Repeat("  # a comment\n", 5000) + "}\n"
	if _, diags, _ := Decode("ok.hcl", []byte(src), LoadOptions{}); diags.HasErrors() {
		t.Fatalf("refused a file within the limits: %v", firstDiags(diags))
	}
}

// The scanner's states decide where a refusal lands: each case is refused
// (or not) at this line and column only if comments, escapes, heredoc
// markers (CRLF too) and item separators are read as HCL reads them.
func TestNestingScannerPositions(t *testing.T) {
	parens := strings.Repeat("(", MaxNesting+1)
	for name, tc := range map[string]struct {
		src          string
		summary      string
		line, column int
	}{
		"comments":           {"# (\"\n// \"\n/* \" ${ */ x = " + parens, "Expression nested too deeply", 3, 16 + MaxNesting},
		"escapes":            {`x = ["a\"b$${c%%{d", ` + parens, "Expression nested too deeply", 1, 22 + MaxNesting - 1},
		"heredoc ends":       {"x = <<-EOT\n  a (((\n  EOT  \ny = " + parens, "Expression nested too deeply", 4, 5 + MaxNesting},
		"heredoc crlf":       {"x = <<EOT\r\n" + strings.Repeat("l\r\n", MaxHeredocLines+1) + "EOT\r\n", "Heredoc too long", MaxHeredocLines + 2, 1},
		"newline in list":    {"x = [" + strings.Repeat("1+1\n", MaxNesting+1) + "]", "Expression nested too deeply", MaxNesting, 2},
		"commas reset":       {"x = [" + strings.Repeat("1+1,", 10*MaxNesting) + "]", "", 0, 0},
		"newlines in object": {"x = {\n" + strings.Repeat("a = 1+1\n", 10*MaxNesting) + "}", "", 0, 0},
		"not a heredoc":      {"x = 1 << EOT\n" + strings.Repeat("l\n", MaxHeredocLines+1) + "EOT\n", "", 0, 0},
	} {
		t.Run(name, func(t *testing.T) {
			d := checkNesting("x.hcl", []byte(tc.src), hcl.InitialPos)
			if tc.summary == "" {
				if d != nil {
					t.Fatalf("refused: %v", d)
				}
				return
			}
			if d == nil || d.Summary != tc.summary || d.Subject.Start.Line != tc.line || d.Subject.Start.Column != tc.column {
				t.Fatalf("got %v, want %q at %d:%d", d, tc.summary, tc.line, tc.column)
			}
			if want := len(strings.Join(strings.SplitAfter(tc.src, "\n")[:tc.line-1], "")) + tc.column - 1; d.Subject.Start.Byte != want {
				t.Fatalf("byte %d, want %d", d.Subject.Start.Byte, want)
			}
		})
	}
}

// A diagnostic in a file too large for a snippet still names the file,
// line and column (HCL's writer would scan the whole file for the snippet,
// seconds for a few MiB).
func TestDiagnosticOfALargeFileHasNoSnippet(t *testing.T) {
	line := "# " + strings.Repeat("x", 1021) + "\n" // 1 KiB
	n := maxSnippetSource/len(line) + 1
	src := []byte(strings.Repeat(line, n) + "oops {\n")
	_, diags, files := Decode("big.hcl", src, LoadOptions{})
	if !diags.HasErrors() {
		t.Fatal("no error")
	}
	var out bytes.Buffer
	if err := WriteDiagnostics(&out, files, diags, 0, false); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("on big.hcl line %d", n+1); !strings.Contains(out.String(), want) || strings.Contains(out.String(), "oops {") {
		t.Errorf("want %q and no snippet:\n%s", want, out.String())
	}
}
