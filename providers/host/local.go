package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"os/user"
	"syscall"
	"time"
)

// localHost runs scripts on this machine: the "local" transport.
type localHost struct {
	name    string
	sudo    bool
	timeout time.Duration
}

func (h *localHost) Name() string                      { return h.name }
func (h *localHost) Connect(ctx context.Context) error { return nil }
func (h *localHost) Close() error                      { return nil }

func (h *localHost) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (h *localHost) Run(ctx context.Context, script string, stdin io.Reader) ([]byte, error) {
	return h.run(ctx, script, stdin, h.sudo)
}

func (h *localHost) run(ctx context.Context, script string, stdin io.Reader, sudo bool) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	argv := shellCommand(script, sudo)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin = stdin
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	// On timeout kill the script's whole process group, not only sh; a
	// process it started in the background may still hold the pipes open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil && err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return stdout.Bytes(), fmt.Errorf("%s: %w after %s", h.name, ErrTimeout, h.timeout)
		}
		return stdout.Bytes(), fmt.Errorf("%s: %w", h.name, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if sudo {
			plain := func(ctx context.Context, script string) ([]byte, error) { return h.run(ctx, script, nil, false) }
			if se := sudoError(ctx, h.name, currentUser(), ee.ExitCode(), stderr.String(), plain); se != nil {
				return stdout.Bytes(), se
			}
		}
		return stdout.Bytes(), &ExitError{Host: h.name, Status: ee.ExitCode(), Stderr: stderr.String()}
	}
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		return stdout.Bytes(), fmt.Errorf("%s: %w", h.name, err)
	}
	return stdout.Bytes(), nil
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "(this user)"
}

func (h *localHost) Stream(ctx context.Context, script string, stdout io.Writer) error {
	argv := shellCommand(script, h.sudo)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stdout = stdout
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", h.name, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &ExitError{Host: h.name, Status: ee.ExitCode(), Stderr: stderr.String()}
	}
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		return fmt.Errorf("%s: %w", h.name, err)
	}
	return nil
}
