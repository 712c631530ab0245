package version

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/hactl/hactl/schema"
)

func TestCommitOf(t *testing.T) {
	for _, c := range []struct {
		settings []debug.BuildSetting
		want     string
	}{
		{nil, "unknown"},
		{[]debug.BuildSetting{{Key: "vcs.modified", Value: "true"}}, "unknown"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "false"}}, "abc123"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}, "abc123-dirty"},
	} {
		if got := commitOf(c.settings); got != c.want {
			t.Errorf("commitOf(%v) = %q, want %q", c.settings, got, c.want)
		}
	}
}

// The generations stated here are the ones the cluster-file language
// accepts: each range's ends map to its generation, and just below the
// oldest maps to none.
func TestGenerationsAgreeWithSchema(t *testing.T) {
	gens := SupportedGenerations()
	if len(gens) != 2 || gens[0].Name != string(schema.GenerationFlags) || gens[1].Name != string(schema.GenerationTOML) {
		t.Fatalf("generations %+v", gens)
	}
	for v, want := range map[string]schema.Generation{
		"0.5.8": "", "0.5.9": schema.GenerationFlags, "0.6.0": schema.GenerationFlags, "0.6.99": schema.GenerationFlags,
		"0.7.0": schema.GenerationTOML, "0.8.1": schema.GenerationTOML, "1.0.0": schema.GenerationTOML,
	} {
		if got := schema.GenerationOf(v); got != want {
			t.Errorf("schema.GenerationOf(%q) = %q, want %q: update SupportedGenerations", v, got, want)
		}
	}
	if !strings.HasPrefix(gens[0].Versions, "0.5.9 ") || !strings.HasPrefix(gens[1].Versions, "0.7.0 ") {
		t.Errorf("version ranges %+v do not start where schema.GenerationOf does", gens)
	}
	if g := Generations(); len(g) != 2 || !strings.Contains(g[0], "0.5.9") {
		t.Errorf("Generations() = %q", g)
	}
}
