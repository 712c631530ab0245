package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every Markdown file of the directory is a topic, titled by its first
// heading, and reads back as the file on disk.
func TestTopicsAreTheFiles(t *testing.T) {
	onDisk, _ := filepath.Glob("*.md")
	topics := Topics()
	if len(topics) != len(onDisk) || len(topics) < 2 {
		t.Fatalf("topics %v, files %v", topics, onDisk)
	}
	for _, tp := range topics {
		want, err := os.ReadFile(tp.Name + ".md")
		if err != nil {
			t.Fatal(err)
		}
		got, ok := Read(tp.Name)
		if !ok || got != string(want) {
			t.Errorf("Read(%q) differs from the file", tp.Name)
		}
		if tp.Title == "" || !strings.Contains(string(want), "# "+tp.Title) {
			t.Errorf("%s: title %q", tp.Name, tp.Title)
		}
	}
	for _, bad := range []string{"", "nope", "../README", "cluster-file/x"} {
		if _, ok := Read(bad); ok {
			t.Errorf("Read(%q) found something", bad)
		}
	}
	if got, ok := Read("cluster-file.md"); !ok || !strings.HasPrefix(got, "# The cluster file") {
		t.Errorf("Read with the .md suffix: %v", ok)
	}
}
