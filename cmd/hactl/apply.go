package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/plan"
)

// gateFlags are the health-gate settings of apply.
type gateFlags struct {
	controllers, workers, frontends time.Duration
}

func addGateFlags(cmd *cobra.Command) *gateFlags {
	g := &gateFlags{}
	cmd.Flags().DurationVar(&g.controllers, "timeout-controllers", 60*time.Second, "how long a controller may take to become healthy")
	cmd.Flags().DurationVar(&g.workers, "timeout-workers", 5*time.Minute, "how long a worker may take to load its model and register through every controller")
	cmd.Flags().DurationVar(&g.frontends, "timeout-webserver", 2*time.Minute, "how long the webserver and API server may take to become healthy")
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
		var saved *plan.File
		planPath := ""
		if len(args) == 1 {
			planPath = args[0]
			f, err := plan.ReadFile(planPath)
			if err != nil {
				return err
			}
			saved = f
			if !cmd.Flags().Changed("file") {
				cf.file = f.ClusterFile
			}
		}
		c, err := cf.load()
		if err != nil {
			return err
		}
		if saved != nil && saved.Cluster != c.Name {
			return fmt.Errorf("plan %s is for cluster %q, but %s declares cluster %q", planPath, saved.Cluster, cf.file, c.Name)
		}
		ctx, sess, done, err := pf.connect(c)
		if err != nil {
			return err
		}
		defer done()

		start := time.Now()
		var jl *jsonLog
		if asJSON {
			jl = &jsonLog{w: stdout}
		}
		p, err := planAgainst(ctx, sess, saved, planPath, c)
		if err != nil {
			if asJSON {
				writeJSONError(stdout, err)
			}
			return err
		}
		if err := renderPlan(stdout, p, asJSON, noColor); err != nil {
			return err
		}
		if p.Empty() {
			if asJSON {
				jl.summary(apply.Result{}, "apply")
			}
			return nil
		}
		if saved == nil && !autoApprove {
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
			Out:      stdout,
			Timeouts: apply.Timeouts{Controllers: gf.controllers, Workers: gf.workers, Frontends: gf.frontends},
		}
		if asJSON {
			opts.Out, opts.OnEvent = io.Discard, jl.event
		} else {
			fmt.Fprintln(stdout)
		}
		res, err := sess.Apply(ctx, p, opts)
		if err != nil {
			err = applyFailure(err, res)
			if asJSON {
				writeJSONError(stdout, err)
			}
			return err
		}
		if asJSON {
			jl.summary(res, "apply")
			return nil
		}
		fmt.Fprintf(stdout, "\nApply complete! %s (%s)\n", res, time.Since(start).Round(100*time.Millisecond))
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

// applyFailure adds the failed component's log tail and the way out.
func applyFailure(err error, res apply.Result) error {
	var b strings.Builder
	b.WriteString(err.Error())
	if comp, log := apply.LogOf(err); log != "" {
		fmt.Fprintf(&b, "\n\nLast lines of the log of %s:\n", comp)
		for _, l := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
			b.WriteString("  | " + l + "\n")
		}
	}
	fmt.Fprintf(&b, "\nDone before the failure: %s\nFix the cause, then run 'hactl apply' again: it repairs what is left.", res)
	return errors.New(b.String())
}

// jsonLog writes apply events as Terraform's machine-readable UI does: one
// object a line with @level, @message, @timestamp, type and a hook.
type jsonLog struct {
	w io.Writer
}

type jsonHook struct {
	Resource       *jsonHookResource `json:"resource,omitempty"`
	Name           string            `json:"name,omitempty"`
	Action         plan.Action       `json:"action,omitempty"`
	ElapsedSeconds float64           `json:"elapsed_seconds"`
}

type jsonHookResource struct {
	Addr string `json:"addr"`
}

func (j *jsonLog) event(ev apply.Event) {
	h := &jsonHook{Action: ev.Action, ElapsedSeconds: ev.Elapsed.Round(time.Millisecond).Seconds()}
	if ev.Action != "" {
		h.Resource = &jsonHookResource{Addr: ev.Address}
	} else {
		h.Name = ev.Address
	}
	j.write(map[string]any{"@level": "info", "@message": ev.Message, "type": ev.Type, "hook": h})
}

func (j *jsonLog) summary(r apply.Result, op string) {
	msg := fmt.Sprintf("Apply complete! %s", r)
	j.write(map[string]any{"@level": "info", "@message": msg, "type": "change_summary",
		"changes": map[string]any{"add": r.Added, "change": r.Changed, "remove": r.Destroyed, "operation": op}})
}

func (j *jsonLog) write(m map[string]any) {
	m["@timestamp"] = time.Now().UTC().Format(time.RFC3339Nano)
	_ = json.NewEncoder(j.w).Encode(m)
}
