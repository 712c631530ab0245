package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/internal/status"
	"github.com/hactl/hactl/views"
)

func newStatusCmd() *cobra.Command {
	var (
		asJSON, check, noColor bool
		timeout                time.Duration
	)
	cmd := &cobra.Command{
		Use:   "status [-f FILE] [--var NAME=VALUE ...] [--json] [--check]",
		Short: "Show every component's state and the registry's models",
		Long: `Show every component of the cluster (role, server, address, pid, uptime,
restarts, state: running, down, unhealthy, not deployed, unknown) and the
models in the registry as 'dbgpt model list' shows them, merged over every
controller that answers. Each model row is judged by the age of its last
heartbeat, not only by its healthy column: live, unhealthy, stale, or "stale
registration" when no worker of the file lives at its host and port;
duplicate rows are flagged. When no controller answers, the rows are read
from the registry database. A value hactl could not learn (the process is
not running, or its server could not be observed) is shown as "-" and left
out of the JSON.

Exit status without --check: 0 when the status could be gathered, whatever
the cluster's health; 1 when the file is invalid or nothing could be reached.

Exit status with --check, for scripts and CI:
  0  healthy: every component of the file is running, every controller
     answers, and every registry row is live and listed by every controller
  1  error: the file is invalid or nothing could be reached
  2  degraded: anything less (the report says what; the text ends with a
     "Check:" line)`,
		Args: cobra.NoArgs,
	}
	cf := addClusterFlags(cmd)
	pf := addProviderFlags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	cmd.Flags().BoolVar(&check, "check", false, "exit 2 when the cluster is degraded (see above)")
	cmd.Flags().BoolVar(&noColor, "no-color", false, "no colour (also when NO_COLOR is set or output is not a terminal)")
	cmd.Flags().DurationVar(&timeout, "timeout", defaults.RequestTimeout, "timeout of one HTTP request to a component")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := cf.load()
		if err != nil {
			return err
		}
		ctx, sess, done, err := pf.connect(c)
		if err != nil {
			return err
		}
		defer done()
		sess.Warm(ctx)
		tell := noteChangeInProgress(ctx, cmd, sess)
		r, err := sess.Status(ctx, status.Options{RequestTimeout: timeout})
		tell()
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		if asJSON {
			err = views.StatusJSON(out, r)
		} else {
			err = r.WriteText(out, !noColor && useColor(cmd.OutOrStdout()))
		}
		switch {
		case err != nil:
			return err
		case r.NothingReached:
			return exitCodeError{code: exitError}
		case !check:
			return nil
		}
		degraded := r.Degraded()
		if !asJSON {
			if len(degraded) == 0 {
				fmt.Fprintln(out, "\nCheck: healthy.")
			} else {
				fmt.Fprintf(out, "\nCheck: degraded (%s).\n", plural(len(degraded), "problem"))
			}
		}
		if len(degraded) > 0 {
			return exitCodeError{code: exitDegraded}
		}
		return nil
	}
	return cmd
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
