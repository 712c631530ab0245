package main

import (
	"github.com/spf13/cobra"

	"github.com/hactl/hactl/views"
)

// newView picks the view of a plan, apply or destroy: JSON lines with
// --json, else text (coloured on a terminal unless --no-color or NO_COLOR).
func newView(cmd *cobra.Command, asJSON, noColor bool) views.Operation {
	if asJSON {
		return views.NewJSON(cmd.OutOrStdout())
	}
	return views.NewHuman(cmd.OutOrStdout(), cmd.ErrOrStderr(), !noColor && useColor(cmd.OutOrStdout()))
}

// failed reports err once: as a JSON diagnostic (then a silent exit 1), or
// returned for main to print after "Error: ".
func failed(view views.Operation, asJSON bool, err error) error {
	if !asJSON {
		return err
	}
	view.Diagnostics(err)
	return exitCodeError{code: exitError}
}
