package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/hactl/hactl/schema"
	"github.com/spf13/cobra"
)

func newInitCmd() *cobra.Command {
	var single, force bool
	var out string
	cmd := &cobra.Command{
		Use:   "init [--single] [-o FILE] [--force]",
		Short: "Write a commented starter cluster file",
		Long: `Write a commented starter cluster file that validates as it is:
the DB-GPT guide's three-server HA cluster (MySQL registry, two controllers,
an LLM and an embedding worker, a light webserver), or with --single one
machine with a SQLite registry and local transport. An existing file is
never overwritten unless --force is given.`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().BoolVar(&single, "single", false, "one machine, SQLite registry, local transport")
	cmd.Flags().StringVarP(&out, "output", "o", "cluster.hcl", "file to write")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		content := schema.StarterHA
		if single {
			content = schema.StarterSingle
		}
		flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if force {
			flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		f, err := os.OpenFile(out, flag, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists; use --force to overwrite it", out)
		}
		if err != nil {
			return err
		}
		if _, err := f.WriteString(content); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Wrote %s. Next: hactl validate -f %s\n", out, out)
		return nil
	}
	return cmd
}
