package host

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"
)

// Keepalives: x/crypto/ssh has no timeouts of its own, and a connection
// whose peer vanished (link cut, host frozen) blocks every channel open and
// request on it for as long as TCP retransmits (many minutes). So each
// connection sends keepalive@openssh.com requests; after keepaliveMisses
// unanswered in a row it is declared dead and closed, which makes every call
// blocked on it return.

// keepaliveMisses is how many unanswered keepalives make a connection dead.
const keepaliveMisses = 3

// keepaliveInterval is the default interval between keepalives: a dead link
// is noticed after about the connect timeout, whatever a command's timeout.
// Not below 2s: a busy server must not be taken for a dead one.
func keepaliveInterval(connectTimeout time.Duration) time.Duration {
	d := connectTimeout / keepaliveMisses
	return min(max(d, 2*time.Second), 15*time.Second)
}

// keepalive watches cl until it closes, closing it itself when it stops
// answering; dead is called (before the close) with the time of the last
// answer and how long it has been silent.
func keepalive(cl *ssh.Client, interval time.Duration, misses int, dead func(lastOK time.Time, silent time.Duration)) {
	closed := make(chan struct{})
	go func() { _ = cl.Wait(); close(closed) }()
	lastOK := time.Now()
	answered := make(chan struct{}, 1)
	pending := false
	missed := 0
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-closed:
			return
		case <-answered:
			pending, missed, lastOK = false, 0, time.Now()
			continue
		case <-t.C:
		}
		if pending {
			missed++
			if missed >= misses {
				dead(lastOK, time.Since(lastOK))
				_ = cl.Close()
				return
			}
			continue
		}
		pending = true
		go func() {
			// Any reply counts (OpenSSH answers "failure"); an error means
			// the connection is closed, which closed reports.
			if _, _, err := cl.SendRequest("keepalive@openssh.com", true, nil); err == nil {
				answered <- struct{}{}
			}
		}()
	}
}

// lostError says since when a server has been unreachable.
type lostError struct {
	server string
	since  time.Time
	why    string
	err    error // the failed reconnection, if any
}

func (e *lostError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("server %s unreachable since %s (%s: %v)", e.server, e.since.Format("15:04:05"), e.why, e.err)
	}
	return fmt.Sprintf("server %s unreachable since %s (%s)", e.server, e.since.Format("15:04:05"), e.why)
}

// ErrUnreachable is wrapped by errors of operations on a server whose SSH
// connection was found dead.
var ErrUnreachable = errors.New("server unreachable")

func (e *lostError) Unwrap() []error { return []error{ErrUnreachable, e.err} }

// await runs f, which cannot be interrupted, and returns its result, or
// ctx's error as soon as ctx ends; then abandon is called with f's result
// when f finally returns (to release what it made).
func await[T any](ctx context.Context, f func() (T, error), abandon func(T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		go func() {
			r := <-ch
			if abandon != nil {
				abandon(r.v, r.err)
			}
		}()
		var zero T
		return zero, ctx.Err()
	}
}
