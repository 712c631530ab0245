package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/schema"
)

// Options tune a Provider.
type Options struct {
	// Concurrency bounds how many hosts are worked on at once (Observe,
	// Preflight). 0 means 8.
	Concurrency int
	// Out receives progress and debug lines (connections made, host keys
	// added). Never secrets. nil = discard.
	Out io.Writer
	// StopTimeout is how long a process gets to exit after SIGTERM before
	// SIGKILL. 0 means 15s.
	StopTimeout time.Duration
	// NoSystemd keeps to the supervised-process path even on hosts that run
	// systemd.
	NoSystemd bool
}

// Provider reaches the servers of one cluster over SSH or locally. Safe for
// concurrent use; it keeps one connection per server until Close.
type Provider struct {
	cluster *schema.Cluster
	opts    Options
	pool    *host.Pool

	mu      sync.Mutex
	systemd map[string]bool           // server name → host runs systemd (probed once)
	extra   map[string]*schema.Server // servers of the cluster record the file no longer names
	records map[string]string         // machine and deploy dir → the cluster record there, as last read or written (recordKey)
	help    map[string]workerHelp     // worker --help results (see paramProblems)
	kept    []providers.KeptData      // data Remove kept since the last Kept
}

var (
	_ providers.Provider    = (*Provider)(nil)
	_ providers.LogFollower = (*Provider)(nil)
	_ providers.Locker      = (*Provider)(nil)
	_ providers.DataKeeper  = (*Provider)(nil)
)

// Kept implements providers.DataKeeper.
func (p *Provider) Kept() []providers.KeptData {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := p.kept
	p.kept = nil
	return k
}

// New returns a Provider for the cluster's servers. It connects lazily: the
// first operation on a server dials it.
func New(c *schema.Cluster, opts Options) (*Provider, error) {
	if c == nil {
		return nil, errors.New("ssh provider: nil cluster")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = defaults.Concurrency
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 15 * time.Second
	}
	for _, s := range c.Servers {
		if s.Transport != schema.TransportSSH && s.Transport != schema.TransportLocal {
			return nil, fmt.Errorf("ssh provider: server %s has transport %q (want %q or %q)", s.Name, s.Transport, schema.TransportSSH, schema.TransportLocal)
		}
		if !strings.HasPrefix(s.DeployDir, "/") {
			return nil, fmt.Errorf("ssh provider: server %s: deploy_dir %q is not an absolute path", s.Name, s.DeployDir)
		}
	}
	return &Provider{
		cluster: c,
		opts:    opts,
		pool:    host.NewPool(host.Options{Log: opts.Out}),
		systemd: map[string]bool{},
		extra:   map[string]*schema.Server{},
		records: map[string]string{},
		help:    map[string]workerHelp{},
	}, nil
}

// Close releases every connection.
func (p *Provider) Close() error { return p.pool.Close() }

// DialContext opens a connection to addr as seen from server: a direct-tcpip
// channel of its SSH connection, or a plain dial for the local transport.
func (p *Provider) DialContext(ctx context.Context, server *schema.Server, network, addr string) (net.Conn, error) {
	if server == nil {
		return nil, errors.New("DialContext: nil server")
	}
	return p.host(server).DialContext(ctx, network, addr)
}

func (p *Provider) host(s *schema.Server) host.Host { return p.pool.Host(s) }

// server finds a server of the provider's cluster by name.
func (p *Provider) server(name string) (*schema.Server, error) {
	if s := p.cluster.ServerByName(name); s != nil {
		return s, nil
	}
	p.mu.Lock()
	s := p.extra[name]
	p.mu.Unlock()
	if s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("server %q is not in the cluster file any more: hactl cannot reach it to act on its components", name)
}

// eachServer runs fn for every server in parallel, at most Concurrency at a
// time, and collects every error.
func (p *Provider) eachServer(ctx context.Context, servers []*schema.Server, fn func(ctx context.Context, s *schema.Server) error) map[string]error {
	var mu sync.Mutex
	errs := map[string]error{}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Concurrency)
	for _, s := range servers {
		g.Go(func() error {
			if err := fn(ctx, s); err != nil {
				mu.Lock()
				errs[s.Name] = err
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	return errs
}

// joinServerErrors orders errors by server name for stable messages.
func joinServerErrors(errs map[string]error) error {
	if len(errs) == 0 {
		return nil
	}
	names := make([]string, 0, len(errs))
	for n := range errs {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []error
	for _, n := range names {
		out = append(out, errs[n])
	}
	return errors.Join(out...)
}

var _ providers.Warmer = (*Provider)(nil)

// Warm implements providers.Warmer: every server's connection is opened in
// the background (at most Handshakes at a time, see host.Options), so that
// a command's first step on one server (the lock, say) does not hold up
// the handshakes of the others. It then runs an empty command there: a
// connection's first session costs far more than the next ones (on the
// test hosts, Debian's sshd with PAM, 60 ms against 6 ms), and is better
// paid at once, beside the other servers', than by the command's first
// real step there.
func (p *Provider) Warm(ctx context.Context) {
	for _, s := range p.cluster.Servers {
		go func() {
			h := p.host(s)
			if h.Connect(ctx) == nil {
				_, _ = h.Run(ctx, "exit 0", nil)
			}
		}()
	}
}
