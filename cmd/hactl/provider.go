package main

import (
	"context"
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
func (f *providerFlags) connect(c *schema.Cluster) (ctx context.Context, s *engine.Session, done func(), err error) {
	var out io.Writer = io.Discard
	if os.Getenv("HACTL_VERBOSE") != "" {
		out = os.Stderr
	}
	s, err = engine.Open(c, engine.Options{Provider: f.kind, Concurrency: f.concurrency, Out: out})
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return ctx, s, func() { _ = s.Close(); stop() }, nil
}
