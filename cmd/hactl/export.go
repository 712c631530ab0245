package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/hactl/hactl/providers/compose"
	"github.com/hactl/hactl/schema"
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
		if err := needComposeBlock(c); err != nil {
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
				fmt.Fprintln(cmd.ErrOrStderr(), "note: the env and settings files the YAML refers to were not written; use -o FILE")
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

// needComposeBlock explains what to add when the file has no compose block:
// the project needs at least the image that runs DB-GPT, and a managed
// MySQL registry its root password.
func needComposeBlock(c *schema.Cluster) error {
	if c.Compose != nil && c.Compose.DeclRange.Filename != "" {
		return nil // a block with something missing: Export names it
	}
	where := "at the end of " + c.Filename
	if src, err := os.ReadFile(c.Filename); err == nil {
		where = fmt.Sprintf("at the end of the file (%s:%d)", c.Filename, bytes.Count(src, []byte("\n"))+1)
	}
	if r := c.DeclRange; r.Filename != "" {
		where += fmt.Sprintf(", or after the cluster block (it starts at %s:%d)", r.Filename, r.Start.Line)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s has no compose block: 'export compose' needs one to know the image that runs DB-GPT.\nAdd one %s, for example:\n\n", c.Filename, where)
	fmt.Fprintf(&b, "compose {\n  dbgpt_image = \"eosphorosai/dbgpt:latest\" # an image with DB-GPT %s whose dbgpt command runs the components\n", c.Version)
	switch {
	case c.Registry == nil:
	case c.Registry.Type != schema.RegistryMySQL:
		fmt.Fprintf(&b, "  managed_database = false # the registry is %q: no database service\n", c.Registry.Type)
	case !(c.Registry.User == "root" && c.Registry.Password.IsSet()):
		b.WriteString("  root_password = var.registry_root_password # the managed MySQL registry's root password (a sensitive variable)\n")
	}
	b.WriteString("}\n\n'hactl docs cluster-file' lists every argument of the compose block.")
	return fmt.Errorf("%s", b.String())
}
