package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/views"
)

// gateFlags are the health-gate settings of apply.
type gateFlags struct {
	controllers, workers, frontends time.Duration
}

func addGateFlags(cmd *cobra.Command) *gateFlags {
	g := &gateFlags{}
	cmd.Flags().DurationVar(&g.controllers, "timeout-controllers", defaults.GateTimeoutControllers, "how long a controller may take to become healthy")
	cmd.Flags().DurationVar(&g.workers, "timeout-workers", defaults.GateTimeoutWorkers, "how long a worker may take to load its model and register through every controller")
	cmd.Flags().DurationVar(&g.frontends, "timeout-webserver", defaults.GateTimeoutFrontends, "how long the webserver and API server may take to become healthy")
	return g
}

func newApplyCmd() *cobra.Command {
	var (
		autoApprove bool
		noColor     bool
		asJSON      bool
	)
	cmd := &cobra.Command{
		Use:   "apply [-f FILE] [--var NAME=VALUE ...] [--auto-approve] [PLANFILE]",
		Short: "Bring the cluster to what the file says",
		Long: `Plan (as 'hactl plan' does), show the plan, ask for approval on a terminal
(type "yes") unless --auto-approve, then carry it out: pre-flight, the
registry database and table, controllers, workers, webserver and API server,
in that order, each level in parallel. Changes to running controllers roll one
controller at a time, each healthy again before the next; the same for the
workers of one model. Health gates between levels: controllers answer
/api/health and list the registry; every worker's rows are healthy and fresh
through every controller; the webserver answers and sees the models.
Components no longer in the file are removed last.

With PLANFILE (from 'hactl plan --out'), applies exactly that plan without
asking, and refuses it when the cluster file, its values or the cluster
changed since. Pass the same --var, --var-file and HACTL_VAR_ values as to
plan (plan prints the command); other values are refused before any server
is contacted, naming the variables that differ but not their values.

apply holds the cluster's lock from before the plan to the end (also on
Ctrl-C it is released): another apply or destroy meanwhile exits 1 at once,
naming the run that holds it (see 'hactl force-unlock').

A component whose process runs but does not serve yet, and started less
than its start timeout ago (a model's start_timeout, else --timeout-workers
and the like), is starting: not a change; apply waits for it in its gate and
never restarts it, so an apply interrupted during a long model load and run
again just waits. A process that keeps exiting right after its start (3
times) fails its gate at once with its exit status and error lines.

On failure it names the gate, the component and prints the last lines of its
log; run apply again once the cause is fixed: it repairs what was left.
Applying an unchanged cluster changes nothing and restarts nothing.

Exit status: 0 applied (or nothing to do), 1 error.`,
		Args: cobra.MaximumNArgs(1),
	}
	cf := addClusterFlags(cmd)
	pf := addProviderFlags(cmd)
	gf := addGateFlags(cmd)
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "do not ask for approval")
	cmd.Flags().BoolVar(&noColor, "no-color", false, "no colour (also when NO_COLOR is set or output is not a terminal)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan and the progress as one JSON object a line (needs --auto-approve or PLANFILE)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		stdout := cmd.OutOrStdout()
		if asJSON && !autoApprove && len(args) == 0 {
			return errors.New("--json needs --auto-approve or a saved plan: there is no way to ask for approval")
		}
		start := time.Now()
		view := newView(cmd, asJSON, noColor)
		var saved *plan.File
		planPath := ""
		if len(args) == 1 {
			planPath = args[0]
			f, err := plan.ReadFile(planPath)
			if err != nil {
				return failed(view, asJSON, err)
			}
			saved = f
			if !cmd.Flags().Changed("file") {
				cf.file = f.ClusterFile
			}
		}
		c, err := cf.load()
		if err != nil {
			return failed(view, asJSON, err)
		}
		if saved != nil && saved.Cluster != c.Name {
			return failed(view, asJSON, fmt.Errorf("plan %s is for cluster %q, but %s declares cluster %q", planPath, saved.Cluster, cf.file, c.Name))
		}
		ctx, sess, done, err := pf.connect(c)
		if err != nil {
			return failed(view, asJSON, err)
		}
		defer done()
		sess.Warm(ctx)
		release, broken, err := sess.Lock(ctx, "apply")
		if err != nil {
			return failed(view, asJSON, err)
		}
		noteBrokenLock(cmd, broken)
		defer releaseLock(cmd, release)

		gates := apply.Timeouts{Controllers: gf.controllers, Workers: gf.workers, Frontends: gf.frontends}
		sess.GateTimeouts = gates
		p, err := planAgainst(ctx, sess, saved, planPath, cf.file, c)
		if err != nil {
			return failed(view, asJSON, err)
		}
		if err := view.Plan(p); err != nil {
			return err
		}
		if p.Empty() && !p.Waits() {
			if asJSON {
				view.Summary(views.OpApply, apply.Result{}, time.Since(start))
			}
			return nil
		}
		// Waiting for components still starting changes nothing: no approval.
		if saved == nil && !autoApprove && !p.Empty() {
			ok, err := approve(os.Stdin, stdout, "Do you want to perform these actions?",
				"hactl will perform the actions described above.")
			if err != nil {
				return err
			}
			if !ok {
				fmt.Fprintln(stdout, "\nApply cancelled.")
				return exitCodeError{code: exitError}
			}
		}
		opts := apply.Options{
			OnEvent:  view.Event,
			Timeouts: gates,
		}
		res, err := sess.Apply(ctx, p, opts)
		if err != nil {
			if asJSON {
				view.Failed(views.OpApply, err, res)
				return exitCodeError{code: exitError}
			}
			return views.Failure(views.OpApply, err, res)
		}
		view.Summary(views.OpApply, res, time.Since(start))
		return nil
	}
	return cmd
}

// approve asks on a terminal and accepts only "yes". Without a terminal it
// refuses: approval must then be given with --auto-approve.
func approve(in *os.File, out io.Writer, question, detail string) (bool, error) {
	if !isTerminal(in) {
		return false, errors.New("no terminal to ask for approval on: pass --auto-approve (or -auto-approve) to apply without asking")
	}
	fmt.Fprintf(out, "\n%s\n  %s\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", question, detail)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	return strings.TrimSpace(line) == "yes", nil
}

// isTerminal asks the terminal driver: /dev/null is a character device too.
func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd())
}
