package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
)

var (
	_ providers.FaultInjector   = (*Provider)(nil)
	_ providers.RegistryFaulter = (*Provider)(nil)
)

// faultWait bounds the waits of Down, Up and RegistryDown for Docker to
// report the container's new state.
const faultWait = 30 * time.Second

// stopTimeout is what docker stop gives a component (as Remove does).
const stopTimeout = "15"

// Down takes the component's container down for hactl drill: stop is
// `docker stop` (SIGTERM to its process, SIGKILL after 15 s), kill is
// `docker kill` (SIGKILL). Docker counts both as a stop by hand, after
// which the restart policy (unless-stopped) does not start the container
// again; Down returns once Docker reports it exited, and fails when Docker
// restarts it anyway. It first writes "hactl: <UTC time> drill: down
// (stop|kill)" to the container's output (its log), as far as it can.
func (p *Provider) Down(ctx context.Context, o providers.Observed, mode providers.FaultMode) error {
	if mode != providers.FaultStop && mode != providers.FaultKill {
		return fmt.Errorf("drill: %s: unknown fault mode %q (want %s or %s)", o.Address, mode, providers.FaultStop, providers.FaultKill)
	}
	cs, err := containers(ctx, LabelProject+"="+p.project, LabelComponent+"="+o.Address)
	if err != nil {
		return fmt.Errorf("drill: taking %s down: %w", o.Address, err)
	}
	var ids []string
	for _, ct := range cs {
		if ct.State.Running || ct.State.Restarting {
			ids = append(ids, ct.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		drillLog(ctx, id, "drill: down ("+string(mode)+")")
	}
	args := append([]string{"stop", "--time", stopTimeout}, ids...)
	if mode == providers.FaultKill {
		args = append([]string{"kill", "--signal", "KILL"}, ids...)
	}
	if _, err := run(ctx, "", "docker", args...); err != nil {
		return fmt.Errorf("drill: taking %s down (%s): %w", o.Address, mode, err)
	}
	return p.waitContainers(ctx, o.Address, LabelComponent+"="+o.Address, false)
}

// Up starts the component's container again as it was (`docker start`:
// the same container, settings and restart count) and returns once Docker
// reports it running; it then writes "hactl: <UTC time> drill: up" to its
// output. A running container is left as it is.
func (p *Provider) Up(ctx context.Context, o providers.Observed) error {
	return p.startAgain(ctx, o.Address, LabelComponent+"="+o.Address, true)
}

// RegistryDown stops the managed database service's container (`docker
// stop`: the database shuts down cleanly) and returns once it exited.
func (p *Provider) RegistryDown(ctx context.Context) error {
	if !Managed(p.c) {
		return errors.New("drill: the registry database is not one the compose project runs (managed_database): hactl cannot stop it")
	}
	svc := DatabaseService(p.c)
	cs, err := containers(ctx, LabelProject+"="+p.project, LabelService+"="+svc)
	if err != nil {
		return fmt.Errorf("drill: stopping the registry database service %s: %w", svc, err)
	}
	var ids []string
	for _, ct := range cs {
		if ct.State.Running || ct.State.Restarting {
			ids = append(ids, ct.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := run(ctx, "", "docker", append([]string{"stop", "--time", "30"}, ids...)...); err != nil {
		return fmt.Errorf("drill: stopping the registry database service %s: %w", svc, err)
	}
	return p.waitContainers(ctx, "the registry database service "+svc, LabelService+"="+svc, false)
}

// RegistryUp starts the managed database service's container again and
// returns once the database accepts connections (it answers with the
// MySQL protocol's greeting), within Options.HealthTimeout.
func (p *Provider) RegistryUp(ctx context.Context) error {
	if !Managed(p.c) {
		return errors.New("drill: the registry database is not one the compose project runs (managed_database): hactl cannot start it")
	}
	svc := DatabaseService(p.c)
	what := "the registry database service " + svc
	if err := p.startAgain(ctx, what, LabelService+"="+svc, false); err != nil {
		return err
	}
	deadline := time.Now().Add(p.opts.HealthTimeout)
	for {
		err := p.greets(ctx, svc)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("drill: %s does not accept connections %s after its start: %w", what, p.opts.HealthTimeout, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("drill: waiting for %s: %w", what, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// greets connects to the database service's port and reads the server's
// greeting: a MySQL server that accepts connections sends its handshake
// (protocol version 10) first.
func (p *Provider) greets(ctx context.Context, svc string) error {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := p.DialContext(dctx, nil, "tcp", net.JoinHostPort(svc, "3306"))
	if err != nil {
		return err
	}
	return readGreeting(conn)
}

// readGreeting reads a MySQL server's handshake on conn and closes it.
func readGreeting(conn net.Conn) error {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var head [5]byte // 3 bytes length, sequence, first payload byte
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return fmt.Errorf("no greeting: %w", err)
	}
	if head[4] != 10 {
		return fmt.Errorf("greeting of protocol %d, not 10 (0xff: an error packet)", head[4])
	}
	return nil
}

// startAgain runs docker start on the stopped containers carrying label
// and waits until one runs. what names them in errors; logUp writes the
// drill's line to their output.
func (p *Provider) startAgain(ctx context.Context, what, label string, logUp bool) error {
	cs, err := containers(ctx, LabelProject+"="+p.project, label)
	if err != nil {
		return fmt.Errorf("drill: bringing %s up: %w", what, err)
	}
	if len(cs) == 0 {
		return fmt.Errorf("drill: bringing %s up: the project has no container of it (hactl apply creates it)", what)
	}
	for _, ct := range cs {
		if ct.State.Running {
			return nil
		}
	}
	// One container a service (Observe keeps the running one of several):
	// the last made.
	ct := cs[len(cs)-1]
	if _, err := run(ctx, "", "docker", "start", ct.ID); err != nil {
		return fmt.Errorf("drill: bringing %s up: %w", what, err)
	}
	if err := p.waitContainers(ctx, what, label, true); err != nil {
		return err
	}
	if logUp {
		drillLog(ctx, ct.ID, "drill: up")
	}
	return nil
}

// waitContainers waits until Docker reports a container carrying label
// running (running true), or none running nor restarting (false). Waiting
// for one to run, a container that exited again since its start fails at
// once, with its last lines.
func (p *Provider) waitContainers(ctx context.Context, what, label string, running bool) error {
	p.forgetContainers() // after a stop, kill or start: addresses may have changed
	deadline := time.Now().Add(faultWait)
	for {
		cs, err := containers(ctx, LabelProject+"="+p.project, label)
		if err != nil {
			return err
		}
		var up, restarting bool
		state := "gone"
		for _, ct := range cs {
			up = up || (ct.State.Running && !ct.State.Restarting)
			restarting = restarting || ct.State.Restarting
			state = ct.State.Status
		}
		if running && up || !running && !up && !restarting {
			return nil
		}
		if running && len(cs) > 0 {
			last := cs[len(cs)-1]
			if !last.State.Running && parseDockerTime(last.State.FinishedAt).After(last.startedAt()) {
				logs, _ := containerLogs(ctx, last.ID, 15)
				return fmt.Errorf("drill: %s exited right after its start (code %d); last lines of its log:\n%s", what, last.State.ExitCode, logs)
			}
		}
		if time.Now().After(deadline) {
			if running {
				return fmt.Errorf("drill: %s is not running %s after docker start (%s)", what, faultWait, state)
			}
			return fmt.Errorf("drill: %s is still %s %s after it was taken down (does a restart policy restart it?)", what, state, faultWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// drillLog writes "hactl: <UTC time> TEXT" to the running container's
// output, where docker logs shows it: its PID 1's stdout, from a process
// started in it (sh; bash, which the healthchecks need, as well). Best
// effort: an image without a shell just has no such line.
func drillLog(ctx context.Context, id, text string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	line := "hactl: " + time.Now().UTC().Format("2006-01-02T15:04:05Z") + " " + text
	_, _ = run(ctx, "", "docker", "exec", id, "sh", "-c", `printf '%s\n' "$1" > /proc/1/fd/1`, "sh", line)
}

// maxCheckerLog bounds what Observe reads of a controller's output since
// its start (as the SSH provider's log is capped, by default at 32 MiB).
const maxCheckerLog = 32 << 20

// checkerDefects sets the Defect of each running controller whose output
// since its container started holds the heartbeat checker's traceback:
// `docker logs --since <start>`, both streams through one pipe, read until
// the traceback or maxCheckerLog bytes, controllers in parallel. A log
// that cannot be read leaves the controller without a defect.
func checkerDefects(ctx context.Context, obs []providers.Observed, ids map[string]string) {
	var wg sync.WaitGroup
	for i := range obs {
		o := &obs[i]
		if o.Role != "controller" || !o.Running || o.StartedAt.IsZero() || ids[o.Address] == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errLine, died := checkerDied(ctx, ids[o.Address], o.StartedAt); died {
				o.Defect = plan.CheckerDefect(errLine)
			}
		}()
	}
	wg.Wait()
}

// checkerDied reads the container's output since since for the checker's
// traceback.
func checkerDied(ctx context.Context, id string, since time.Time) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	r, w, err := os.Pipe()
	if err != nil {
		return "", false
	}
	defer r.Close()
	cmd := exec.CommandContext(ctx, "docker", "logs", "--since", fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()), id)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		w.Close()
		return "", false
	}
	w.Close()
	errLine, died, _ := providers.CheckerError(io.LimitReader(r, maxCheckerLog))
	// Found (or the cap reached): the rest is not needed.
	cancel()
	_ = cmd.Wait()
	return strings.TrimSpace(errLine), died
}
