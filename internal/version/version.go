package version

import (
	"runtime/debug"

	"github.com/hactl/hactl/schema"
)

// Version is hactl's version. Builds set it with
//
//	go build -ldflags "-X github.com/hactl/hactl/internal/version.Version=v1.2.3"
//
// (make build passes `git describe --always --dirty`); otherwise "dev".
// Commit may be "unknown" where Version still names the commit: the go
// command records no VCS information in a git worktree (.git is a file
// there) or under -buildvcs=false.
var Version = "dev"

// Commit is the VCS revision the binary was built from, with "-dirty" when
// the working tree had changes, or "unknown" when the build recorded none
// (go run, go test, a build outside a repository or with -buildvcs=false).
func Commit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return commitOf(info.Settings)
}

func commitOf(settings []debug.BuildSetting) string {
	rev, modified := "", false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if modified {
		rev += "-dirty"
	}
	return rev
}

// Generation is one DB-GPT command-line generation hactl deploys: its name
// as the cluster file's dbgpt_version maps to it, and the DB-GPT versions
// it covers (schema.GenerationOf is the rule; a test keeps the two in step).
type Generation struct {
	Name     string `json:"name"`
	Versions string `json:"versions"`
	Config   string `json:"config"`
}

// SupportedGenerations lists the DB-GPT generations hactl deploys, oldest
// first.
func SupportedGenerations() []Generation {
	return []Generation{
		{Name: string(schema.GenerationFlags), Versions: "0.5.9 – 0.6.x", Config: "settings as command-line flags and environment"},
		{Name: string(schema.GenerationTOML), Versions: "0.7.0 and later", Config: "settings in a TOML file (dbgpt start X -c FILE)"},
	}
}

// Generations is SupportedGenerations as one line each, e.g.
// "0.6: DB-GPT 0.5.9 – 0.6.x, settings as command-line flags and environment".
func Generations() []string {
	var out []string
	for _, g := range SupportedGenerations() {
		out = append(out, g.Name+": DB-GPT "+g.Versions+", "+g.Config)
	}
	return out
}
