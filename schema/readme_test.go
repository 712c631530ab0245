package schema

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The README's cluster file is the first one a newcomer reads: it must
// validate and be formatted, like the examples.
func TestReadmeClusterFile(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```hcl\n")
	if !ok {
		t.Fatal("README.md has no ```hcl block")
	}
	src, _, _ := strings.Cut(rest, "```")
	_, diags, _ := Decode("README.md", []byte(src), LoadOptions{AllowUnsetVariables: true})
	if len(diags) > 0 {
		t.Errorf("README cluster file: %s", diags.Error())
	}
	out, diags := Format("README.md", []byte(src))
	if diags.HasErrors() || string(out) != src {
		t.Errorf("README cluster file is not formatted:\n%s", UnifiedDiff("README.md", "README.md", []byte(src), out))
	}
	// Every later block is a piece of an example, as it is written there.
	var examples []string
	files, _ := filepath.Glob("../examples/*/cluster.hcl")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples = append(examples, string(b))
	}
	for {
		var ok bool
		if _, rest, ok = strings.Cut(rest, "```hcl\n"); !ok {
			break
		}
		var piece string
		piece, rest, _ = strings.Cut(rest, "```")
		if !slices.ContainsFunc(examples, func(e string) bool { return strings.Contains(e, piece) }) {
			t.Errorf("this README block is in no examples/*/cluster.hcl as written:\n%s", piece)
		}
	}
}
