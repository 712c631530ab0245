package schema

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and the generated part of docs/cluster-file.md")

const docsPath = "../docs/cluster-file.md"

// TestDocsReferenceUpToDate keeps docs/cluster-file.md's reference identical
// to the one generated from spec.go (the decoder's own schemas).
func TestDocsReferenceUpToDate(t *testing.T) {
	src, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src)
	i := strings.Index(doc, ReferenceBegin)
	j := strings.Index(doc, ReferenceEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q and %q", docsPath, ReferenceBegin, ReferenceEnd)
	}
	want := doc[:i] + ReferenceBegin + "\n\n" + Reference() + "\n" + doc[j:]
	if doc == want {
		return
	}
	if *update {
		if err := os.WriteFile(docsPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date with spec.go; run: go test ./schema -run TestDocsReferenceUpToDate -update", docsPath)
}
