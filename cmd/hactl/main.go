// Command hactl deploys and runs high-availability DB-GPT model-serving
// clusters from one declarative HCL file.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/internal/version"
	"github.com/hactl/hactl/schema"
)

// Exit codes, documented in `hactl --help`.
const (
	exitOK       = 0
	exitError    = 1
	exitChanges  = 2 // plan -detailed-exitcode: the plan has changes
	exitDegraded = 2 // status --check: the cluster is degraded; drill: not HA
)

// exitCodeError carries a specific exit code out of a command without printing
// anything more (the command has already said what went wrong).
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// newRootCmd builds the whole command tree afresh, so no flag value outlives
// one run (tests run several in one process). stdout and stderr are set
// before cobra's completion command is added: it keeps the output it finds
// then (nil means os.Stdout and os.Stderr).
func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "hactl",
		Short: "Deploy and run high-availability DB-GPT model-serving clusters from one HCL file",
		Long: `hactl deploys and runs high-availability DB-GPT model-serving clusters
(controllers sharing a registry database, model workers, webserver, API server)
from one declarative cluster file, over SSH or as a docker compose project.
The documentation is built in: 'hactl docs' lists it, 'hactl docs cluster-file'
is the reference of the cluster file.

Exit codes:
  0  success (plan -detailed-exitcode: no changes)
  1  error: invalid cluster file, failed pre-flight, failed apply, ...
  2  plan -detailed-exitcode: the plan has changes;
     status --check: the cluster is degraded;
     drill: a step found the cluster is not highly available
  130  a second Ctrl-C: hactl exited at once, leaving the step in progress
     half-done (the first Ctrl-C stops within seconds); run the command again`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newValidateCmd(), newFmtCmd(), newInitCmd(),
		newPlanCmd(), newApplyCmd(), newDestroyCmd(), newForceUnlockCmd(), newDrillCmd(),
		newStatusCmd(), newLogsCmd(), newExportCmd(),
		newVersionCmd(), newDocsCmd(),
	)
	// Cobra would add --version and the completion command only when the
	// tree executes; adding them here puts them in every walk of the tree
	// (TestTerraformStyleFlagsComplete) and lets them be documented.
	root.Version = version.Version
	root.SetVersionTemplate(versionText())
	root.InitDefaultVersionFlag()
	root.Flags().Lookup("version").Usage = "print what 'hactl version' prints"
	root.InitDefaultCompletionCmd()
	documentCompletion(root)
	return root
}

func main() {
	// hactl holds one SSH connection per server and waits on many at once:
	// a soft memory limit makes the collector run before the heap doubles
	// (GOGC's default), which keeps a run over 100 servers near 40 MB of
	// RSS. GOMEMLIMIT, when set, wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// memoryLimit is hactl's soft memory limit (see main).
const memoryLimit = 24 << 20

// run executes one hactl command line (without the program name) and
// returns its exit code.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(normalizeArgs(args))
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ec exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	printError(stderr, err)
	return exitError
}

// printError writes err with one "Error:" before it. An invalid cluster
// file's diagnostics carry their own "Error:" (and "Warning:") headings, so
// they are printed as they are, in colour on a terminal.
func printError(stderr io.Writer, err error) {
	var de *schema.DiagnosticsError
	if errors.As(err, &de) {
		width, color := uint(0), false
		if f, ok := stderr.(*os.File); ok {
			width, color = terminalWidth(f), useColor(f)
		}
		_ = schema.WriteDiagnostics(stderr, de.Files, de.Diagnostics, width, color)
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "Error:") {
		msg = "Error: " + msg
	}
	fmt.Fprintln(stderr, msg)
}
