package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hactl/hactl/engine"
)

func newLogsCmd() *cobra.Command {
	var (
		lines  int
		follow bool
	)
	cmd := &cobra.Command{
		Use:   "logs COMPONENT [-n LINES] [-f|--follow] [--file FILE]",
		Short: "Print the last lines of a component's log, or follow it",
		Long: `Print the last lines of a deployed component's log, read from its server.
COMPONENT is its address as plan and status show it (controller.ctrl1,
worker.llm, webserver, apiserver) or, when unambiguous, its bare name (ctrl1).
Secret values of the cluster file are replaced by (sensitive).

With --follow, go on printing each new line as the component writes it
(tail -F on the server, which also follows a log that is replaced; docker
logs -f for compose, which ends when the container stops) until Ctrl-C,
which ends it with exit status 0.

The cluster file is given with --file; -f here means --follow, as in
tail -f and docker logs -f.`,
		Args: cobra.ExactArgs(1),
	}
	// The cluster flags without -f, which is --follow here.
	var clusterOnly cobra.Command
	cf := addClusterFlags(&clusterOnly)
	clusterOnly.Flags().VisitAll(func(f *pflag.Flag) {
		f.Shorthand = ""
		cmd.Flags().AddFlag(f)
	})
	pf := addProviderFlags(cmd)
	cmd.Flags().IntVarP(&lines, "lines", "n", 100, "number of lines")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "print new lines as they are written, until Ctrl-C")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if lines <= 0 {
			return fmt.Errorf("-n %d: want a positive number of lines", lines)
		}
		c, err := cf.load()
		if err != nil {
			return err
		}
		pf.ctrlCEnds = follow
		ctx, sess, done, err := pf.connect(c)
		if err != nil {
			return err
		}
		defer done()
		return sess.Logs(ctx, args[0], engine.LogsOptions{Lines: lines, Follow: follow}, cmd.OutOrStdout())
	}
	return cmd
}
