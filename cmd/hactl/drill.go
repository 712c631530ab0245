package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/drill"
	"github.com/hactl/hactl/lock"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/views"
)

func newDrillCmd() *cobra.Command {
	var (
		targets        []string
		mode           string
		duration       time.Duration
		asJSON, dryRun bool
		force, noColor bool
	)
	cmd := &cobra.Command{
		Use:   "drill [-f FILE] [--target controller.NAME|worker.NAME|registry ...] [--mode stop|kill] [--duration D] [-json] [--dry-run] [--force]",
		Short: "Prove on the live cluster that it is highly available, and put it back",
		Long: `Take components of the live cluster down one at a time, check every second
that it keeps serving, bring each back and report, with figures, whether the
cluster is highly available ('hactl docs drill' says more).

It refuses to start unless the cluster is healthy now (what 'hactl status
--check' calls healthy), saying what is wrong (--force drills anyway).

  controller.NAME  (default: every controller in turn) goes down (--mode stop:
                   a clean stop; kill: SIGKILL of the process and its
                   supervisor); for the heartbeat timeout + interval every
                   model must stay listed and live, with heartbeats
                   advancing, through each remaining controller, and the
                   webserver and API server must answer. Then it is started
                   again and must be healthy and list every model.
  worker.NAME      is killed; the time until every controller marks it
                   unhealthy is measured (DB-GPT: timeout to timeout +
                   interval after its last heartbeat); then it is started
                   again and must be live.
  registry         the database the provider manages (compose's own) stops
                   for --duration; what answers is counted; afterwards each
                   controller's log tells whether its heartbeat checker
                   thread survived. Refused where hactl does not manage the
                   database.

What it took down is always started again: after a failed check, an error
or Ctrl-C. A second Ctrl-C exits at once and says what is left down.
The drill holds the cluster's lock, like apply.

Exit status: 0 the cluster proved highly available, 2 a step found it is
not, 1 error (also a refused precondition or an interrupted drill).`,
		Args: cobra.NoArgs,
	}
	cf := addClusterFlags(cmd)
	pf := addProviderFlags(cmd)
	cmd.Flags().StringArrayVar(&targets, "target", nil, "what to take down: controller.NAME, worker.NAME or registry; repeat for more (default: every controller in turn)")
	cmd.Flags().StringVar(&mode, "mode", string(providers.FaultStop), "how a controller goes down: stop (a clean stop) or kill (SIGKILL of process and supervisor); a worker is always killed")
	cmd.Flags().DurationVar(&duration, "duration", 0, "how long the registry stays down (default 2 × (heartbeat timeout + interval))")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the progress and the report as one JSON object a line")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the steps and change nothing")
	cmd.Flags().BoolVar(&force, "force", false, "drill although the cluster is not healthy now")
	cmd.Flags().BoolVar(&noColor, "no-color", false, "no colour (also when NO_COLOR is set or output is not a terminal)")
	_ = cmd.RegisterFlagCompletionFunc("target", completeDrillTargets)
	_ = cmd.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"stop", "kill"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		view := newView(cmd, asJSON, noColor)
		var ts []string
		for _, t := range targets {
			for _, x := range strings.Split(t, ",") {
				if x = strings.TrimSpace(x); x != "" {
					ts = append(ts, x)
				}
			}
		}
		opts := drill.Options{Targets: ts, Mode: providers.FaultMode(mode), RegistryDownFor: duration, DryRun: dryRun, Force: force}
		c, err := cf.load()
		if err != nil {
			return failed(view, asJSON, err)
		}
		if _, err := drill.Steps(c, opts); err != nil {
			return failed(view, asJSON, err)
		}
		// What is down now, for a second Ctrl-C that leaves it so.
		var (
			mu   sync.Mutex
			down []string
		)
		pf.beforeExit = func() {
			mu.Lock()
			defer mu.Unlock()
			if len(down) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "hactl: the drill leaves DOWN: %s. 'hactl apply' starts it again (or run the drill again).\n", strings.Join(down, ", "))
			} else {
				fmt.Fprintln(cmd.ErrOrStderr(), "hactl: the drill had nothing down.")
			}
		}
		ctx, sess, done, err := pf.connect(c)
		if err != nil {
			return failed(view, asJSON, err)
		}
		defer done()
		sess.OnBrokenLock = func(i *lock.Info) { noteBrokenLock(cmd, i) }
		emit := func(ev apply.Event) {
			if e, ok := ev.(drill.StepEvent); ok {
				mu.Lock()
				switch e.Phase {
				case drill.PhaseDown:
					down = append(down, e.Target)
				case drill.PhaseUp:
					down = slices.DeleteFunc(down, func(t string) bool { return t == e.Target })
				}
				mu.Unlock()
			}
			view.Event(ev)
		}
		rep, err := sess.Drill(ctx, opts, emit)
		if rep != nil && (err == nil || len(rep.Steps) > 0) {
			if j, ok := view.(*views.JSON); ok {
				j.DrillReport(rep)
			} else if err := views.DrillReport(cmd.OutOrStdout(), rep); err != nil {
				return err
			}
		}
		if err != nil {
			return failed(view, asJSON, err)
		}
		if !rep.HA && !rep.DryRun {
			return exitCodeError{code: exitDegraded}
		}
		return nil
	}
	return cmd
}
