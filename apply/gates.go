package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

// Checker says whether one deployed component serves. Check returns nil when
// it does, else why not; the executor polls it until a gate's timeout.
type Checker interface {
	Check(ctx context.Context, comp *plan.Component) error
}

// HealthChecker checks components with internal/health: a controller
// answers /api/health and lists its registry; a worker's rows are healthy
// and fresh through every controller; the webserver answers and sees the
// models; the API server lists its models.
type HealthChecker struct {
	Cluster *schema.Cluster
	Client  *health.Client
}

// NewHealthChecker reaches the components through d (the provider).
func NewHealthChecker(d health.Dialer, c *schema.Cluster, requestTimeout time.Duration) *HealthChecker {
	return &HealthChecker{Cluster: c, Client: health.NewClient(d, c, requestTimeout)}
}

// Check implements Checker.
func (h *HealthChecker) Check(ctx context.Context, comp *plan.Component) error {
	c := h.Cluster
	switch comp.Role {
	case schema.RoleController:
		for _, ctl := range c.Controllers {
			if ctl.Name == comp.Name {
				return health.CheckController(ctx, h.Client, ctl)
			}
		}
	case schema.RoleWorker:
		for _, w := range c.Workers {
			if w.Name == comp.Name {
				return health.CheckWorker(ctx, h.Client, c, w)
			}
		}
	case schema.RoleWebserver:
		return health.CheckWebserver(ctx, h.Client, c)
	case schema.RoleAPIServer:
		return health.CheckAPIServer(ctx, h.Client, c)
	}
	return fmt.Errorf("%s: not in the cluster file", comp.Address)
}

// Timeouts are the health gates' limits per level.
type Timeouts struct {
	Controllers time.Duration // 0 means defaults.GateTimeoutControllers
	Workers     time.Duration // 0 means defaults.GateTimeoutWorkers
	Frontends   time.Duration // 0 means defaults.GateTimeoutFrontends
}

func (t Timeouts) forLevel(level int) time.Duration {
	var d, def time.Duration
	switch level {
	case plan.LevelController:
		d, def = t.Controllers, defaults.GateTimeoutControllers
	case plan.LevelWorker:
		d, def = t.Workers, defaults.GateTimeoutWorkers
	default:
		d, def = t.Frontends, defaults.GateTimeoutFrontends
	}
	if d <= 0 {
		return def
	}
	return d
}

// For is the gate timeout of one component: its own start timeout when it
// has one (a model that loads for long), else its level's.
func (t Timeouts) For(d *plan.Component) time.Duration {
	if d.StartTimeout > 0 {
		return d.StartTimeout
	}
	return t.forLevel(d.Level)
}

func gateName(level int) string {
	switch level {
	case plan.LevelController:
		return "controllers"
	case plan.LevelWorker:
		return "workers"
	}
	return "webserver/apiserver"
}

// GateError is a failed health gate.
type GateError struct {
	Gate      string // "controllers", "workers", "webserver/apiserver"
	Component string // address
	Server    string
	Err       error
	Log       string // last lines of the component's log, when readable
}

func (e *GateError) Error() string {
	var gc *GateCancelled
	if errors.As(e.Err, &gc) {
		return fmt.Sprintf("health gate %q: %v", e.Gate, gc)
	}
	return fmt.Sprintf("health gate %q failed: %s on server %s: %v", e.Gate, e.Component, e.Server, e.Err)
}

func (e *GateError) Unwrap() error { return e.Err }

// GateCancelled is a gate's wait ended by the operation's context (Ctrl-C),
// not by its timeout: the components may well be healthy.
type GateCancelled struct {
	Elapsed time.Duration
	Cause   error // context.Cause of the operation's context
}

func (e *GateCancelled) Error() string {
	return fmt.Sprintf("cancelled after %s (%v)", e.Elapsed.Round(time.Second), e.Cause)
}

func (e *GateCancelled) Unwrap() error { return e.Cause }

// gateWaitError is why waiting for a component failed: the gate's timeout
// (err), or the operation's context ending, which err would misreport as
// "not healthy after" the whole gate timeout.
func gateWaitError(ctx context.Context, start time.Time, err error) error {
	if ctx.Err() == nil {
		return err
	}
	return &GateCancelled{Elapsed: time.Since(start), Cause: context.Cause(ctx)}
}

// CheckUnchanged checks, once each, the components the plan leaves
// unchanged, and turns those that run but do not serve into repairs (an
// update in place: restart with the same settings), except those still
// starting: a process that runs and started less than its start timeout
// (gates.For) ago is marked starting (plan.MarkStarting) and left alone, so
// a second apply during a model's load waits for it instead of killing it.
// Levels are checked in dependency order, each only while no lower level
// changes or starts: a worker's health depends on the controllers', and the
// apply's gates check a level after the changes below it anyway. So an
// apply that failed its gates is repaired by the next, only the lowest
// broken level is restarted, and an apply of a healthy, unchanged cluster
// still changes nothing. timeout bounds all the checks.
func CheckUnchanged(ctx context.Context, checker Checker, p *plan.Plan, timeout time.Duration, gates Timeouts, concurrency int) {
	if len(p.Unchanged) == 0 {
		return
	}
	if concurrency <= 0 {
		concurrency = 4
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for level := plan.LevelController; level <= plan.LevelFrontend; level++ {
		for _, ch := range p.Changes {
			// The registry's create (level 0) does not hold the checks back:
			// a controller without its table is exactly what they find.
			if ch.Action != plan.Destroy && ch.Level >= plan.LevelController && ch.Level < level {
				return
			}
		}
		for _, s := range p.Starting {
			for _, ch := range p.Unchanged {
				if ch.Address == s.Address && ch.Level < level {
					return
				}
			}
		}
		// One listing of each controller's registry, fetched for this
		// level's checks, serves all of them.
		lctx := health.ShareSince(ctx, time.Now())
		var (
			mu       sync.Mutex
			wg       sync.WaitGroup
			repairs  = map[string]string{}
			starting []plan.Starting
			sem      = make(chan struct{}, concurrency)
		)
		for _, ch := range p.Unchanged {
			if ch.Level != level || ch.Desired == nil {
				continue
			}
			wg.Add(1)
			go func(ch *plan.Change) {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				err := checker.Check(lctx, ch.Desired)
				if err == nil {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if s, ok := startingNow(ch, gates, err, time.Now()); ok {
					starting = append(starting, s)
					return
				}
				repairs[ch.Address] = "unhealthy: " + shortReason(err)
			}(ch)
		}
		wg.Wait()
		addrs := make([]string, 0, len(repairs))
		for a := range repairs {
			addrs = append(addrs, a)
		}
		sort.Strings(addrs)
		for _, a := range addrs {
			p.Repair(a, repairs[a])
		}
		sort.Slice(starting, func(i, j int) bool { return starting[i].Address < starting[j].Address })
		for _, s := range starting {
			p.MarkStarting(s)
		}
	}
}

// startingNow says whether an unchanged component whose check failed with
// err is starting: its process runs and started, as far as its host tells,
// less than its start timeout before now, and err says only that it does
// not serve yet (health.NotServingYet).
func startingNow(ch *plan.Change, gates Timeouts, err error, now time.Time) (plan.Starting, bool) {
	if len(ch.Observed) == 0 || ch.Desired == nil {
		return plan.Starting{}, false
	}
	o := ch.Observed[0]
	// One that serves, but wrongly (a controller without its registry
	// table), is not starting: waiting would not mend it.
	if !o.Running || o.StartedAt.IsZero() || !health.NotServingYet(err) {
		return plan.Starting{}, false
	}
	// A start ahead of this machine's clock (the host's clock is ahead)
	// counts as just now.
	age := max(now.Sub(o.StartedAt), 0)
	limit := gates.For(ch.Desired)
	if age >= limit {
		return plan.Starting{}, false
	}
	return plan.Starting{Address: ch.Address, Server: o.Server, StartedAt: o.StartedAt, Age: age, Timeout: limit, Reason: shortReason(err)}, true
}

// A crash loop: crashLoopExits exits in a row, each within quickExit of
// its attempt's start. A process that served for longer and then exited
// once in a while is not one.
const (
	crashLoopExits = 3
	quickExit      = time.Minute
)

// CrashLoopError is a component whose process keeps exiting soon after it
// starts (a missing library, an unknown flag), or, just deployed, exited
// before it served: its gate fails at once instead of waiting for the
// timeout while the supervisor restarts it.
type CrashLoopError struct {
	Component string
	Server    string
	// Exits are the quick exits in a row, oldest first (empty when the
	// supervisor counts restarts but keeps no exit statuses).
	Exits    []providers.Exit
	Restarts int
	// ErrorLines are the error lines of the most recent attempt that
	// exited (a traceback, "Error: No such option '--x'.").
	ErrorLines []string
}

func (e *CrashLoopError) Error() string {
	var b strings.Builder
	n := max(len(e.Exits), e.Restarts)
	if n < crashLoopExits {
		// A fresh deploy's first exit (see crashLoop).
		b.WriteString("its process exited right after starting")
		if len(e.Exits) > 0 {
			x := e.Exits[len(e.Exits)-1]
			fmt.Fprintf(&b, " (exit status %s", exitStatus(x.Status))
			if x.Uptime > 0 {
				fmt.Fprintf(&b, ", %s after its start", plan.ShortDuration(x.Uptime))
			}
			b.WriteString(")")
		}
		if n > 1 {
			fmt.Fprintf(&b, ", %d times", n)
		}
		if l := lastErrorLine(e.ErrorLines); l != "" {
			b.WriteString(": " + l)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "crash loop: its process exited %d times since it was deployed", n)
	if len(e.Exits) > 0 {
		var longest time.Duration
		statuses := make([]string, len(e.Exits))
		for i, x := range e.Exits {
			longest = max(longest, x.Uptime)
			statuses[i] = exitStatus(x.Status)
		}
		if longest > 0 {
			fmt.Fprintf(&b, ", each within %s of its start", plan.ShortDuration(max(longest, time.Second)))
		}
		fmt.Fprintf(&b, " (exit status %s)", strings.Join(statuses, ", "))
	}
	if l := lastErrorLine(e.ErrorLines); l != "" {
		b.WriteString(": " + l)
	}
	return b.String()
}

func exitStatus(st int) string {
	if st > 128 {
		return fmt.Sprintf("%d (signal %d)", st, st-128)
	}
	return strconv.Itoa(st)
}

// lastErrorLine is the line that says most: a traceback's or a usage
// error's last line.
func lastErrorLine(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			if len(l) > 300 {
				l = l[:300] + "..."
			}
			return l
		}
	}
	return ""
}

// crashLoop judges what the supervisor knows: nil unless the process
// exited crashLoopExits times in a row since its deploy, each soon after
// its start, or, when this apply has just deployed it (fresh), once: a
// process that exits before it ever served is a failed start, and waiting
// for the supervisor's next attempts (seconds of backoff) would only
// repeat it. Restarts the supervisor counted beyond the exits it recorded
// count as quick when every recorded exit was.
func crashLoop(s providers.Starts, fresh bool) *CrashLoopError {
	n := 0
	for i := len(s.Exits) - 1; i >= 0 && s.Exits[i].Uptime < quickExit; i-- {
		n++
	}
	quick := s.Exits[len(s.Exits)-n:]
	if n == len(s.Exits) {
		n = max(n, s.Restarts)
	}
	if n < crashLoopExits && (!fresh || n == 0) {
		return nil
	}
	return &CrashLoopError{Exits: append([]providers.Exit(nil), quick...), Restarts: n, ErrorLines: append([]string(nil), s.ErrorLines...)}
}

func shortReason(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
