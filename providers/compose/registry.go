package compose

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hactl/hactl/registry"
	"github.com/hactl/hactl/schema"
)

// Registry is the registry database reached inside the project's network.
// It is always the provider's own (adapted) cluster's: c is not used. A
// managed database is started by Ensure (and waited for until healthy),
// created with its registry user as root, observed as root while it runs
// and not at all while it does not, and dropped with its volume by a purge
// when no component is left.
func (p *Provider) Registry(*schema.Cluster) *registry.DB {
	if Managed(p.c) {
		return registry.New(p.c, managedAccess{access{p}})
	}
	return registry.New(p.c, access{p})
}

// access reaches an external MySQL registry through the provider's dialer.
type access struct{ p *Provider }

func (a access) Places() []registry.Place { return []registry.Place{network{a.p}} }

func (a access) SQLiteFile() (registry.File, error) {
	return nil, errors.New("compose: the compose provider supports mysql and embedded registries, not sqlite")
}

// ConnectRetry: the database may still be starting.
func (a access) ConnectRetry() time.Duration { return 20 * time.Second }

// network is the project's network as a place to dial from.
type network struct{ p *Provider }

func (n network) Name() string { return "the compose network" }

func (n network) DialContext(ctx context.Context, nw, addr string) (net.Conn, error) {
	return n.p.DialContext(ctx, nil, nw, addr)
}

// managedAccess is the database service the project runs itself.
type managedAccess struct{ access }

func (a managedAccess) Start(ctx context.Context) error { return a.p.startDatabase(ctx) }

func (a managedAccess) Admin() (string, string) {
	c := a.p.c
	if c.Compose.RootPassword.IsSet() {
		return "root", c.Compose.RootPassword.Reveal()
	}
	return "root", c.Registry.Password.Reveal()
}

// What names the managed database in messages.
func (a managedAccess) What() string {
	return "the database service " + DatabaseService(a.p.c)
}

// Running: a database whose container and volume are both absent is fresh
// (apply creates both); one with a volume but no running container cannot
// be checked without starting it.
func (a managedAccess) Running(ctx context.Context) (running, fresh bool, err error) {
	cs, err := containers(ctx, LabelProject+"="+a.p.project, LabelService+"="+DatabaseService(a.p.c))
	if err != nil {
		return false, false, err
	}
	for _, ct := range cs {
		if ct.State.Running {
			return true, false, nil
		}
	}
	if len(cs) > 0 {
		return false, false, nil
	}
	_, err = run(ctx, "", "docker", "volume", "inspect", a.p.DatabaseVolume())
	return false, err != nil, nil
}

// Discard: with every component gone, purging the managed registry means
// its data: the database service, network and volume are removed. A
// database that does not run holds no row to delete now.
func (a managedAccess) Discard(ctx context.Context) (bool, error) {
	if left, err := a.p.componentsLeft(ctx); err == nil && left == 0 {
		return true, a.p.Teardown(ctx, true)
	}
	if _, err := a.p.serviceContainer(ctx, DatabaseService(a.p.c)); err != nil {
		return true, nil
	}
	return false, nil
}

// startDatabase starts the managed database service and waits until Docker
// reports it healthy.
func (p *Provider) startDatabase(ctx context.Context) error {
	svc := DatabaseService(p.c)
	p.mu.Lock()
	err := p.writeProject()
	if err == nil {
		_, err = p.runCompose(ctx, "up", "-d", "--no-deps", "--no-build", "--no-color", svc)
	}
	p.mu.Unlock()
	if err != nil {
		return fmt.Errorf("compose: starting the registry database service %s: %w", svc, err)
	}
	deadline := time.Now().Add(p.opts.HealthTimeout)
	for {
		cs, err := containers(ctx, LabelProject+"="+p.project, LabelService+"="+svc)
		if err != nil {
			return err
		}
		state := "missing"
		if len(cs) > 0 {
			ct := cs[0]
			state = ct.State.Status
			if h := ct.health(); h != "" {
				state += ", " + h
			}
			if ct.State.Running && ct.health() == "healthy" {
				return nil
			}
			if ct.State.Status == "exited" || ct.State.Status == "dead" {
				logs, _ := containerLogs(ctx, ct.ID, 15)
				return fmt.Errorf("compose: the registry database service %s exited (code %d); last lines of its log:\n%s",
					svc, ct.State.ExitCode, logs)
			}
		}
		if time.Now().After(deadline) {
			msg := ""
			if len(cs) > 0 {
				logs, _ := containerLogs(ctx, cs[0].ID, 15)
				msg = "; last lines of its log:\n" + logs
			}
			return fmt.Errorf("compose: the registry database service %s is not healthy after %s (%s)%s",
				svc, p.opts.HealthTimeout, state, msg)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
