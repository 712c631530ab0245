package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/schema"
)

// defaultClusterFile is the cluster file read without -f.
const defaultClusterFile = "cluster.hcl"

// clusterFlags are the flags of every command that reads a cluster file:
// -f/--file, --var NAME=VALUE (repeatable), --var-file FILE (repeatable).
type clusterFlags struct {
	file     string
	vars     []string
	varFiles []string
	cmd      *cobra.Command
}

// addClusterFlags registers the cluster-file flags on cmd.
func addClusterFlags(cmd *cobra.Command) *clusterFlags {
	f := &clusterFlags{cmd: cmd}
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", defaultClusterFile, "cluster file")
	fl.StringArrayVar(&f.vars, "var", nil, "set a variable: NAME=VALUE (repeatable; later wins)")
	fl.StringArrayVar(&f.varFiles, "var-file", nil, "read variables from an HCL file of NAME = VALUE lines (repeatable; later wins)")
	return f
}

// options returns the schema.LoadOptions the flags and environment give.
func (f *clusterFlags) options() schema.LoadOptions {
	return schema.LoadOptions{Vars: f.vars, VarFiles: f.varFiles, Environ: os.Environ()}
}

// load reads, decodes and validates the cluster file. Warnings are printed to
// stderr; an invalid file gives a *schema.DiagnosticsError whose message
// shows every diagnostic with file:line:column and a snippet.
func (f *clusterFlags) load() (*schema.Cluster, error) {
	if err := f.checkExists(); err != nil {
		return nil, err
	}
	c, diags, files := schema.LoadDiagnostics(f.file, f.options())
	if diags.HasErrors() {
		return nil, &schema.DiagnosticsError{Diagnostics: diags, Files: files}
	}
	if len(diags) > 0 {
		w := f.stderr()
		_ = schema.WriteDiagnostics(w, files, diags, terminalWidth(w), useColor(w))
	}
	return c, nil
}

// stderr is where the command's warnings go.
func (f *clusterFlags) stderr() io.Writer {
	if f.cmd != nil {
		return f.cmd.ErrOrStderr()
	}
	return os.Stderr
}

// checkExists says plainly when the cluster file is not there, and how to
// get one, instead of the decoder's "cannot read" diagnostic.
func (f *clusterFlags) checkExists() error {
	_, err := os.Stat(f.file)
	if !errors.Is(err, fs.ErrNotExist) {
		return nil // other errors are the decoder's to report
	}
	switch {
	case f.cmd != nil && f.cmd.Flags().Changed("file"):
		return fmt.Errorf("cluster file %s not found. Check the path, or write a starter file there with 'hactl init -o %s'", f.file, f.file)
	case f.file == defaultClusterFile:
		return fmt.Errorf("no %s in this directory. Write a starter cluster file with 'hactl init' (or 'hactl init --single' for one machine), or name another file with -f FILE", f.file)
	}
	return fmt.Errorf("cluster file %s not found", f.file) // named by a saved plan
}

// terraformStyleFlags are the long flags users may type with one dash, as in
// Terraform (-var, -var-file, -json, ...). pflag would read "-var" as the
// shorthands -v -a -r, so these arguments are rewritten to "--var" before
// cobra parses them. A command adding a long flag adds its name here;
// TestTerraformStyleFlagsComplete checks that none is missing.
var terraformStyleFlags = []string{
	"var", "var-file", "json", "check", "diff", "out", "output", "detailed-exitcode",
	"auto-approve", "no-color", "parallelism", "concurrency", "file", "single", "force", "provider",
	"lines", "follow", "purge-registry", "timeout", "timeout-controllers", "timeout-workers", "timeout-webserver",
	"version", "no-descriptions", "target", "mode", "duration", "dry-run",
}

// normalizeArgs rewrites the one-dash spellings of terraformStyleFlags in
// args (the command line without the program name) to two dashes.
func normalizeArgs(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i := 0; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--") {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		for _, n := range terraformStyleFlags {
			if name == n {
				out[i] = "-" + a
				break
			}
		}
	}
	return out
}

// useColor: colour only on a terminal and without NO_COLOR. A writer that
// is not a file (a test's buffer) gets none.
func useColor(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

func terminalWidth(f io.Writer) uint {
	if !useColor(f) {
		return 0
	}
	return 100
}
