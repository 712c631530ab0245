package main

import (
	"fmt"

	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/views"
	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "validate [-f FILE] [-json]",
		Short: "Check a cluster file and report every problem with file:line:column",
		Long: `Decode the cluster file with its variables (--var, --var-file, HACTL_VAR_NAME)
and check every rule hactl knows, without touching any server.
Variables without a value are allowed here (checks that need their value are
skipped); plan and apply require them.
Exit status 0 when the file is valid (warnings allowed), 1 otherwise.`,
		Args: cobra.NoArgs,
	}
	flags := addClusterFlags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := flags.checkExists(); err != nil {
			return err
		}
		opts := flags.options()
		opts.AllowUnsetVariables = true
		_, diags, files := schema.LoadDiagnostics(flags.file, opts)
		out := cmd.OutOrStdout()
		if asJSON {
			if err := views.ValidateJSON(out, schema.DiagnosticsJSON(diags)); err != nil {
				return err
			}
		} else if len(diags) > 0 {
			w := cmd.ErrOrStderr()
			_ = schema.WriteDiagnostics(w, files, diags, terminalWidth(w), useColor(w))
		}
		if diags.HasErrors() {
			return exitCodeError{exitError}
		}
		if !asJSON {
			fmt.Fprintf(out, "%s is valid.\n", flags.file)
		}
		return nil
	}
	return cmd
}
