package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/engine"
	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/schema"
)

// providerFlags are the flags of every command that reaches the cluster.
type providerFlags struct {
	kind        string
	concurrency int
	// ctrlCEnds: Ctrl-C is how the command normally ends (logs -f), so it
	// says nothing about stopping.
	ctrlCEnds bool
	// beforeExit, when set, runs before a second Ctrl-C exits (the drill
	// says what it leaves down).
	beforeExit func()
}

func addProviderFlags(cmd *cobra.Command) *providerFlags {
	f := &providerFlags{}
	def := os.Getenv("HACTL_PROVIDER")
	if def == "" {
		def = engine.DefaultProvider
	}
	cmd.Flags().StringVar(&f.kind, "provider", def, "how to reach the cluster: ssh (servers over SSH, and transport \"local\") or compose; default from $HACTL_PROVIDER")
	cmd.Flags().IntVar(&f.concurrency, "concurrency", defaults.Concurrency, "how many servers and components are worked on at once")
	return f
}

// connect opens an engine session for c, with a context that ends on Ctrl-C
// or SIGTERM; done closes the session and stops listening for those
// signals. The provider's own progress lines (connections, processes
// started, registry created) are dropped, or go to stderr when HACTL_VERBOSE
// is set.
//
// The first signal says hactl is stopping and cancels the context: the step
// in flight finishes or is abandoned within seconds (every remote operation
// honours the context). A second one exits at once with status 130.
func (f *providerFlags) connect(c *schema.Cluster) (ctx context.Context, s *engine.Session, done func(), err error) {
	var out io.Writer = io.Discard
	if os.Getenv("HACTL_VERBOSE") != "" {
		out = os.Stderr
	}
	s, err = engine.Open(c, engine.Options{Provider: f.kind, Concurrency: f.concurrency, Out: out})
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	var say io.Writer = os.Stderr
	if f.ctrlCEnds {
		say = io.Discard
	}
	stop := onSignals(say, cancel, func() {
		if f.beforeExit != nil {
			f.beforeExit()
		}
		os.Exit(130)
	})
	return ctx, s, func() { stop(); _ = s.Close(); cancel(nil) }, nil
}

// errInterrupted is the cause of a context cancelled by Ctrl-C or SIGTERM.
var errInterrupted = errors.New("interrupted")

// onSignals calls cancel on the first SIGINT or SIGTERM and exit on the
// second, saying so on w each time; stop stops listening.
func onSignals(w io.Writer, cancel context.CancelCauseFunc, exit func()) (stop func()) {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-sig:
		case <-quit:
			return
		}
		fmt.Fprintln(w, "\nhactl: interrupted, stopping: the step in progress finishes or is abandoned within a few seconds (Ctrl-C again to exit at once)")
		cancel(errInterrupted)
		select {
		case <-sig:
		case <-quit:
			return
		}
		fmt.Fprintln(w, "hactl: interrupted again, exiting now. What was in progress may be left half-done "+
			"(a file written but not in use, a process started but not checked, registry rows not yet marked): "+
			"run the same command again; the next apply (or destroy) repairs it")
		exit()
	}()
	return func() {
		signal.Stop(sig)
		close(quit)
		<-finished
	}
}
