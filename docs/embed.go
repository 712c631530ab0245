package docs

import (
	"bufio"
	"embed"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed *.md
var files embed.FS

// FS is the documentation: one TOPIC.md file a topic.
var FS fs.FS = files

// Topic is one document: its name (the file name without .md) and title
// (its first Markdown heading).
type Topic struct {
	Name, Title string
}

// Topics lists every document, sorted by name.
func Topics() []Topic {
	names, _ := fs.Glob(FS, "*.md")
	slices.Sort(names)
	var out []Topic
	for _, n := range names {
		b, _ := fs.ReadFile(FS, n)
		out = append(out, Topic{Name: strings.TrimSuffix(path.Base(n), ".md"), Title: firstHeading(string(b))})
	}
	return out
}

// Read returns the Markdown of a topic, and false when there is none.
func Read(name string) (string, bool) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return "", false
	}
	b, err := fs.ReadFile(FS, strings.TrimSuffix(name, ".md")+".md")
	if err != nil {
		return "", false
	}
	return string(b), true
}

func firstHeading(md string) string {
	sc := bufio.NewScanner(strings.NewReader(md))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "#") {
			return strings.TrimSpace(strings.TrimLeft(l, "#"))
		}
	}
	return ""
}
