package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newLogsCmd() *cobra.Command {
	var lines int
	cmd := &cobra.Command{
		Use:   "logs COMPONENT [-n LINES]",
		Short: "Print the last lines of a component's log",
		Long: `Print the last lines of a deployed component's log, read from its server.
COMPONENT is its address as plan and status show it (controller.ctrl1,
worker.llm, webserver, apiserver) or, when unambiguous, its bare name (ctrl1).
Secret values of the cluster file are replaced by (sensitive).`,
		Args: cobra.ExactArgs(1),
	}
	cf := addClusterFlags(cmd)
	pf := addProviderFlags(cmd)
	cmd.Flags().IntVarP(&lines, "lines", "n", 100, "number of lines")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if lines <= 0 {
			return fmt.Errorf("-n %d: want a positive number of lines", lines)
		}
		c, err := cf.load()
		if err != nil {
			return err
		}
		ctx, sess, done, err := pf.connect(c)
		if err != nil {
			return err
		}
		defer done()
		text, err := sess.Logs(ctx, args[0], lines)
		if err != nil {
			return err
		}
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		_, err = fmt.Fprint(cmd.OutOrStdout(), text)
		return err
	}
	return cmd
}
