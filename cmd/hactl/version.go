package main

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/internal/version"
)

// versionText is what `hactl version` and `hactl --version` print.
func versionText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hactl %s\ncommit: %s\ngo: %s %s/%s\nDB-GPT generations supported (cluster { dbgpt_version = ... }, default %s):\n",
		version.Version, version.Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH, version.DefaultDBGPTVersion)
	for _, g := range version.Generations {
		through := "and later"
		if g.Through != "" {
			through = "– " + g.Through
		}
		fmt.Fprintf(&b, "  %s: DB-GPT %s %s, settings as %s\n", g.Generation, g.From, through, g.Config)
	}
	return b.String()
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print hactl's version, commit and the DB-GPT generations it deploys",
		Long: `Print hactl's version (set at build time; "dev" for a plain go build), the
commit it was built from ("+dirty" when the tree had changes, "unknown" when
the build recorded none, as in a git worktree or with -buildvcs=false), and the DB-GPT generations a cluster file's
dbgpt_version may name. --version prints the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), versionText())
			return err
		},
	}
}
