package host_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/providers/host/sshdtest"
	"github.com/hactl/hactl/schema"
)

// syncBuffer is written by Stream's goroutine and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 30s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// running reports whether a process whose command line contains s exists
// (over the loopback sshd, the "remote" processes are on this machine).
func running(s string) bool {
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err == nil && strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}

// Stream passes output on as it comes, is not cut by the command timeout,
// and stops the remote program when its context ends.
func TestStreamFollowsUntilCancelled(t *testing.T) {
	const timeout = time.Second
	servers := map[string]*schema.Server{"local": localServer("here")}
	servers["local"].SSH.CommandTimeout = timeout
	if os.Getenv("HACTL_E2E") != "skip" {
		s := sshServer(sshdtest.Start(t), "server1")
		s.SSH.CommandTimeout = timeout
		servers["ssh"] = s
	}
	for name, srv := range servers {
		t.Run(name, func(t *testing.T) {
			p := host.NewPool(host.Options{})
			defer p.Close()
			h := p.Host(srv)
			log := filepath.Join(t.TempDir(), "followed.log")
			if err := os.WriteFile(log, []byte("old line\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out syncBuffer
			errc := make(chan error, 1)
			start := time.Now()
			go func() { errc <- h.Stream(ctx, "exec tail -n 1 -F "+host.Quote(log), &out) }()
			waitFor(t, "old line", func() bool { return strings.Contains(out.String(), "old line\n") })
			// Past the command timeout, the stream still runs.
			time.Sleep(time.Until(start.Add(timeout + timeout/2)))
			select {
			case err := <-errc:
				t.Fatalf("Stream ended by itself: %v\n%s", err, out.String())
			default:
			}
			f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(f, "new line")
			f.Close()
			waitFor(t, "new line", func() bool { return strings.Contains(out.String(), "new line\n") })

			cancel()
			select {
			case err := <-errc:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Stream after cancel: %v, want context.Canceled", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Stream did not return within 30s of cancel")
			}
			waitFor(t, "end of tail", func() bool { return !running(log) })
			if got := out.String(); got != "old line\nnew line\n" {
				t.Errorf("output %q", got)
			}
		})
	}
}

func TestStreamExit(t *testing.T) {
	eachTransport(t, func(t *testing.T, h host.Host) {
		var out syncBuffer
		err := h.Stream(context.Background(), "echo a; echo oops >&2; echo b; exit 3", &out)
		var ee *host.ExitError
		if !errors.As(err, &ee) || ee.Status != 3 || !strings.Contains(ee.Stderr, "oops") {
			t.Errorf("error %v, want status 3 with stderr", err)
		}
		if out.String() != "a\nb\n" {
			t.Errorf("output %q", out.String())
		}
		if err := h.Stream(context.Background(), "echo ok", &out); err != nil {
			t.Errorf("a script that exits 0: %v", err)
		}
	})
}
