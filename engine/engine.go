package engine

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/lock"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/compose"
	"github.com/hactl/hactl/providers/ssh"
	"github.com/hactl/hactl/schema"
)

// DefaultProvider is the provider used when none is named.
const DefaultProvider = "ssh"

// Options open a Session.
type Options struct {
	// Provider names how to reach the cluster: "ssh" (servers over SSH and
	// transport "local") or "compose". Empty means DefaultProvider.
	Provider string
	// Concurrency bounds the servers and components worked on at once.
	// 0 means defaults.Concurrency.
	Concurrency int
	// Out receives the provider's own progress and debug lines (never
	// secrets); nil discards them.
	Out io.Writer
}

// Factory opens a provider for a cluster. It returns the cluster that plan,
// apply, health gates and status must work on: the same one, or an adapted
// copy (compose gives every component its own service); the caller's
// cluster is never changed.
type Factory func(c *schema.Cluster, o Options) (providers.Provider, *schema.Cluster, error)

var (
	factoriesMu sync.Mutex
	factories   = map[string]Factory{
		"ssh": func(c *schema.Cluster, o Options) (providers.Provider, *schema.Cluster, error) {
			p, err := ssh.New(c, ssh.Options{Concurrency: o.Concurrency, Out: o.Out})
			return p, c, err
		},
		"compose": func(c *schema.Cluster, o Options) (providers.Provider, *schema.Cluster, error) {
			p, err := compose.New(c, compose.Options{Out: o.Out})
			if err != nil {
				return nil, nil, err
			}
			return p, p.Cluster(), nil
		},
	}
)

// Register adds (or, with f nil, removes) a provider by name, e.g. a test's
// fake.
func Register(name string, f Factory) {
	factoriesMu.Lock()
	defer factoriesMu.Unlock()
	if f == nil {
		delete(factories, name)
		return
	}
	factories[name] = f
}

// ProviderNames lists the providers Open accepts, sorted.
func ProviderNames() []string {
	factoriesMu.Lock()
	defer factoriesMu.Unlock()
	return slices.Sorted(maps.Keys(factories))
}

// Session is one cluster reached through one provider.
type Session struct {
	// Cluster is what every step works on (for compose: the adapted copy).
	Cluster  *schema.Cluster
	Provider providers.Provider
	// GateTimeouts are the apply's gate timeouts by level; Plan uses them
	// for the window in which a component that does not serve yet is
	// starting rather than unhealthy (a component's own start timeout wins).
	// Zero values are the defaults.
	GateTimeouts apply.Timeouts
	// OnBrokenLock, when set, hears of a lock of a run that is certainly
	// gone that Drill broke to take it.
	OnBrokenLock func(*lock.Info)
	opts         Options
}

// Open opens the provider o names for c. It does not connect yet: the
// first step that needs a host does.
func Open(c *schema.Cluster, o Options) (*Session, error) {
	if o.Provider == "" {
		o.Provider = DefaultProvider
	}
	if o.Concurrency == 0 {
		o.Concurrency = defaults.Concurrency
	}
	if o.Concurrency < 1 {
		return nil, fmt.Errorf("concurrency must be at least 1, not %d", o.Concurrency)
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	factoriesMu.Lock()
	mk, ok := factories[o.Provider]
	factoriesMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("unknown provider %q (available: %s)", o.Provider, strings.Join(ProviderNames(), ", "))
	}
	p, used, err := mk(c, o)
	if err != nil {
		return nil, err
	}
	return &Session{Cluster: used, Provider: p, opts: o}, nil
}

// Concurrency is the session's bound on parallel work.
func (s *Session) Concurrency() int { return s.opts.Concurrency }

// Close releases the provider's connections.
func (s *Session) Close() error { return s.Provider.Close() }

// Teardown removes what the provider owns beyond the components (compose:
// the database service and the network; with purge, the database volume).
// Providers without such resources do nothing.
func (s *Session) Teardown(ctx context.Context, purge bool) error {
	t, ok := s.Provider.(providers.Teardowner)
	if !ok {
		return nil
	}
	if err := t.Teardown(ctx, purge); err != nil {
		return fmt.Errorf("removing the provider's own resources: %w", err)
	}
	return nil
}

// Warm starts connecting to every server in the background when the
// provider can (providers.Warmer): for commands that will reach them all.
func (s *Session) Warm(ctx context.Context) {
	if w, ok := s.Provider.(providers.Warmer); ok {
		w.Warm(ctx)
	}
}
