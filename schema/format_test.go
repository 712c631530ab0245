package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Golden tests: testdata/fmt/NAME.in.hcl formats to NAME.golden.hcl, and
// formatting is idempotent. go test ./schema -run TestFormatGolden -update
// rewrites the golden files.
func TestFormatGolden(t *testing.T) {
	ins, _ := filepath.Glob("testdata/fmt/*.in.hcl")
	if len(ins) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, in := range ins {
		golden := strings.TrimSuffix(in, ".in.hcl") + ".golden.hcl"
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		out, diags := Format(in, src)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", in, diags.Error())
		}
		if *update {
			os.WriteFile(golden, out, 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(want) {
			t.Errorf("%s:\n%s", in, UnifiedDiff(golden, "formatted", want, out))
		}
		again, _ := Format(golden, out)
		if string(again) != string(out) {
			t.Errorf("%s: formatting is not idempotent", in)
		}
	}
}

func TestFormatRefusesBrokenSyntax(t *testing.T) {
	out, diags := Format("x.hcl", []byte("cluster {\n  name = \n"))
	if !diags.HasErrors() || out != nil {
		t.Errorf("Format formatted a broken file")
	}
}

func TestUnifiedDiff(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	b := "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"
	want := `--- x
+++ y
@@ -1,5 +1,5 @@
 a
-b
+B
 c
 d
 e
@@ -8,3 +8,4 @@
 h
 i
 j
+k
`
	if got := UnifiedDiff("x", "y", []byte(a), []byte(b)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if UnifiedDiff("x", "y", []byte(a), []byte(a)) != "" {
		t.Errorf("diff of equal inputs is not empty")
	}
	// fmt ends a file with a newline; patch(1) must see that change.
	got := UnifiedDiff("a/c.hcl", "b/c.hcl", []byte("a\nb"), []byte("a\nb\n"))
	want = "--- a/c.hcl\n+++ b/c.hcl\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
	if got != want {
		t.Errorf("missing final newline: got %q, want %q", got, want)
	}
}
