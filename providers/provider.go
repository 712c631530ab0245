package providers

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/hactl/hactl/lock"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/registry"
	"github.com/hactl/hactl/schema"
)

// Provider is one way of reaching the cluster's hosts: over SSH (and the local
// machine), or as a docker compose project. The plan and apply machinery sees
// hosts only through it.
type Provider interface {
	// Preflight checks, without changing anything, that every wanted
	// component can be deployed: hosts reachable, the dbgpt command present
	// and of the declared generation, model paths present, ports free or held
	// by the same component, deploy directories writable, the registry
	// database reachable from each controller's host. It returns every
	// problem found, not only the first.
	Preflight(ctx context.Context, c *schema.Cluster, want []*plan.Component) []Problem

	// Observe reads what is really deployed: every component manifest hactl
	// left on the cluster's servers (also those of components no longer in
	// the file), and whether each process runs.
	Observe(ctx context.Context, c *schema.Cluster) ([]Observed, error)

	// Deploy writes the component's settings and manifest and (re)starts its
	// supervised process. It is idempotent.
	Deploy(ctx context.Context, comp *plan.Component) error

	// Remove stops the component's process and deletes its files.
	Remove(ctx context.Context, o Observed) error

	// DialContext opens a connection to addr as seen from server: through the
	// server's SSH connection, directly for local, inside the network for compose.
	DialContext(ctx context.Context, server *schema.Server, network, addr string) (net.Conn, error)

	// Registry is the cluster's registry database as this provider reaches
	// it (package registry holds the rules: Ensure, State, Rows, Purge).
	Registry(c *schema.Cluster) *registry.DB

	// Logs returns the last lines of the component's log.
	Logs(ctx context.Context, o Observed, lines int) (string, error)

	// Close releases connections.
	Close() error
}

// Observed is one component as found on its host.
type Observed = plan.Observed

// Problem is one pre-flight failure.
type Problem struct {
	Server    string // server name, empty when not about one server
	Component string // component address, empty when about the host
	What      string // what is wrong
	Fix       string // what the operator can do
}

func (p Problem) Error() string {
	s := ""
	if p.Server != "" {
		s += "server " + p.Server + ": "
	}
	if p.Component != "" {
		s += p.Component + ": "
	}
	s += p.What
	if p.Fix != "" {
		s += " (" + p.Fix + ")"
	}
	return s
}

// Teardowner is implemented by providers that own resources beyond the
// components (compose: the database service, the network, the volume).
// destroy calls it after every component is gone, also when none was left.
type Teardowner interface {
	Teardown(ctx context.Context, purgeRegistry bool) error
}

// LogFollower is implemented by providers that can follow a component's log
// (hactl logs -f). It is apart from Provider.Logs so that fakes of Provider
// need not stream.
type LogFollower interface {
	// FollowLogs writes the last lines of the component's log to w, then
	// every new line as it is written, until ctx ends (it then returns an
	// error wrapping ctx.Err()) or the log can no longer be read.
	FollowLogs(ctx context.Context, o Observed, lines int, w io.Writer) error
}

// Locker is implemented by providers that can keep the cluster's operation
// lock (one apply, destroy or drill at a time); see package lock.
type Locker interface {
	LockStore() lock.Store
}

// Inventory is implemented by providers that remember every server a
// cluster was deployed to (ssh: a cluster record on the servers), so that
// a server removed from the file is still observed and its components
// removed. apply records before it changes anything (keep: the observed
// components, some on servers the file no longer names) and again after
// it succeeded (keep nil).
type Inventory interface {
	RecordInventory(ctx context.Context, c *schema.Cluster, keep []Observed) error
}

// StartWatcher is implemented by providers whose supervisor records each
// start and exit of a component's process (ssh: run.sh or systemd; compose:
// the container's restarts). apply's health gates read it while they wait,
// so a process that keeps exiting fails the gate at once with its error,
// and a long start shows what the process is doing.
type StartWatcher interface {
	Starts(ctx context.Context, comp *plan.Component) (Starts, error)
}

// Starts is what the supervisor knows about a component's process since it
// was last deployed.
type Starts struct {
	Running   bool
	PID       int
	StartedAt time.Time // the current (or last) attempt's start; zero when unknown
	Restarts  int       // restarts since the last deploy
	// Exits are the most recent exits, oldest first (at most 10).
	Exits []Exit
	// ErrorLines are the error lines (a traceback, "Error: ...") of the most
	// recent attempt that exited, or its last lines when none look like one.
	ErrorLines []string
	// LastLine is the last line the process logged (what it is doing).
	LastLine string
}

// Exit is one exit of a component's process.
type Exit struct {
	At     time.Time
	Status int           // exit status; 128+N for a signal N
	Uptime time.Duration // how long that attempt ran
}

// DataKeeper is implemented by providers whose Remove keeps a component's
// own data (the webserver's metadata database in its data/ directory) for
// a later deploy; Teardown with purge deletes it. Kept returns what the
// removals since the last call kept.
type DataKeeper interface {
	Kept() []KeptData
}

// KeptData is one component's data left in place by Remove.
type KeptData struct {
	Component string // address, e.g. "webserver"
	Server    string
	Path      string // where it is on the server (or the machine, for compose)
}

// FaultMode is how hactl drill takes a component down.
type FaultMode string

// Fault modes.
const (
	FaultStop FaultMode = "stop" // a clean stop: SIGTERM to the process, as on shutdown
	FaultKill FaultMode = "kill" // SIGKILL to the process and its supervisor at once
)

// FaultInjector is implemented by providers that can take a component's
// process down on purpose, keep it down (its supervisor does not restart
// it), and bring it back, for hactl drill.
type FaultInjector interface {
	Down(ctx context.Context, o Observed, mode FaultMode) error
	// Up starts the component again as deployed (same files, no redeploy)
	// and returns once its process runs (not once it is healthy).
	Up(ctx context.Context, o Observed) error
}

// RegistryFaulter is implemented by providers that manage the registry
// database themselves (compose: its own database service).
type RegistryFaulter interface {
	RegistryDown(ctx context.Context) error
	RegistryUp(ctx context.Context) error // returns once it accepts connections
}

// Warmer is implemented by providers that reach servers over connections
// worth opening ahead: Warm starts connecting to every server of the
// cluster in the background and returns at once. A failed connection is
// reported by the first operation that needs it.
type Warmer interface {
	Warm(ctx context.Context)
}
