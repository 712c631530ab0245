package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/schema"
)

// clusterFlags are the flags of every command that reads a cluster file:
// -f/--file, --var NAME=VALUE (repeatable), --var-file FILE (repeatable).
type clusterFlags struct {
	file     string
	vars     []string
	varFiles []string
}

// addClusterFlags registers the cluster-file flags on cmd.
func addClusterFlags(cmd *cobra.Command) *clusterFlags {
	f := &clusterFlags{}
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", "cluster.hcl", "cluster file")
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
	c, diags, files := schema.LoadDiagnostics(f.file, f.options())
	if diags.HasErrors() {
		return nil, &schema.DiagnosticsError{Diagnostics: diags, Files: files}
	}
	if len(diags) > 0 {
		_ = schema.WriteDiagnostics(os.Stderr, files, diags, terminalWidth(os.Stderr), useColor(os.Stderr))
	}
	return c, nil
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

func useColor(f *os.File) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(f)
}

func terminalWidth(f *os.File) uint {
	if !useColor(f) {
		return 0
	}
	return 100
}
