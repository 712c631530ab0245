package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hactl/hactl/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

func newFmtCmd() *cobra.Command {
	var check, diff bool
	cmd := &cobra.Command{
		Use:   "fmt [-check] [-diff] [FILE|DIR ...]",
		Short: "Rewrite cluster files in canonical HCL format",
		Long: `Rewrite cluster files in the canonical HCL layout. Without arguments,
every *.hcl file in the current directory; a directory means its *.hcl files.
The names of rewritten files are printed.

  -check  rewrite nothing; list the files that are not formatted and exit 1 if any
  -diff   print a unified diff of the changes`,
	}
	cmd.Flags().BoolVar(&check, "check", false, "only check; exit 1 when a file is not formatted")
	cmd.Flags().BoolVar(&diff, "diff", false, "print a unified diff of the changes")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		files, err := fmtTargets(args)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		failed, unformatted := false, false
		for _, name := range files {
			src, err := schema.ReadSource(name, schema.MaxSourceSize)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "Error:", err)
				failed = true
				continue
			}
			formatted, diags := schema.Format(name, src)
			if diags.HasErrors() {
				errw := cmd.ErrOrStderr()
				_ = schema.WriteDiagnostics(errw, map[string]*hcl.File{name: {Bytes: src}}, diags, terminalWidth(errw), useColor(errw))
				failed = true
				continue
			}
			if bytes.Equal(src, formatted) {
				continue
			}
			unformatted = true
			fmt.Fprintln(out, name)
			if diff {
				fmt.Fprint(out, schema.UnifiedDiff("a/"+filepath.ToSlash(name), "b/"+filepath.ToSlash(name), src, formatted))
			}
			if !check {
				st, err := os.Stat(name)
				if err != nil {
					return err
				}
				if err := os.WriteFile(name, formatted, st.Mode().Perm()); err != nil {
					return err
				}
			}
		}
		if failed || (check && unformatted) {
			return exitCodeError{exitError}
		}
		return nil
	}
	return cmd
}

// fmtTargets expands the arguments of fmt into file names.
func fmtTargets(args []string) ([]string, error) {
	if len(args) == 0 {
		args = []string{"."}
	}
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(a, "*.hcl"))
		if err != nil {
			return nil, err
		}
		sort.Strings(matches)
		if len(matches) == 0 && len(args) == 1 {
			return nil, fmt.Errorf("no *.hcl files in %s", a)
		}
		files = append(files, matches...)
	}
	return files, nil
}
