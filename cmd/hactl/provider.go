package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/ssh"
	"github.com/hactl/hactl/schema"
)

// ProviderOptions are what every provider is opened with.
type ProviderOptions struct {
	Concurrency int
	Out         io.Writer // progress and debug lines, never secrets
}

// providerFactories are the ways to reach a cluster, by --provider name. A
// provider package registers itself here from its own file in this package
// (e.g. provider_compose.go: func init() { registerProvider("compose", ...) }).
var providerFactories = map[string]providerFactory{
	// ssh covers both transports of the file: "ssh" and "local".
	"ssh": func(c *schema.Cluster, o ProviderOptions) (providers.Provider, *schema.Cluster, error) {
		p, err := ssh.New(c, ssh.Options{Concurrency: o.Concurrency, Out: o.Out})
		return p, c, err
	},
}

// providerFactory opens a provider for c and returns it with the cluster
// every later step must use: c itself, or the provider's adaptation of it
// (compose); c is left unchanged.
type providerFactory func(c *schema.Cluster, o ProviderOptions) (providers.Provider, *schema.Cluster, error)

func registerProvider(name string, f providerFactory) {
	providerFactories[name] = f
}

// providerFlags are the flags of every command that reaches the cluster.
type providerFlags struct {
	kind        string
	concurrency int
}

func addProviderFlags(cmd *cobra.Command) *providerFlags {
	f := &providerFlags{}
	def := os.Getenv("HACTL_PROVIDER")
	if def == "" {
		def = "ssh"
	}
	cmd.Flags().StringVar(&f.kind, "provider", def, "how to reach the cluster: ssh (servers over SSH, and transport \"local\") or compose; default from $HACTL_PROVIDER")
	cmd.Flags().IntVar(&f.concurrency, "concurrency", 8, "how many servers and components are worked on at once")
	return f
}

// connect opens the chosen provider for c, with a context that ends on
// Ctrl-C or SIGTERM; done closes the provider and stops listening for those
// signals. The provider's own progress lines (connections, processes
// started, registry created) are dropped, or go to stderr when HACTL_VERBOSE
// is set. Every later step must use the cluster it returns (see
// providerFactory).
func (f *providerFlags) connect(c *schema.Cluster) (ctx context.Context, prov providers.Provider, cluster *schema.Cluster, done func(), err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	prov, cluster, err = f.open(c)
	if err != nil {
		stop()
		return nil, nil, nil, nil, err
	}
	return ctx, prov, cluster, func() { _ = prov.Close(); stop() }, nil
}

func (f *providerFlags) open(c *schema.Cluster) (providers.Provider, *schema.Cluster, error) {
	var out io.Writer = io.Discard
	if os.Getenv("HACTL_VERBOSE") != "" {
		out = os.Stderr
	}
	mk, ok := providerFactories[f.kind]
	if !ok {
		var names []string
		for n := range providerFactories {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, nil, fmt.Errorf("unknown provider %q (available: %s)", f.kind, strings.Join(names, ", "))
	}
	if f.concurrency < 1 {
		return nil, nil, fmt.Errorf("--concurrency must be at least 1, not %d", f.concurrency)
	}
	return mk(c, ProviderOptions{Concurrency: f.concurrency, Out: out})
}
