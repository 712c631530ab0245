package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/schema"
)

// sshHost is a server reached over SSH, with its one lazily made connection.
type sshHost struct {
	pool     *Pool
	name     string
	addr     string // host:port
	settings schema.SSHSettings
	conn     sshConn
	// sessions bounds the sessions open at once on the one connection:
	// OpenSSH refuses more than MaxSessions (default 10).
	sessions chan struct{}
}

// sshConn is one SSH client connection, dialed on first use and watched by
// keepalives.
type sshConn struct {
	name     string // the server, as errors name it
	interval time.Duration
	mu       sync.Mutex
	client   *ssh.Client
	dial     func(ctx context.Context) (*ssh.Client, error)
	// A failed dial is remembered for a while so that the many operations
	// of one run on an unreachable host fail at once instead of each (and
	// one after the other) waiting out the connect timeout.
	failed   error
	failedAt time.Time
	// lost is set when keepalives found the connection dead, until a
	// redial succeeds; lostClient is the client it was found on.
	lost       *lostError
	lostClient *ssh.Client
}

// redialAfter is how long a failed dial is reported without trying again.
const redialAfter = 10 * time.Second

func (c *sshConn) get(ctx context.Context) (*ssh.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		return c.client, nil
	}
	if c.failed != nil && time.Since(c.failedAt) < redialAfter {
		return nil, c.failed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cl, err := c.dial(ctx)
	if err != nil {
		if c.lost != nil {
			err = &lostError{server: c.name, since: c.lost.since, why: "reconnecting failed", err: err}
		}
		if !errors.Is(ctx.Err(), context.Canceled) {
			c.failed, c.failedAt = err, time.Now()
		}
		return nil, err
	}
	c.failed, c.lost, c.lostClient = nil, nil, nil
	c.client = cl
	go func() {
		// Forget the client when the connection drops so the next use redials.
		_ = cl.Wait()
		c.mu.Lock()
		if c.client == cl {
			c.client = nil
		}
		c.mu.Unlock()
	}()
	go keepalive(cl, c.interval, keepaliveMisses, func(lastOK time.Time, silent time.Duration) {
		c.mu.Lock()
		c.lost = &lostError{server: c.name, since: lastOK,
			why: fmt.Sprintf("no answer to %d ssh keepalives over %s", keepaliveMisses, silent.Round(time.Second))}
		c.lostClient = cl
		c.mu.Unlock()
	})
	return cl, nil
}

// lostErr returns why cl was declared dead, or nil.
func (c *sshConn) lostErr(cl *ssh.Client) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl != nil && c.lostClient == cl {
		return c.lost
	}
	return nil
}

// drop forgets cl if it is still the current client.
func (c *sshConn) drop(cl *ssh.Client) {
	c.mu.Lock()
	if c.client == cl {
		c.client = nil
	}
	c.mu.Unlock()
	_ = cl.Close()
}

func (c *sshConn) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed = nil
	if c.client == nil {
		return nil
	}
	err := c.client.Close()
	c.client = nil
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func newSSHHost(p *Pool, s *schema.Server) *sshHost {
	port := s.SSH.Port
	if port == 0 {
		port = 22
	}
	h := &sshHost{pool: p, name: s.Name, addr: net.JoinHostPort(s.Address, strconv.Itoa(port)), settings: s.SSH, sessions: make(chan struct{}, 8)}
	h.conn.name = s.Name
	h.conn.interval = p.keepaliveInterval(s.SSH.ConnectTimeout)
	h.conn.dial = h.dial
	return h
}

func (h *sshHost) Name() string { return h.name }
func (h *sshHost) Close() error { return h.conn.close() }

func (h *sshHost) Connect(ctx context.Context) error {
	_, err := h.conn.get(ctx)
	return err
}

func (h *sshHost) user() string {
	if h.settings.User == "" {
		return "root"
	}
	return h.settings.User
}

// dial connects to the server. The connect timeout counts from the moment
// this connection's handshake may begin (Options.Handshakes): waiting for a
// slot behind other servers' handshakes is this machine's queue, not the
// server's slowness.
func (h *sshHost) dial(ctx context.Context) (*ssh.Client, error) {
	timeout := orDefault(h.settings.ConnectTimeout, defaults.ConnectTimeout)
	start := time.Now()
	var underlying func(ctx context.Context, network, addr string) (net.Conn, error)
	via := ""
	if j := h.settings.Jump; j != nil {
		jc, err := h.pool.jump(ctx, h, j)
		if err != nil {
			return nil, err
		}
		underlying = jc.DialContext
		via = " via jump host " + j.Address
	} else {
		var d net.Dialer
		underlying = d.DialContext
	}
	release, err := h.pool.handshake(ctx)
	if err != nil {
		return nil, fmt.Errorf("server %s at %s: no SSH connection made (waiting for one of %d handshake slots): %w", h.name, h.addr, cap(h.pool.handshakes), err)
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl, err := clientOver(ctx, underlying, h.name, h.addr, h.user(), h.settings.KeyFile, h.settings.UseAgent, h.settings, h.pool.opts.Log)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(h.pool.opts.Log, "connected to %s (%s@%s%s) in %s\n", h.name, h.user(), h.addr, via, time.Since(start).Round(time.Millisecond))
	return cl, nil
}

// jump returns the shared connection to a jump host.
func (p *Pool) jump(ctx context.Context, h *sshHost, j *schema.JumpHost) (*ssh.Client, error) {
	port := j.Port
	if port == 0 {
		port = 22
	}
	user := j.User
	if user == "" {
		user = "root"
	}
	addr := net.JoinHostPort(j.Address, strconv.Itoa(port))
	key := user + "@" + addr + " " + j.KeyFile
	p.mu.Lock()
	c, ok := p.jumps[key]
	if !ok {
		c = &sshConn{name: "jump host " + addr + " (of server " + h.name + ")", interval: p.keepaliveInterval(h.settings.ConnectTimeout)}
		c.dial = func(ctx context.Context) (*ssh.Client, error) {
			var d net.Dialer
			name := "jump host of " + h.name
			release, err := p.handshake(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s at %s: no SSH connection made (waiting for a handshake slot): %w", name, addr, err)
			}
			defer release()
			ctx, cancel := context.WithTimeout(ctx, orDefault(h.settings.ConnectTimeout, defaults.ConnectTimeout))
			defer cancel()
			return clientOver(ctx, d.DialContext, name, addr, user, j.KeyFile, j.KeyFile == "", h.settings, p.opts.Log)
		}
		p.jumps[key] = c
	}
	p.mu.Unlock()
	return c.get(ctx)
}

// handshake waits for one of the pool's handshake slots (Options.Handshakes)
// and returns the function that frees it.
func (p *Pool) handshake(ctx context.Context) (func(), error) {
	select {
	case p.handshakes <- struct{}{}:
		return func() { <-p.handshakes }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// clientOver makes an SSH client connection to addr, the TCP connection
// opened with dial. Host keys are checked per settings (policy, known_hosts).
func clientOver(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error),
	name, addr, user, keyFile string, useAgent bool, settings schema.SSHSettings, log io.Writer) (*ssh.Client, error) {
	auth, closeAuth, err := authMethods(name, keyFile, useAgent)
	if err != nil {
		return nil, err
	}
	defer closeAuth()
	hk, err := newHostKeyChecker(name, settings, log)
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ClientConfig{
		User:              user,
		Auth:              auth,
		HostKeyCallback:   hk.check,
		HostKeyAlgorithms: hk.algorithms(addr),
	}
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot reach server %s at %s (check the address and ssh port, and that sshd runs there): %w", name, addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	stop()
	if err != nil {
		_ = conn.Close()
		if hk.err != nil {
			return nil, hk.err
		}
		var ne net.Error
		if ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout() {
			cause := ctx.Err()
			if cause == nil {
				cause = err
			}
			return nil, fmt.Errorf("server %s at %s: no SSH handshake within the connect timeout (is sshd answering on that port?): %w", name, addr, cause)
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("ssh login to server %s as %s@%s refused: %w (check that the key is in ~%s/.ssh/authorized_keys there, or key_file / the ssh agent)", name, user, addr, err, user)
		}
		return nil, fmt.Errorf("ssh handshake with server %s at %s failed: %w", name, addr, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

func authMethods(name, keyFile string, useAgent bool) ([]ssh.AuthMethod, func(), error) {
	var methods []ssh.AuthMethod
	closer := func() {}
	if keyFile != "" {
		path, err := ExpandHome(keyFile)
		if err != nil {
			return nil, closer, err
		}
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, closer, fmt.Errorf("server %s: reading key_file: %w", name, err)
		}
		signer, err := ssh.ParsePrivateKey(pem)
		var pm *ssh.PassphraseMissingError
		if errors.As(err, &pm) {
			return nil, closer, fmt.Errorf("server %s: key_file %s is protected by a passphrase and hactl does not prompt: add it to your ssh agent (ssh-add %s) and leave key_file empty (or set use_agent = true)", name, path, path)
		}
		if err != nil {
			return nil, closer, fmt.Errorf("server %s: key_file %s is not a usable private key: %w", name, path, err)
		}
		methods = append(methods, ssh.PublicKeys(signer))
	}
	if useAgent || keyFile == "" {
		sock := os.Getenv("SSH_AUTH_SOCK")
		if sock == "" {
			if keyFile == "" {
				return nil, closer, fmt.Errorf("server %s: no key_file set and no ssh agent (SSH_AUTH_SOCK is empty): set key_file or start ssh-agent", name)
			}
		} else {
			ac, err := net.Dial("unix", sock)
			if err != nil {
				if keyFile == "" {
					return nil, closer, fmt.Errorf("server %s: cannot reach the ssh agent at SSH_AUTH_SOCK=%s: %w", name, sock, err)
				}
			} else {
				methods = append(methods, ssh.PublicKeysCallback(agent.NewClient(ac).Signers))
				closer = func() { _ = ac.Close() }
			}
		}
	}
	return methods, closer, nil
}

// ExpandHome replaces a leading "~/" with the user's home directory.
func ExpandHome(p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("expanding %s: %w", p, err)
		}
		return filepath.Join(home, p[1:]), nil
	}
	return p, nil
}

func (h *sshHost) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	cl, err := h.conn.get(ctx)
	if err != nil {
		return nil, err
	}
	// Opening the tunnel is a connection: the connect timeout bounds it.
	dctx, cancel := context.WithTimeout(ctx, orDefault(h.settings.ConnectTimeout, defaults.ConnectTimeout))
	defer cancel()
	c, err := cl.DialContext(dctx, network, addr)
	if err != nil {
		return nil, h.failure(cl, fmt.Errorf("connecting to %s from server %s: %w", addr, h.name, refused(err)))
	}
	return &deadlineConn{Conn: c}, nil
}

// failure returns err, or why the connection cl was found dead.
func (h *sshHost) failure(cl *ssh.Client, err error) error {
	if lost := h.conn.lostErr(cl); lost != nil {
		return lost
	}
	return err
}

// session opens a session on the host's connection, waiting for a free
// slot; release closes it and frees the slot. NewSession takes no context:
// it runs aside and is abandoned when ctx ends (a dead connection blocks it
// until the keepalives close that connection).
func (h *sshHost) session(ctx context.Context) (*ssh.Session, *ssh.Client, func(), error) {
	cl, err := h.conn.get(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	select {
	case h.sessions <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, nil, fmt.Errorf("server %s: waiting for a free ssh session: %w", h.name, ctx.Err())
	}
	open := func(cl *ssh.Client) (*ssh.Session, error) {
		return await(ctx, cl.NewSession, func(s *ssh.Session, _ error) {
			if s != nil {
				_ = s.Close()
			}
		})
	}
	sess, err := open(cl)
	var refused *ssh.OpenChannelError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		<-h.sessions
		return nil, nil, nil, h.failure(cl, fmt.Errorf("server %s: opening an ssh session: %w", h.name, h.ctxErr(ctx)))
	case errors.As(err, &refused):
		// The connection is fine but the server said no (e.g. MaxSessions):
		// closing it would break the other sessions on it.
		<-h.sessions
		return nil, nil, nil, fmt.Errorf("server %s: the ssh server refused a session: %w", h.name, err)
	default:
		// The connection dropped since it was cached: redial once.
		lost := h.conn.lostErr(cl)
		h.conn.drop(cl)
		if cl, err = h.conn.get(ctx); err == nil {
			if sess, err = open(cl); err != nil {
				err = h.failure(cl, fmt.Errorf("server %s: opening an ssh session: %w", h.name, err))
			}
		} else if lost != nil && !errors.Is(err, ErrUnreachable) {
			err = lost
		}
		if err != nil {
			<-h.sessions
			return nil, nil, nil, err
		}
	}
	release := func() {
		// Closing writes to the connection, which can block on a dead one.
		done := make(chan struct{})
		go func() { _ = sess.Close(); <-h.sessions; close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
	}
	return sess, cl, release, nil
}

// ctxErr names why ctx ended: the command timeout, or an interruption.
func (h *sshHost) ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w after %s", ErrTimeout, orDefault(h.settings.CommandTimeout, defaults.CommandTimeout))
	}
	return withCause(ctx)
}

// withCause is ctx's error, with its cause when one was given, e.g.
// "context canceled (interrupted)".
func withCause(ctx context.Context) error {
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		return fmt.Errorf("%w (%v)", ctx.Err(), cause)
	}
	return ctx.Err()
}

// start starts cmd on sess; the request waits for the server's answer, so
// it runs aside and is abandoned when ctx ends.
func start(ctx context.Context, sess *ssh.Session, cmd string) error {
	_, err := await(ctx, func() (struct{}, error) { return struct{}{}, sess.Start(cmd) }, nil)
	return err
}

// streamWrapper runs a script in the background and stops it when the
// session's stdin reaches its end: closing stdin is how Stream stops a
// script on any sshd (signal requests need OpenSSH 7.9), and killing $p
// stops the long-lived program when the script execs it. Background jobs
// of a non-interactive shell read /dev/null, hence stdin kept on fd 3.
const streamWrapper = `exec 3<&0
{ %s
} </dev/null 3<&- & p=$!
(cat <&3 >/dev/null; kill $p) >/dev/null 2>&1 &
exec 3<&-
wait $p`

func (h *sshHost) Stream(ctx context.Context, script string, stdout io.Writer) error {
	// Stream has no command timeout, but opening and starting it has.
	octx, cancel := context.WithTimeout(ctx, orDefault(h.settings.CommandTimeout, defaults.CommandTimeout))
	defer cancel()
	sess, cl, release, err := h.session(octx)
	if err != nil {
		return err
	}
	defer release()
	stdin, err := sess.StdinPipe()
	if err != nil {
		return fmt.Errorf("server %s: %w", h.name, err)
	}
	var stderr bytes.Buffer
	sess.Stdout = stdout
	sess.Stderr = &stderr
	argv := shellCommand(fmt.Sprintf(streamWrapper, script), h.settings.Sudo)
	if err := start(octx, sess, Join(argv...)); err != nil {
		if octx.Err() != nil {
			err = h.ctxErr(octx)
		}
		return h.failure(cl, fmt.Errorf("server %s: starting a command: %w", h.name, err))
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// Both write to the connection, which may be dead: aside.
		go func() {
			_ = stdin.Close()
			_ = sess.Signal(ssh.SIGTERM)
		}()
		// Wait for the remote end to stop, but not for ever: the
		// connection may be gone.
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		return fmt.Errorf("server %s: %w", h.name, withCause(ctx))
	}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		if h.settings.Sudo {
			plain := func(ctx context.Context, script string) ([]byte, error) { return h.run(ctx, script, nil, false) }
			if se := sudoError(ctx, h.name, h.user(), ee.ExitStatus(), stderr.String(), plain); se != nil {
				return se
			}
		}
		return &ExitError{Host: h.name, Status: ee.ExitStatus(), Stderr: stderr.String()}
	}
	if err != nil {
		return h.failure(cl, fmt.Errorf("server %s: %w", h.name, err))
	}
	return nil
}

func (h *sshHost) Run(ctx context.Context, script string, stdin io.Reader) ([]byte, error) {
	return h.run(ctx, script, stdin, h.settings.Sudo)
}

func (h *sshHost) run(ctx context.Context, script string, stdin io.Reader, sudo bool) ([]byte, error) {
	timeout := orDefault(h.settings.CommandTimeout, defaults.CommandTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sess, cl, release, err := h.session(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { release() }()
	var stdout, stderr bytes.Buffer
	sess.Stdin = stdin
	sess.Stdout = &stdout
	sess.Stderr = &stderr
	argv := shellCommand(script, sudo)
	if err := start(ctx, sess, Join(argv...)); err != nil {
		if ctx.Err() != nil {
			err = h.ctxErr(ctx)
		}
		return nil, h.failure(cl, fmt.Errorf("server %s: starting a command: %w", h.name, err))
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		go func() { _ = sess.Signal(ssh.SIGKILL) }()
		// stdout is still being written by the session: not returned.
		return nil, h.failure(cl, fmt.Errorf("server %s: %w", h.name, h.ctxErr(ctx)))
	}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		status := ee.ExitStatus()
		if sudo {
			// The session is released before classifying: that runs a command too.
			release()
			release = func() {}
			plain := func(ctx context.Context, script string) ([]byte, error) { return h.run(ctx, script, nil, false) }
			if se := sudoError(ctx, h.name, h.user(), status, stderr.String(), plain); se != nil {
				return stdout.Bytes(), se
			}
		}
		return stdout.Bytes(), &ExitError{Host: h.name, Status: status, Stderr: stderr.String()}
	}
	var missing *ssh.ExitMissingError
	if errors.As(err, &missing) {
		if lost := h.conn.lostErr(cl); lost != nil {
			return stdout.Bytes(), lost
		}
		return stdout.Bytes(), &ExitError{Host: h.name, Status: -1, Stderr: stderr.String()}
	}
	if err != nil {
		return stdout.Bytes(), h.failure(cl, fmt.Errorf("server %s: %w", h.name, err))
	}
	return stdout.Bytes(), nil
}

// refused marks a tunnel the server's sshd could not open because nothing
// listens there ("Connection refused") as syscall.ECONNREFUSED, as a local
// dial's error is, so that callers tell a closed port from other failures
// the same way for every transport.
func refused(err error) error {
	var oce *ssh.OpenChannelError
	if errors.As(err, &oce) && oce.Reason == ssh.ConnectionFailed && strings.Contains(strings.ToLower(oce.Message), "refused") {
		return &refusedError{err}
	}
	return err
}

type refusedError struct{ err error }

func (e *refusedError) Error() string   { return e.err.Error() }
func (e *refusedError) Unwrap() []error { return []error{e.err, syscall.ECONNREFUSED} }
