package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/hactl/hactl/plan"
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

// startDatabase starts the managed database service and waits until it
// accepts connections: it sends the MySQL greeting over the project network
// (what its healthcheck tests: a TCP connection to the real server, not the
// images' socket-only bootstrap server), or Docker reports it healthy. The
// greeting is polled with a backoff from dbPollMin to dbPollMax, so the wait
// ends within moments of the server's readiness, not at the healthcheck's
// next interval.
func (p *Provider) startDatabase(ctx context.Context) error {
	svc := DatabaseService(p.c)
	if err := p.writeAndUp(ctx, svc, nil); err != nil {
		return fmt.Errorf("compose: starting the registry database service %s: %w", svc, err)
	}
	deadline := time.Now().Add(p.opts.HealthTimeout)
	wait := dbPollMin
	var greetErr error
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
			if ct.State.Running && !ct.State.Restarting {
				if greetErr = p.databaseGreets(ctx, ct, svc); greetErr == nil {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			msg := ""
			if greetErr != nil {
				msg = "; last connection: " + greetErr.Error()
			}
			if len(cs) > 0 {
				logs, _ := containerLogs(ctx, cs[0].ID, 15)
				msg += "; last lines of its log:\n" + logs
			}
			return fmt.Errorf("compose: the registry database service %s is not healthy after %s (%s)%s",
				svc, p.opts.HealthTimeout, state, msg)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, dbPollMax)
	}
}

// databaseGreets reads the greeting of the database service's container
// ct. Unless the provider reaches containers through exec, it dials the
// container's address itself first: refused there means the server does
// not listen yet, which auto's first dial would tell from a firewall with
// a docker exec each time. A connection, or an address that does not
// answer, goes the provider's way (greets).
func (p *Provider) databaseGreets(ctx context.Context, ct container, svc string) error {
	if p.AccessMode() != AccessExec {
		dctx, cancel := context.WithTimeout(ctx, probeTimeout)
		conn, err := p.dialNetwork(dctx, ct, "tcp", "3306")
		cancel()
		if err == nil {
			return readGreeting(conn)
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return err
		}
	}
	return p.greets(ctx, svc)
}

// The managed database's readiness is polled every dbPollMin at first,
// backing off to dbPollMax.
var (
	dbPollMin = 25 * time.Millisecond
	dbPollMax = 400 * time.Millisecond
)

// LabelSecretDigests is the managed database's label with a salted PBKDF2
// digest of each of its secrets (JSON, by attribute name: root_password,
// password), never a secret itself; LabelHash and LabelAttributes carry
// the hash and the shown attributes of its settings (databaseSettings).
const LabelSecretDigests = "dev.hactl.secret-digests"

// databaseVolume is the Docker name of the managed database's volume.
func databaseVolume(c *schema.Cluster, project string) string {
	if v := c.Compose.DatabaseVolume; v != "" {
		return v
	}
	return project + "_" + DefaultDatabaseVolume
}

// databaseSettings are the managed database service's settings as the
// file wants them, as plan shows and compares them: image, volume,
// database and registry user, and the root password and (for a non-root
// registry user) the user's password as digests salted with the project.
// Everything the service's container is made from that a cluster file
// sets is here, so a change of any of them is an update of the registry.
func databaseSettings(c *schema.Cluster, project string) plan.ServiceSettings {
	r := c.Registry
	image := c.Compose.DatabaseImage
	if image == "" {
		image = DefaultDatabaseImage
	}
	attrs := map[string]string{
		"database_image":  image,
		"database_volume": databaseVolume(c, project),
		"database":        r.Database,
	}
	root := c.Compose.RootPassword
	if !root.IsSet() && r.User == "root" {
		root = r.Password
	}
	secrets := map[string]string{"root_password": root.Reveal()}
	if r.User != "" && r.User != "root" && r.Password.IsSet() {
		attrs["user"] = r.User
		secrets["password"] = r.Password.Reveal()
	}
	return plan.NewServiceSettings("hactl-secrets-v1|registry|"+project, attrs, secrets)
}

// databaseLabels adds the settings labels to the database service's labels.
func databaseLabels(labels types.Labels, c *schema.Cluster, project string) error {
	s := databaseSettings(c, project)
	attrs, err := json.Marshal(s.Attributes)
	if err != nil {
		return err
	}
	digests, err := json.Marshal(s.Digests)
	if err != nil {
		return err
	}
	labels[LabelHash] = esc(s.Hash)
	labels[LabelAttributes] = esc(string(attrs))
	labels[LabelSecretDigests] = esc(string(digests))
	return nil
}

// ServiceState: the database service's settings as the file wants them and
// as its container (running or not) was made with. A container without the
// settings labels (made by an older hactl) has its image read instead.
func (a managedAccess) ServiceState(ctx context.Context) (*plan.ServiceState, error) {
	svc := DatabaseService(a.p.c)
	st := &plan.ServiceState{Name: svc, Want: databaseSettings(a.p.c, a.p.project)}
	cs, err := containers(ctx, LabelProject+"="+a.p.project, LabelService+"="+svc)
	if err != nil {
		return nil, fmt.Errorf("compose: listing the database service %s: %w", svc, err)
	}
	if len(cs) == 0 {
		return st, nil
	}
	ct := cs[0]
	for _, c := range cs {
		if c.State.Running {
			ct = c
		}
	}
	st.Have = observedSettings(ct)
	return st, nil
}

// observedSettings reads a database container's settings labels.
func observedSettings(ct container) *plan.ServiceSettings {
	l := ct.Config.Labels
	have := &plan.ServiceSettings{Hash: l[LabelHash]}
	if have.Hash != "" {
		if json.Unmarshal([]byte(l[LabelAttributes]), &have.Attributes) != nil ||
			json.Unmarshal([]byte(l[LabelSecretDigests]), &have.Digests) != nil {
			have.Hash = "" // unreadable: as if not recorded
		}
	}
	if have.Hash == "" {
		have.Attributes = map[string]string{"database_image": ct.Config.Image}
		have.Digests = nil
	}
	return have
}
