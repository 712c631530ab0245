package images

import (
	"os"
	"path/filepath"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestMirrorFrom(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"deb822, security stanza skipped", map[string]string{
			"sources.list.d/debian.sources": "Types: deb\n# a comment\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n" +
				"Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n",
		}, "http://mirror.example/debian"},
		{"deb822 disabled stanza and deb-src skipped", map[string]string{
			"sources.list.d/a.sources": "Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\n\n" +
				"Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\nComponents: main\n\n" +
				"Types: deb deb-src\nURIs: http://on.example/debian\nSuites: bookworm\nComponents: main contrib\n",
		}, "http://on.example/debian"},
		{"other suites only in .sources, one-line list used", map[string]string{
			"sources.list.d/node.sources": "Types: deb\nURIs: http://node.example/\nSuites: nodistro\nComponents: main\n",
			"sources.list":                "# deb http://commented.example/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://line.example/debian bookworm main\n",
		}, "http://line.example/debian"},
		{"disabled-by suffix ignored", map[string]string{
			"sources.list.d/x.list.disabled": "deb http://x.example/debian bookworm main\n",
			"sources.list.d/y.list":          "deb http://y.example/debian bookworm main non-free\n",
		}, "http://y.example/debian"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mirrorFrom(writeFiles(t, tc.files), "bookworm")
			if err != nil || got != tc.want {
				t.Errorf("mirrorFrom = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := mirrorFrom(writeFiles(t, map[string]string{"sources.list": "deb http://x/ trixie main\n"}), "bookworm"); err == nil {
		t.Errorf("no bookworm source: want an error")
	}
}

func TestHashOf(t *testing.T) {
	// Length prefixes keep ("ab","c") and ("a","bc") apart.
	if hashOf([]byte("ab"), []byte("c")) == hashOf([]byte("a"), []byte("bc")) {
		t.Errorf("hashOf is ambiguous")
	}
	if h := hashOf([]byte("x")); len(h) != 12 || h != hashOf([]byte("x")) {
		t.Errorf("hashOf(x) = %q", h)
	}
}
