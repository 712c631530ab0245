package host_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/providers/host/sshdtest"
	"github.com/hactl/hactl/schema"
)

// frozenLink is a real sshd reached through a proxy the test can freeze, as
// a cut network link: the connection stays open, nothing answers.
type frozenLink struct {
	proxy  *sshdtest.Proxy
	server *schema.Server
}

func newFrozenLink(t *testing.T, connectTimeout, commandTimeout time.Duration) *frozenLink {
	t.Helper()
	d := sshdtest.Start(t)
	p := sshdtest.NewProxy(t, d.Addr())
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(p.Addr())}, d.HostKey)
	if err := os.WriteFile(kh, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := sshServer(d, "server1")
	s.SSH.Port, s.SSH.KnownHostsFile = p.Port, kh
	s.SSH.ConnectTimeout, s.SSH.CommandTimeout = connectTimeout, commandTimeout
	return &frozenLink{proxy: p, server: s}
}

// within runs f and fails the test unless it returns within limit; it
// returns f's error and how long it took.
func within(t *testing.T, what string, limit time.Duration, f func() error) (error, time.Duration) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err, time.Since(start)
	case <-time.After(limit):
		t.Fatalf("%s still blocked after %s", what, limit)
		return nil, 0
	}
}

// A connection whose peer went silent is found dead by keepalives and
// closed: the command blocked on it returns, long before its own timeout,
// saying since when the server is unreachable. A later operation
// reconnects (bounded by the connect timeout) and, once the link is back,
// works.
func TestKeepaliveFindsADeadLink(t *testing.T) {
	l := newFrozenLink(t, 3*time.Second, 10*time.Minute)
	p := host.NewPool(host.Options{KeepaliveInterval: 2 * time.Second})
	defer p.Close()
	h := p.Host(l.server)
	ctx := context.Background()
	if _, err := h.Run(ctx, "true", nil); err != nil {
		t.Fatal(err)
	}
	running := make(chan error, 1)
	go func() { _, err := h.Run(ctx, "sleep 600", nil); running <- err }()
	time.Sleep(500 * time.Millisecond) // let the command start; not needed for the assertion
	l.proxy.Freeze()
	cut := time.Now()
	var err error
	select {
	case err = <-running:
	case <-time.After(90 * time.Second):
		t.Fatal("a command on a dead link still blocked after 90s (keepalives every 2s)")
	}
	t.Logf("dead link noticed after %s: %v", time.Since(cut).Round(time.Millisecond), err)
	if !errors.Is(err, host.ErrUnreachable) || !strings.Contains(err.Error(), "server server1 unreachable since ") {
		t.Fatalf("error does not say the server is unreachable: %v", err)
	}

	// Still cut: the next operation tries to reconnect once, within the
	// connect timeout, and says so.
	err, took := within(t, "reconnecting over a cut link", 60*time.Second, func() error {
		_, err := h.Run(ctx, "true", nil)
		return err
	})
	t.Logf("reconnect over a cut link failed after %s: %v", took.Round(time.Millisecond), err)
	if err == nil || !strings.Contains(err.Error(), "unreachable since") || !strings.Contains(err.Error(), "reconnecting failed") {
		t.Fatalf("reconnecting over a cut link: %v", err)
	}

	l.proxy.Thaw()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := h.Run(ctx, "echo back", nil)
		if err == nil && strings.TrimSpace(string(out)) == "back" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reconnection after the link came back: %v", err)
		}
		time.Sleep(time.Second)
	}
}

// Every operation on a silent connection returns when its context ends or
// its timeout passes, even before the keepalives find the connection dead
// (they are slowed down here so they do not).
func TestOperationsOnAFrozenLinkHonourTheContext(t *testing.T) {
	l := newFrozenLink(t, 3*time.Second, 4*time.Second)
	p := host.NewPool(host.Options{KeepaliveInterval: time.Hour})
	defer p.Close()
	h := p.Host(l.server)
	if _, err := h.Run(context.Background(), "true", nil); err != nil {
		t.Fatal(err)
	}
	l.proxy.Freeze()

	const bound = 30 * time.Second // far above the 1s cancel and 4s timeout; a hang is minutes
	cancelled := func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel)
		return ctx, cancel
	}
	ops := []struct {
		name string
		f    func(ctx context.Context) error
	}{
		{"Run", func(ctx context.Context) error { _, err := h.Run(ctx, "true", nil); return err }},
		{"WriteFile", func(ctx context.Context) error {
			return host.WriteFile(ctx, h, "/tmp/hactl-frozen-"+t.Name(), []byte(strings.Repeat("x", 1<<20)), 0o600)
		}},
		{"Stream", func(ctx context.Context) error { return h.Stream(ctx, "echo hi", io.Discard) }},
		{"DialContext", func(ctx context.Context) error {
			c, err := h.DialContext(ctx, "tcp", "127.0.0.1:22")
			if err == nil {
				c.Close()
			}
			return err
		}},
	}
	for _, op := range ops {
		t.Run(op.name+"/cancelled", func(t *testing.T) {
			ctx, cancel := cancelled()
			defer cancel()
			err, took := within(t, op.name, bound, func() error { return op.f(ctx) })
			t.Logf("%s returned after %s: %v", op.name, took.Round(time.Millisecond), err)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s on a frozen link, cancelled: %v", op.name, err)
			}
		})
	}
	// The command timeout (4s) bounds Run and WriteFile with no context
	// deadline; the connect timeout (3s) bounds a tunnelled dial.
	for _, op := range ops {
		if op.name == "Stream" {
			continue // no command timeout once started; its start is covered above
		}
		t.Run(op.name+"/timeout", func(t *testing.T) {
			err, took := within(t, op.name, bound, func() error { return op.f(context.Background()) })
			t.Logf("%s returned after %s: %v", op.name, took.Round(time.Millisecond), err)
			if err == nil || !(errors.Is(err, host.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)) {
				t.Fatalf("%s on a frozen link: %v", op.name, err)
			}
			if !strings.Contains(err.Error(), "server1") {
				t.Errorf("the error does not name the server: %v", err)
			}
		})
	}
}

// A transfer on a command's stdin (as WriteFile sends a file) under way
// when the link goes silent returns when its context ends.
func TestTransferCutMidway(t *testing.T) {
	l := newFrozenLink(t, 3*time.Second, 10*time.Minute)
	p := host.NewPool(host.Options{KeepaliveInterval: time.Hour})
	defer p.Close()
	h := p.Host(l.server)
	if _, err := h.Run(context.Background(), "true", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Endless data; the link freezes once 8 MB went, the cancel comes a
	// second later.
	src := &endless{after: 8 << 20, then: func() {
		l.proxy.Freeze()
		time.AfterFunc(time.Second, cancel)
	}}
	err, took := within(t, "a transfer", 60*time.Second, func() error {
		_, err := h.Run(ctx, "cat >/dev/null", src)
		return err
	})
	t.Logf("transfer returned after %s: %v", took.Round(time.Millisecond), err)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a transfer cut midway: %v", err)
	}
}

// endless reads zeros for ever, calling then once after the first after bytes.
type endless struct {
	n, after int
	then     func()
	once     sync.Once
}

func (e *endless) Read(b []byte) (int, error) {
	clear(b)
	e.n += len(b)
	if e.n >= e.after {
		e.once.Do(e.then)
	}
	return len(b), nil
}
