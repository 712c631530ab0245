package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/apply"
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
  -/+  replace (the component moves to another server: the new copy is
       created and healthy before the old one is removed)
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
		c, err := cf.load()
		if err != nil {
			return err
		}
		ctx, sess, done, err := pf.connect(c)
		if err != nil {
			return err
		}
		defer done()
		p, err := sess.Plan(ctx)
		if err != nil {
			if asJSON {
				writeJSONError(stdout, err)
			}
			return err
		}
		if err := renderPlan(stdout, p, asJSON, noColor); err != nil {
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

// writeJSONError writes an error as a Terraform-style diagnostic line; a
// failed pre-flight gives one line per problem.
func writeJSONError(w io.Writer, err error) {
	type diag struct {
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
		Detail   string `json:"detail,omitempty"`
		Server   string `json:"server,omitempty"`
		Address  string `json:"address,omitempty"`
	}
	type msg struct {
		Level     string `json:"@level"`
		Message   string `json:"@message"`
		Timestamp string `json:"@timestamp"`
		Type      string `json:"type"`
		Diag      diag   `json:"diagnostic"`
	}
	enc := json.NewEncoder(w)
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var pe *apply.PreflightError
	if errors.As(err, &pe) {
		for _, p := range pe.Problems {
			_ = enc.Encode(msg{Level: "error", Message: "Error: " + p.Error(), Timestamp: now, Type: "diagnostic",
				Diag: diag{Severity: "error", Summary: p.What, Detail: p.Fix, Server: p.Server, Address: p.Component}})
		}
		return
	}
	_ = enc.Encode(msg{Level: "error", Message: "Error: " + err.Error(), Timestamp: now, Type: "diagnostic",
		Diag: diag{Severity: "error", Summary: err.Error()}})
}

// renderPlan prints p as Terraform-style text or, with asJSON, one JSON
// object a line.
func renderPlan(w io.Writer, p *plan.Plan, asJSON, noColor bool) error {
	if asJSON {
		return plan.Renderer{W: w}.JSON(p)
	}
	plan.Renderer{W: w, Color: !noColor && useColor(os.Stdout)}.Text(p)
	return nil
}
