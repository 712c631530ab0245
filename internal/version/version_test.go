package version

import (
	"runtime/debug"
	"testing"

	"github.com/hactl/hactl/schema"
)

// The table agrees with schema.GenerationOf at every boundary.
func TestGenerationsMatchSchema(t *testing.T) {
	for _, g := range Generations {
		if got := schema.GenerationOf(g.From); got != g.Generation {
			t.Errorf("GenerationOf(%q) = %q, table says %q", g.From, got, g.Generation)
		}
	}
	cases := map[string]schema.Generation{
		"0.5.8": "", "0.5.9": schema.GenerationFlags, "0.6.3": schema.GenerationFlags, "0.6.99": schema.GenerationFlags,
		"0.7.0": schema.GenerationTOML, "0.7.5": schema.GenerationTOML, "1.0.0": schema.GenerationTOML,
	}
	for v, want := range cases {
		if got := schema.GenerationOf(v); got != want {
			t.Errorf("GenerationOf(%q) = %q, want %q (update Generations and this test together)", v, got, want)
		}
	}
	if len(Generations) != 2 || Generations[0].Through != "0.6.x" || Generations[1].Through != "" {
		t.Errorf("Generations = %+v", Generations)
	}
	if schema.GenerationOf(DefaultDBGPTVersion) == "" {
		t.Errorf("default DB-GPT version %q is not supported", DefaultDBGPTVersion)
	}
}

func TestCommit(t *testing.T) {
	info := func(settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Settings: settings}, true }
	}
	if got := commit(func() (*debug.BuildInfo, bool) { return nil, false }); got != "unknown" {
		t.Errorf("no build info: %q", got)
	}
	if got := commit(info()); got != "unknown" {
		t.Errorf("no vcs.revision: %q", got)
	}
	if got := commit(info(debug.BuildSetting{Key: "vcs.revision", Value: "abc123"}, debug.BuildSetting{Key: "vcs.modified", Value: "false"})); got != "abc123" {
		t.Errorf("clean: %q", got)
	}
	if got := commit(info(debug.BuildSetting{Key: "vcs.revision", Value: "abc123"}, debug.BuildSetting{Key: "vcs.modified", Value: "true"})); got != "abc123+dirty" {
		t.Errorf("dirty: %q", got)
	}
}
