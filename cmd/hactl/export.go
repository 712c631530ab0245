package main

import (
	"fmt"
	"os"

	"github.com/hactl/hactl/providers/compose"
	"github.com/spf13/cobra"
)

func newExportCmd() *cobra.Command {
	exportCmd := &cobra.Command{
		Use:   "export",
		Short: "Write the cluster in another tool's format",
	}
	var out string
	cmd := &cobra.Command{
		Use:   "compose [-f FILE] [--var NAME=VALUE] [-o FILE]",
		Short: "Write the cluster as a docker compose project",
		Long: `Write the cluster file as a docker compose project: one service per controller,
worker, webserver and apiserver, the managed registry database, a private network,
healthchecks and depends_on in apply order.

With -o FILE the YAML is written to FILE and, next to it, .env (the project name),
one <service>.env file of mode 0600 per service that needs a secret, and a
directory per component with its settings files. Secrets are never in the YAML.
Without -o (or with -o -) only the YAML is printed.

The registry table is not created by the project: run 'hactl apply --provider
compose', or create it yourself, before the controllers can serve.`,
		Args: cobra.NoArgs,
	}
	flags := addClusterFlags(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "-", "compose file to write; '-' prints the YAML only")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := flags.load()
		if err != nil {
			return err
		}
		p, err := compose.Export(c, compose.BuildOptions{})
		if err != nil {
			return err
		}
		if out == "-" || out == "" {
			y, err := p.YAML()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(y)
			if err == nil && len(p.Files) > 0 {
				fmt.Fprintln(os.Stderr, "note: the env and settings files the YAML refers to were not written; use -o FILE")
			}
			return err
		}
		if err := p.Write(out); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Wrote %s (compose project %q, %d services) and %d files next to it.\n",
			out, p.Name, len(p.Compose.Services), len(p.Files))
		return nil
	}
	exportCmd.AddCommand(cmd)
	return exportCmd
}
