package host

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/schema"
)

// Host is one machine as hactl reaches it. Implementations are safe for
// concurrent use; the SSH one connects on first use and keeps that one
// connection (re-dialing once if it was lost).
type Host interface {
	// Name is the server's name in the cluster file.
	Name() string
	// Connect makes sure the host is reachable (dialing it if needed).
	Connect(ctx context.Context) error
	// Run runs script with /bin/sh on the host (through `sudo -n` when the
	// server says so), feeding it stdin, and returns its standard output.
	// A non-zero exit is an *ExitError. The server's command timeout applies.
	Run(ctx context.Context, script string, stdin io.Reader) ([]byte, error)
	// Stream runs script like Run but with no command timeout, writing its
	// standard output to stdout as it comes, until the script exits or ctx
	// ends; then the script is stopped and the error wraps ctx.Err(). A
	// script that runs a long-lived program should exec it, so that
	// stopping the script stops the program on every transport.
	Stream(ctx context.Context, script string, stdout io.Writer) error
	// DialContext opens a connection to addr as seen from the host.
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	// Close releases the connection; a later call reconnects.
	Close() error
}

// ExitError is a script that ran and exited with a non-zero status.
type ExitError struct {
	Host   string
	Status int // -1 when killed by a signal
	Stderr string
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = "(no error output)"
	}
	return fmt.Sprintf("%s: command failed with status %d: %s", e.Host, e.Status, lastLines(msg, 10))
}

// ErrTimeout is wrapped by errors of commands that ran out of time.
var ErrTimeout = errors.New("command timed out")

// Options are shared by every host of a Pool.
type Options struct {
	// Log receives one line per connection made, host key learned, etc.
	// Never secrets. nil = discard.
	Log io.Writer
	// KeepaliveInterval is the time between SSH keepalives; a connection
	// that leaves 3 in a row unanswered is closed as dead. 0 = a third of
	// the server's connect timeout (between 2s and 15s).
	KeepaliveInterval time.Duration
	// Handshakes bounds how many SSH connections are being set up at once
	// (TCP connect, key exchange, authentication: the CPU-heavy part of a
	// connection), whatever the callers' own concurrency. 0 means
	// defaults.Handshakes.
	Handshakes int
}

// Pool hands out one Host per server and shares jump-host connections.
type Pool struct {
	opts       Options
	handshakes chan struct{}
	mu         sync.Mutex
	hosts      map[string]Host
	jumps      map[string]*sshConn
}

// NewPool returns an empty pool.
func NewPool(opts Options) *Pool {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Handshakes <= 0 {
		opts.Handshakes = defaults.Handshakes
	}
	return &Pool{opts: opts, handshakes: make(chan struct{}, opts.Handshakes), hosts: map[string]Host{}, jumps: map[string]*sshConn{}}
}

// Host returns the cached Host for the server, creating it (without
// connecting) on first use.
func (p *Pool) Host(s *schema.Server) Host {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h, ok := p.hosts[s.Name]; ok {
		return h
	}
	var h Host
	if s.Transport == schema.TransportLocal {
		h = &localHost{name: s.Name, sudo: s.SSH.Sudo, timeout: orDefault(s.SSH.CommandTimeout, defaults.CommandTimeout)}
	} else {
		h = newSSHHost(p, s)
	}
	p.hosts[s.Name] = h
	return h
}

func (p *Pool) keepaliveInterval(connectTimeout time.Duration) time.Duration {
	if p.opts.KeepaliveInterval > 0 {
		return p.opts.KeepaliveInterval
	}
	return keepaliveInterval(orDefault(connectTimeout, defaults.ConnectTimeout))
}

// Close closes every connection of the pool.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, h := range p.hosts {
		errs = append(errs, h.Close())
	}
	for _, j := range p.jumps {
		errs = append(errs, j.close())
	}
	p.hosts = map[string]Host{}
	p.jumps = map[string]*sshConn{}
	return errors.Join(errs...)
}

// WriteFile writes data to path on h through the command's stdin (never its
// command line), atomically (temporary file, chmod, rename), with the given
// mode. The directory must exist.
func WriteFile(ctx context.Context, h Host, path string, data []byte, mode os.FileMode) error {
	tmp := path + ".hactl-tmp"
	script := fmt.Sprintf("umask 077; cat > %s && chmod %04o %s && mv -f %s %s || { rm -f %s; exit 1; }",
		Quote(tmp), mode.Perm(), Quote(tmp), Quote(tmp), Quote(path), Quote(tmp))
	_, err := h.Run(ctx, script, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// FileScript returns shell lines that write content to path with mode,
// atomically, for a script fed on stdin (`sh -s`): the content travels
// base64-encoded inside the script, never on a command line.
func FileScript(path string, content []byte, mode os.FileMode) string {
	tmp := Quote(path + ".hactl-tmp")
	enc := base64.StdEncoding.EncodeToString(content)
	var b strings.Builder
	b.WriteString("(umask 077 && base64 -d > " + tmp + " <<'HACTL_BASE64_END'\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	if enc != "" {
		b.WriteString(enc + "\n")
	}
	fmt.Fprintf(&b, "HACTL_BASE64_END\n) && chmod %04o %s && mv -f %s %s || { rm -f %s; echo 'writing %s failed' >&2; exit 1; }\n",
		mode.Perm(), tmp, tmp, Quote(path), tmp, strings.ReplaceAll(path, "'", ""))
	return b.String()
}

// RunStdinScript runs a script fed on stdin to `sh -s`, so what it holds
// (file contents, secrets) never shows on a command line.
func RunStdinScript(ctx context.Context, h Host, script string) ([]byte, error) {
	return h.Run(ctx, "exec sh -s", strings.NewReader(script))
}

func shellCommand(script string, sudo bool) []string {
	if sudo {
		return []string{"sudo", "-n", "sh", "-c", script}
	}
	return []string{"sh", "-c", script}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
