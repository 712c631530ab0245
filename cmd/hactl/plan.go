package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/plan"
)

func newPlanCmd() *cobra.Command {
	var (
		out              string
		detailedExitcode bool
		asJSON           bool
		noColor          bool
	)
	cmd := &cobra.Command{
		Use:   "plan [-f FILE] [--var NAME=VALUE ...] [--out FILE] [--detailed-exitcode] [--json]",
		Short: "Show what apply would change on the cluster",
		Long: `Read the cluster file, run the pre-flight checks, observe every server
(component manifests and processes) and print what apply would do, like
terraform plan:
  +    create (a component; or the registry: its database, SQLite file or
       table is absent)
  ~    update in place (restart with new settings; also a component that
       is deployed but not running)
  +/-  replace (the component moves to another server: the new copy is
       created and healthy before the old one is removed, as Terraform's
       create_before_destroy)
  -    destroy (deployed, but no longer in the file)
Secrets show as (sensitive). Nothing is changed.

--out FILE saves the plan (mode 0600, no secret in it: variable values only
as salted digests); 'hactl apply FILE' applies exactly that plan and refuses
it when the cluster file, its variable values or the cluster changed since.
The command printed after saving repeats the --var-file and --var flags
apply needs (the plan records the cluster file, so not -f); a sensitive
variable's value is never printed: its --var shows NAME=... to fill in, or
set HACTL_VAR_NAME instead. Values from HACTL_VAR_ variables are named in a
note: keep them set.

Exit status: 0 success, 1 error (invalid file, failed pre-flight, unreachable
server); with --detailed-exitcode: 0 no changes, 1 error, 2 changes.`,
		Args: cobra.NoArgs,
	}
	cf := addClusterFlags(cmd)
	pf := addProviderFlags(cmd)
	cmd.Flags().StringVar(&out, "out", "", "save the plan to FILE for 'hactl apply FILE'")
	cmd.Flags().BoolVar(&detailedExitcode, "detailed-exitcode", false, "exit 0 when nothing changes, 2 when something does, 1 on error")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object a line instead of text")
	cmd.Flags().BoolVar(&noColor, "no-color", false, "no colour (also when NO_COLOR is set or output is not a terminal)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		stdout := cmd.OutOrStdout()
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
		tell := noteChangeInProgress(ctx, cmd, sess)
		p, err := sess.Plan(ctx)
		tell()
		if err != nil {
			return failed(view, asJSON, err)
		}
		if err := view.Plan(p); err != nil {
			return err
		}
		if out != "" {
			f, err := plan.NewFile(c.Name, cf.file, p)
			if err != nil {
				return err
			}
			if err := f.RecordVariables(c.Variables()); err != nil {
				return err
			}
			if err := f.Save(out); err != nil {
				return err
			}
			if !asJSON {
				fmt.Fprintf(stdout, "\nSaved the plan to: %s\n\nTo perform exactly these actions, run:\n%s", out, cf.applyCommand(c, out))
			}
		}
		if detailedExitcode && !p.Empty() {
			return exitCodeError{code: exitChanges}
		}
		return nil
	}
	return cmd
}
