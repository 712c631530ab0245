package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/views"
)

func newDestroyCmd() *cobra.Command {
	var (
		autoApprove   bool
		purgeRegistry bool
		noColor       bool
		asJSON        bool
	)
	cmd := &cobra.Command{
		Use:   "destroy [-f FILE] [--var NAME=VALUE ...] [--auto-approve] [--purge-registry] [--json]",
		Short: "Stop and remove every component of the cluster",
		Long: `Stop and remove every hactl component found on the cluster's servers (also
those no longer in the file, and on servers removed from the file that the
cluster record remembers), in reverse order: webserver and API server,
workers, then controllers. Before the controllers stop, every registry row is
marked unhealthy through them. Each component's directory, unit and log go;
an empty deploy directory goes too: no hactl process or file is left.

The registry database and its rows are kept. --purge-registry deletes the
rows of this cluster's workers (their host:port), never another cluster's
rows in a shared registry, and refuses a table that is not DB-GPT's.
Asks on a terminal (type "yes") unless --auto-approve. Holds the cluster's
lock as apply does (see 'hactl force-unlock').

Exit status: 0 destroyed (or nothing deployed), 1 error.`,
		Args: cobra.NoArgs,
	}
	cf := addClusterFlags(cmd)
	pf := addProviderFlags(cmd)
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "do not ask for approval")
	cmd.Flags().BoolVar(&purgeRegistry, "purge-registry", false, "also delete the registry rows of this cluster's workers (never another cluster's rows, never a table that is not DB-GPT's)")
	cmd.Flags().BoolVar(&noColor, "no-color", false, "no colour (also when NO_COLOR is set or output is not a terminal)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan and the progress as one JSON object a line (needs --auto-approve)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		stdout := cmd.OutOrStdout()
		if asJSON && !autoApprove {
			return errors.New("--json needs --auto-approve: there is no way to ask for approval")
		}
		view := newView(cmd, asJSON, noColor)
		c, err := cf.load()
		if err != nil {
			return failed(view, asJSON, err)
		}
		ctx, sess, done, err := pf.connect(c)
		if err != nil {
			return failed(view, asJSON, err)
		}
		defer done()
		sess.Warm(ctx)
		release, broken, err := sess.Lock(ctx, "destroy")
		if err != nil {
			return failed(view, asJSON, err)
		}
		noteBrokenLock(cmd, broken)
		defer releaseLock(cmd, release)
		start := time.Now()
		p, err := sess.DestroyPlan(ctx)
		if err != nil {
			return failed(view, asJSON, err)
		}
		if p.Empty() && !purgeRegistry {
			if err := sess.Teardown(ctx, false); err != nil {
				return failed(view, asJSON, err)
			}
			if asJSON {
				view.Summary(views.OpDestroy, apply.Result{}, time.Since(start))
				return nil
			}
			fmt.Fprintln(stdout, "\nNo changes. No hactl component is deployed for this cluster.")
			return nil
		}
		if !asJSON {
			if err := view.Plan(p); err != nil {
				return err
			}
			if purgeRegistry {
				fmt.Fprintln(stdout, "\nThe registry's rows of this cluster's workers will be deleted (--purge-registry).")
			}
		}
		if !autoApprove {
			ok, err := approve(os.Stdin, stdout, "Do you really want to destroy every component?",
				"hactl will stop and remove every component shown above. There is no undo.")
			if err != nil {
				return err
			}
			if !ok {
				fmt.Fprintln(stdout, "\nDestroy cancelled.")
				return exitCodeError{code: exitError}
			}
		}
		res, err := sess.Destroy(ctx, p, purgeRegistry, apply.Options{OnEvent: view.Event})
		if err != nil {
			if asJSON {
				view.Failed(views.OpDestroy, err, res)
				return exitCodeError{code: exitError}
			}
			return views.Failure(views.OpDestroy, err, res)
		}
		view.Summary(views.OpDestroy, res, time.Since(start))
		return nil
	}
	return cmd
}
