package version

import (
	"runtime/debug"

	"github.com/hactl/hactl/schema"
)

// Version is hactl's version. Releases set it at build time:
//
//	go build -ldflags "-X github.com/hactl/hactl/internal/version.Version=1.2.3" ./cmd/hactl
var Version = "dev"

// Commit is the VCS revision the binary was built from, as the Go toolchain
// stamped it (vcs.revision, with "+dirty" when the tree had changes), or
// "unknown" when it did not (go build -buildvcs=false, go run, go test).
var Commit = commit(debug.ReadBuildInfo)

func commit(read func() (*debug.BuildInfo, bool)) string {
	info, ok := read()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}

// Generation is a range of DB-GPT versions deployed the same way.
type Generation struct {
	Generation schema.Generation // what schema.GenerationOf returns for them
	From       string            // the first version
	Through    string            // the last version, "" = every later one
	Config     string            // how DB-GPT takes its settings
}

// Generations are the DB-GPT versions hactl deploys (schema.GenerationOf
// decides; a test keeps the two in step). A version before 0.5.9 is refused.
var Generations = []Generation{
	{Generation: schema.GenerationFlags, From: "0.5.9", Through: "0.6.x", Config: "command-line flags and environment variables"},
	{Generation: schema.GenerationTOML, From: "0.7.0", Config: "a TOML file (dbgpt start ... -c FILE)"},
}

// DefaultDBGPTVersion is the DB-GPT version a cluster file without
// dbgpt_version is deployed as.
const DefaultDBGPTVersion = schema.DefaultDBGPTVersion
