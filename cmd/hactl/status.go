package main

import (
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/internal/status"
)

func init() {
	var (
		asJSON  bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "status [-f FILE] [--var NAME=VALUE ...] [--json]",
		Short: "Show every component's state and the registry's models",
		Long: `Show every component of the cluster (role, server, address, pid, uptime,
restarts, state: running, down, unhealthy, not deployed) and the models in the
registry as 'dbgpt model list' shows them, merged over every controller that
answers. Each model row is judged by the age of its last heartbeat, not only by
its healthy column: live, unhealthy, stale, or "stale registration" when no
worker of the file lives at its host and port; duplicate rows are flagged.
When no controller answers, the rows are read from the registry database.

Exit status: 0 when the status could be gathered, whatever the cluster's
health (read the states, or --json); 1 when the file is invalid or nothing
could be reached.`,
		Args: cobra.NoArgs,
	}
	cf := addClusterFlags(cmd)
	pf := addProviderFlags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "timeout of one HTTP request to a component")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := cf.load()
		if err != nil {
			return err
		}
		ctx, p, c, done, err := pf.connect(c)
		if err != nil {
			return err
		}
		defer done()
		r, err := status.Gather(ctx, p, c, status.Options{RequestTimeout: timeout})
		if err != nil {
			return err
		}
		if asJSON {
			err = r.WriteJSON(cmd.OutOrStdout())
		} else {
			err = r.WriteText(cmd.OutOrStdout(), useColor(os.Stdout))
		}
		if err == nil && r.NothingReached {
			return exitCodeError{code: exitError}
		}
		return err
	}
	rootCmd.AddCommand(cmd)
}
