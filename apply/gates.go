package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/plan"
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
// update in place: restart with the same settings). Levels are checked in
// dependency order, each only while no lower level changes: a worker's
// health depends on the controllers', and the apply's gates check a level
// after the changes below it anyway. So an apply that failed its gates is
// repaired by the next, only the lowest broken level is restarted, and an
// apply of a healthy, unchanged cluster still changes nothing.
func CheckUnchanged(ctx context.Context, checker Checker, p *plan.Plan, timeout time.Duration, concurrency int) {
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
		var (
			mu      sync.Mutex
			wg      sync.WaitGroup
			repairs = map[string]string{}
			sem     = make(chan struct{}, concurrency)
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
				if err := checker.Check(ctx, ch.Desired); err != nil {
					mu.Lock()
					repairs[ch.Address] = "unhealthy: " + shortReason(err)
					mu.Unlock()
				}
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
	}
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
