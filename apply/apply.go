package apply

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	hostpkg "github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/schema"
)

// Options tune an apply or a destroy.
type Options struct {
	// Concurrency bounds how many components are worked on at once within a
	// level. 0 means defaults.Concurrency.
	Concurrency int
	// Checker judges health; nil means a HealthChecker through the provider.
	Checker Checker
	// Timeouts of the health gates.
	Timeouts Timeouts
	// Poll is how often a gate checks again. 0 means 1s.
	Poll time.Duration
	// LogLines is how many log lines a failure shows. 0 means 20.
	LogLines int
	// StillEvery is how often a long step says it is still at work. 0 means 10s.
	StillEvery time.Duration
	// RequestTimeout bounds one HTTP request of a health check or a
	// deregistration. 0 means defaults.RequestTimeout.
	RequestTimeout time.Duration
	// SkipPreflight: the caller already ran Preflight for this plan.
	SkipPreflight bool
	// OnEvent, when set, receives every progress event, one at a time
	// (never concurrently), in the order they happen. A views.Operation's
	// Event method fits.
	OnEvent func(Event)
}

func (o *Options) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = defaults.Concurrency
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.LogLines <= 0 {
		o.LogLines = 20
	}
	if o.StillEvery <= 0 {
		o.StillEvery = 10 * time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = defaults.RequestTimeout
	}
}

// PreflightError lists every pre-flight problem.
type PreflightError struct{ Problems []providers.Problem }

func (e *PreflightError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pre-flight found %d problem(s); nothing was changed:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Preflight runs the provider's pre-flight checks for the wanted components.
func Preflight(ctx context.Context, prov providers.Provider, c *schema.Cluster, desired []*plan.Component) error {
	if probs := prov.Preflight(ctx, c, desired); len(probs) > 0 {
		return &PreflightError{Problems: probs}
	}
	return nil
}

// Result counts what an apply did, like Terraform's closing line.
type Result struct {
	Added, Changed, Destroyed int
}

func (r Result) String() string {
	return fmt.Sprintf("Resources: %d added, %d changed, %d destroyed.", r.Added, r.Changed, r.Destroyed)
}

type executor struct {
	prov    providers.Provider
	c       *schema.Cluster
	opts    Options
	checker Checker
	hc      *health.Client // for deregistrations

	emitMu sync.Mutex

	mu     sync.Mutex
	failed bool
	errs   []error
	res    Result
}

func newExecutor(prov providers.Provider, c *schema.Cluster, opts Options) *executor {
	opts.defaults()
	e := &executor{prov: prov, c: c, opts: opts, checker: opts.Checker}
	e.hc = health.NewClient(prov, c, opts.RequestTimeout)
	if e.checker == nil {
		e.checker = &HealthChecker{Cluster: c, Client: e.hc}
	}
	return e
}

func (e *executor) emit(ev Event) {
	if e.opts.OnEvent == nil {
		return
	}
	e.emitMu.Lock()
	defer e.emitMu.Unlock()
	e.opts.OnEvent(ev)
}

func (e *executor) fail(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failed = true
	e.errs = append(e.errs, err)
}

func (e *executor) stopped() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failed
}

func (e *executor) count(f func(*Result)) {
	e.mu.Lock()
	f(&e.res)
	e.mu.Unlock()
}

func (e *executor) err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return errors.Join(e.errs...)
}

// Apply carries out p: pre-flight, registry, then each level in dependency
// order, then the removal of components no longer wanted. It stops at the
// first failure (steps already running finish) and returns every error; the
// next apply repairs whatever was left half done.
func Apply(ctx context.Context, prov providers.Provider, c *schema.Cluster, p *plan.Plan, opts Options) (Result, error) {
	e := newExecutor(prov, c, opts)
	if p.Empty() {
		return Result{}, nil
	}
	if !opts.SkipPreflight {
		if err := Preflight(ctx, prov, c, p.Desired); err != nil {
			return Result{}, err
		}
	}
	deploys := 0
	var create *plan.Change // the registry's create, when the plan has one
	for _, ch := range p.Changes {
		switch {
		case ch.Level == plan.LevelRegistry:
			create = ch
		case ch.Action != plan.Destroy:
			deploys++
		}
	}
	// The registry is prepared (idempotent: create what is absent, check the
	// columns) before any controller (re)starts, also when the plan found it
	// complete or could not check it. Only a create, or a preparation of a
	// registry the plan could not check, is reported: for a complete one
	// Ensure changes nothing (a compose database service is merely started
	// if it is not running).
	if create != nil || (deploys > 0 && c.Registry != nil && dbgpt.HasDatabase(c.Registry.Type)) {
		start := time.Now()
		announce := create == nil && !p.Registry.Complete()
		switch {
		case create != nil:
			e.emit(ResourceStart{Address: create.Address, Action: create.Action, Server: create.Server, Reason: create.Reason, Note: create.Note})
		case announce:
			e.emit(RegistryStart{Step: RegistryPrepare})
		}
		if err := prov.Registry(c).Ensure(ctx); err != nil {
			if create != nil {
				e.emit(ResourceErrored{Address: create.Address, Action: create.Action, Server: create.Server, Elapsed: time.Since(start), Err: err})
			}
			return Result{}, fmt.Errorf("preparing the registry: %w", err)
		}
		switch {
		case create != nil:
			e.count(func(r *Result) { r.Added++ })
			e.emit(ResourceComplete{Address: create.Address, Action: create.Action, Elapsed: time.Since(start)})
		case announce:
			e.emit(RegistryComplete{Step: RegistryPrepare, Elapsed: time.Since(start)})
		}
	}

	for level := plan.LevelController; level <= plan.LevelFrontend && deploys > 0; level++ {
		var changes []*plan.Change
		for _, ch := range p.Changes {
			if ch.Level == level && ch.Action != plan.Destroy {
				changes = append(changes, ch)
			}
		}
		e.runLanes(ctx, lanes(changes))
		if e.stopped() {
			return e.res, e.err()
		}
		e.gate(ctx, level, p.Desired)
		if e.stopped() {
			return e.res, e.err()
		}
	}

	// Components no longer wanted, frontends first, controllers last.
	for level := plan.LevelFrontend; level >= plan.LevelController; level-- {
		var lns [][]*plan.Change
		for _, ch := range p.Changes {
			if ch.Level == level && ch.Action == plan.Destroy {
				lns = append(lns, []*plan.Change{ch})
			}
		}
		e.runLanes(ctx, lns)
		if e.stopped() {
			return e.res, e.err()
		}
	}
	return e.res, nil
}

// lanes groups a level's changes into sequences that run one step at a time:
// changes to existing controllers form one lane (rolling: one controller at
// a time), changes to existing workers of one model form one lane; every
// create and every other change is a lane of its own. Lanes run in parallel.
func lanes(changes []*plan.Change) [][]*plan.Change {
	var out [][]*plan.Change
	index := map[string]int{}
	for _, ch := range changes {
		key := ""
		if ch.Action == plan.Update || ch.Action == plan.Replace {
			switch ch.Role {
			case schema.RoleController:
				key = "controllers"
			case schema.RoleWorker:
				key = "model " + ch.After["model"]
			}
		}
		if key == "" {
			out = append(out, []*plan.Change{ch})
			continue
		}
		if i, ok := index[key]; ok {
			out[i] = append(out[i], ch)
			continue
		}
		index[key] = len(out)
		out = append(out, []*plan.Change{ch})
	}
	return out
}

func (e *executor) runLanes(ctx context.Context, lns [][]*plan.Change) {
	sem := make(chan struct{}, e.opts.Concurrency)
	var wg sync.WaitGroup
	for _, lane := range lns {
		wg.Add(1)
		go func(lane []*plan.Change) {
			defer wg.Done()
			for _, ch := range lane {
				sem <- struct{}{}
				if e.stopped() || ctx.Err() != nil {
					<-sem
					if ctx.Err() != nil {
						e.fail(fmt.Errorf("%s: not applied: %w", ch.Address, ctx.Err()))
					}
					return
				}
				err := e.step(ctx, ch)
				<-sem
				if err != nil {
					e.fail(err)
					return
				}
			}
		}(lane)
	}
	wg.Wait()
}

// step carries out one change and reports it: ResourceStart, then
// ResourceComplete or ResourceErrored.
func (e *executor) step(ctx context.Context, ch *plan.Change) error {
	start := time.Now()
	e.emit(ResourceStart{Address: ch.Address, Action: ch.Action, Server: ch.Server, OldServers: ch.OldServers, Reason: ch.Reason, Note: ch.Note})
	stop := e.still(ch, start)
	err := e.change(ctx, ch, start)
	stop()
	if err != nil {
		_, log := LogOf(err)
		e.emit(ResourceErrored{Address: ch.Address, Action: ch.Action, Server: ch.Server, Elapsed: time.Since(start), Err: err, Log: log})
		return err
	}
	e.count(func(r *Result) {
		switch ch.Action {
		case plan.Create:
			r.Added++
		case plan.Update:
			r.Changed++
		case plan.Replace:
			r.Added++
			r.Destroyed++
		case plan.Destroy:
			r.Destroyed++
		}
	})
	e.emit(ResourceComplete{Address: ch.Address, Action: ch.Action, Elapsed: time.Since(start)})
	return nil
}

func (e *executor) change(ctx context.Context, ch *plan.Change, start time.Time) error {
	if ch.Action == plan.Destroy {
		for _, o := range ch.Observed {
			if err := e.prov.Remove(ctx, o); err != nil {
				return fmt.Errorf("%s: %w", ch.Address, err)
			}
			e.deregisterOld(ctx, o)
		}
		return nil
	}

	d := ch.Desired
	if err := e.prov.Deploy(ctx, d); err != nil {
		if ctx.Err() != nil || errors.Is(err, hostpkg.ErrUnreachable) {
			// Interrupted, or the server is gone: no log to wait for.
			return &StepError{Component: d.Address, Server: d.Server.Name, Err: err}
		}
		return &StepError{Component: d.Address, Server: d.Server.Name, Err: err, Log: e.logs(ctx, d)}
	}
	if err := e.waitHealthy(ctx, d); err != nil {
		return err
	}
	for _, o := range ch.Observed {
		moved := ch.Action == plan.Replace || o.Attributes["address"] != d.Attributes["address"]
		if ch.Action == plan.Replace {
			e.emit(ResourceProgress{Address: ch.Address, Action: ch.Action, Elapsed: time.Since(start), RemovingOld: o.Server})
			if err := e.prov.Remove(ctx, o); err != nil {
				return fmt.Errorf("%s: removing the old copy: %w", ch.Address, err)
			}
		}
		if moved {
			e.deregisterOld(ctx, o)
		}
	}
	return nil
}

// still reports the change as still at work every StillEvery until the
// returned function is called; that function returns once the reporting
// stopped, so no progress event follows the change's completion.
func (e *executor) still(ch *plan.Change, start time.Time) func() {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(e.opts.StillEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				e.emit(ResourceProgress{Address: ch.Address, Action: ch.Action, Elapsed: time.Since(start)})
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-exited
	}
}

// waitHealthy polls one component's check until the gate timeout of its level.
func (e *executor) waitHealthy(ctx context.Context, d *plan.Component) error {
	start := time.Now()
	// A server found unreachable ends the wait: its component cannot get
	// healthy before the gate's timeout, which may be minutes away.
	wctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	err := health.WaitFor(wctx, e.opts.Timeouts.forLevel(d.Level), e.opts.Poll, func(ctx context.Context) error {
		err := e.checker.Check(ctx, d)
		if errors.Is(err, hostpkg.ErrUnreachable) {
			stop(err)
		}
		return err
	})
	if err != nil {
		if cause := context.Cause(wctx); ctx.Err() == nil && errors.Is(cause, hostpkg.ErrUnreachable) {
			return &GateError{Gate: gateName(d.Level), Component: d.Address, Server: d.Server.Name, Err: cause}
		}
		err = gateWaitError(ctx, start, err)
		if ctx.Err() != nil {
			// Interrupted: leave at once, no log to fetch.
			return &GateError{Gate: gateName(d.Level), Component: d.Address, Server: d.Server.Name, Err: err}
		}
		return &GateError{Gate: gateName(d.Level), Component: d.Address, Server: d.Server.Name, Err: err, Log: e.logs(ctx, d)}
	}
	return nil
}

// gate checks every wanted component of a level, changed or not, before the
// next level starts.
func (e *executor) gate(ctx context.Context, level int, desired []*plan.Component) {
	var comps []*plan.Component
	for _, d := range desired {
		if d.Level == level {
			comps = append(comps, d)
		}
	}
	if len(comps) == 0 {
		return
	}
	name := gateName(level)
	start := time.Now()
	e.emit(GateStart{Gate: name, Count: len(comps)})
	var (
		wg    sync.WaitGroup
		sem   = make(chan struct{}, e.opts.Concurrency)
		once  sync.Once
		first *GateError
	)
	for _, d := range comps {
		wg.Add(1)
		go func(d *plan.Component) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := e.waitHealthy(ctx, d); err != nil {
				once.Do(func() { errors.As(err, &first) })
				e.fail(err)
			}
		}(d)
	}
	wg.Wait()
	if first != nil {
		e.emit(GateErrored{Gate: name, Count: len(comps), Elapsed: time.Since(start), Address: first.Component, Server: first.Server, Err: first.Err})
		return
	}
	if !e.stopped() {
		e.emit(GateComplete{Gate: name, Count: len(comps), Elapsed: time.Since(start)})
	}
}

func (e *executor) logs(ctx context.Context, d *plan.Component) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	out, err := e.prov.Logs(ctx, providers.Observed{Address: d.Address, Role: d.Role, Server: d.Server.Name, Port: d.Port}, e.opts.LogLines)
	if err != nil {
		return "(log unreadable: " + err.Error() + ")"
	}
	return out
}

// deregisterOld marks the registry rows of a worker that moved or went away
// unhealthy through every controller of the file that answers. The worker
// does so itself on SIGTERM; this covers one killed harder. Best effort.
func (e *executor) deregisterOld(ctx context.Context, o plan.Observed) {
	if o.Role != schema.RoleWorker {
		return
	}
	host, portStr, err := net.SplitHostPort(o.Attributes["address"])
	if err != nil {
		return
	}
	port, _ := strconv.Atoi(portStr)
	names := []string{dbgpt.WorkerManagerModelName}
	if m := o.Attributes["model"]; m != "" {
		names = append(names, m)
	}
	for _, ctl := range e.c.Controllers {
		cl := dbgpt.NewClient(e.hc.HTTP, ctl.URL())
		for _, n := range names {
			if err := cl.Deregister(ctx, dbgpt.NewInstance(n, host, port)); errors.Is(err, hostpkg.ErrUnreachable) {
				break // the controller's server is gone: the next name would wait as long
			}
		}
	}
}

// StepError is a failed deploy or remove of one component.
type StepError struct {
	Component string
	Server    string
	Err       error
	Log       string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s on server %s: %v", e.Component, e.Server, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// LogOf returns the log tail a failure carries, if any.
func LogOf(err error) (component, log string) {
	var ge *GateError
	if errors.As(err, &ge) {
		return ge.Component, ge.Log
	}
	var se *StepError
	if errors.As(err, &se) {
		return se.Component, se.Log
	}
	return "", ""
}
