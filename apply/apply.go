package apply

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	// MinPoll and Poll bound how often a wait for health checks again: a
	// wait checks every MinPoll at first and backs off as it goes on (a
	// fortieth of the time waited so far) up to Poll. 0 means 20ms and 1s.
	MinPoll, Poll time.Duration
	// LogLines is how many log lines a failure shows. 0 means 20.
	LogLines int
	// StillEvery is how often a long step says it is still at work. 0 means 10s.
	StillEvery time.Duration
	// WatchEvery is how often a gate asks the provider's supervisor
	// (providers.StartWatcher) how the process it waits for starts and
	// exits, for its progress lines; it also asks whenever the process's
	// port is found closed (at most every fifth of the time waited, and
	// every MinPoll×5 at first). 0 means 2s.
	WatchEvery time.Duration
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
	if o.MinPoll <= 0 {
		o.MinPoll = min(20*time.Millisecond, o.Poll)
	}
	if o.LogLines <= 0 {
		o.LogLines = 20
	}
	if o.StillEvery <= 0 {
		o.StillEvery = 10 * time.Second
	}
	if o.WatchEvery <= 0 {
		o.WatchEvery = 2 * time.Second
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
	hc      *health.Client         // for deregistrations
	watcher providers.StartWatcher // nil when the provider has none
	secrets []string
	// starting are the components the plan found still starting: their gate
	// timeout counts from their process's start.
	starting map[string]plan.Starting
	// slots bound the deploys and removals running at once (Concurrency);
	// waiting for health holds none.
	slots chan struct{}

	emitMu sync.Mutex

	mu     sync.Mutex
	failed bool
	errs   []error
	res    Result
}

func newExecutor(prov providers.Provider, c *schema.Cluster, opts Options) *executor {
	opts.defaults()
	e := &executor{prov: prov, c: c, opts: opts, checker: opts.Checker, starting: map[string]plan.Starting{},
		slots: make(chan struct{}, opts.Concurrency)}
	e.watcher, _ = prov.(providers.StartWatcher)
	if c != nil {
		e.secrets = c.Secrets()
	}
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
// next apply repairs whatever was left half done. A plan without changes
// but with components still starting (p.Waits) runs only the gates: it
// waits for them, it restarts nothing.
func Apply(ctx context.Context, prov providers.Provider, c *schema.Cluster, p *plan.Plan, opts Options) (Result, error) {
	e := newExecutor(prov, c, opts)
	if p.Empty() && !p.Waits() {
		return Result{}, nil
	}
	for _, s := range p.Starting {
		e.starting[s.Address] = s
	}
	if !opts.SkipPreflight {
		if err := Preflight(ctx, prov, c, p.Desired); err != nil {
			return Result{}, err
		}
	}
	deploys := 0
	// create is the registry's change when the plan has one: a create (of
	// the database or table), or an update of the database service the
	// provider runs (recreated with new settings by Ensure).
	var create *plan.Change
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
	// if it is not running). A registry update is carried out by the same
	// Ensure: the provider starts its database service with the file's
	// settings (compose recreates the container; the volume keeps the data)
	// and waits until it answers; the gates then check every component,
	// whose connections to the database were cut.
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
			e.count(func(r *Result) {
				if create.Action == plan.Update {
					r.Changed++
				} else {
					r.Added++
				}
			})
			e.emit(ResourceComplete{Address: create.Address, Action: create.Action, Elapsed: time.Since(start)})
		case announce:
			e.emit(RegistryComplete{Step: RegistryPrepare, Elapsed: time.Since(start)})
		}
	}

	// The gates run after any deploy, for components still starting, and
	// after a registry update (the database went away under every component).
	gates := deploys > 0 || p.Waits() || (create != nil && create.Action == plan.Update)
	for level := plan.LevelController; level <= plan.LevelFrontend && gates; level++ {
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

// runLanes runs the lanes side by side; within a step only the provider's
// work (deploy, remove) takes one of the Concurrency slots (see withSlot),
// so a component waiting to become healthy never holds up another's
// deploy.
func (e *executor) runLanes(ctx context.Context, lns [][]*plan.Change) {
	var wg sync.WaitGroup
	for _, lane := range lns {
		wg.Add(1)
		go func(lane []*plan.Change) {
			defer wg.Done()
			for _, ch := range lane {
				if e.stopped() || ctx.Err() != nil {
					if ctx.Err() != nil {
						e.fail(fmt.Errorf("%s: not applied: %w", ch.Address, ctx.Err()))
					}
					return
				}
				if err := e.step(ctx, ch); err != nil {
					e.fail(err)
					return
				}
			}
		}(lane)
	}
	wg.Wait()
}

// withSlot runs f holding one of the executor's Concurrency slots.
func (e *executor) withSlot(ctx context.Context, f func() error) error {
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-e.slots }()
	return f()
}

// step carries out one change and reports it: ResourceStart, then
// ResourceComplete or ResourceErrored.
func (e *executor) step(ctx context.Context, ch *plan.Change) error {
	start := time.Now()
	e.emit(ResourceStart{Address: ch.Address, Action: ch.Action, Server: ch.Server, OldServers: ch.OldServers, Reason: ch.Reason, Note: ch.Note})
	w := &waitState{}
	stop := e.every(e.opts.StillEvery, func() {
		waiting, last := w.get()
		e.emit(ResourceProgress{Address: ch.Address, Action: ch.Action, Elapsed: time.Since(start), Waiting: waiting, LogLine: last})
	})
	err := e.change(ctx, ch, start, w)
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

func (e *executor) change(ctx context.Context, ch *plan.Change, start time.Time, w *waitState) error {
	if ch.Action == plan.Destroy {
		for _, o := range ch.Observed {
			if err := e.withSlot(ctx, func() error { return e.prov.Remove(ctx, o) }); err != nil {
				return fmt.Errorf("%s: %w", ch.Address, err)
			}
			e.deregisterOld(ctx, o)
		}
		return nil
	}

	d := ch.Desired
	if err := e.withSlot(ctx, func() error { return e.prov.Deploy(ctx, d) }); err != nil {
		if ctx.Err() != nil || errors.Is(err, hostpkg.ErrUnreachable) {
			// Interrupted, or the server is gone: no log to wait for.
			return &StepError{Component: d.Address, Server: d.Server.Name, Err: err}
		}
		return &StepError{Component: d.Address, Server: d.Server.Name, Err: err, Log: e.logs(ctx, d)}
	}
	if err := e.waitHealthy(ctx, d, w, true); err != nil {
		return err
	}
	for _, o := range ch.Observed {
		moved := ch.Action == plan.Replace || o.Attributes["address"] != d.Attributes["address"]
		if ch.Action == plan.Replace {
			e.emit(ResourceProgress{Address: ch.Address, Action: ch.Action, Elapsed: time.Since(start), RemovingOld: o.Server})
			if err := e.withSlot(ctx, func() error { return e.prov.Remove(ctx, o) }); err != nil {
				return fmt.Errorf("%s: removing the old copy: %w", ch.Address, err)
			}
		}
		if moved {
			e.deregisterOld(ctx, o)
		}
	}
	return nil
}

// every calls f every period until the returned function is called; that
// function returns once the calls stopped, so none follows the work it
// reports on.
func (e *executor) every(period time.Duration, f func()) func() {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-exited
	}
}

// waitState is what a wait for one component last learnt, for its
// progress lines: what is awaited (from the last failed check) and the
// last line the process logged.
type waitState struct {
	mu       sync.Mutex
	waiting  string
	lastLine string
}

func (w *waitState) set(waiting, lastLine string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if waiting != "" {
		w.waiting = waiting
	}
	if lastLine != "" {
		w.lastLine = lastLine
	}
}

func (w *waitState) get() (waiting, lastLine string) {
	if w == nil {
		return "", ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.waiting, w.lastLine
}

// awaited says what a failed check waits for: "waiting for glm to
// register through c1, c2", or the check's reason.
func awaited(err error) string {
	var a *health.Awaiting
	if errors.As(err, &a) && a.What != "" {
		return "waiting for " + a.What
	}
	return "last check: " + shortReason(err)
}

// waitHealthy checks one component until it serves or its gate timeout
// (Timeouts.For) passes, counted from its process's start when the plan
// found it already starting, else from now. It checks often at first and
// backs off (nextCheck); every wait checks at the same instants, so that
// the controllers' listings, which every worker's check reads, are fetched
// once per instant for all of them (health.ShareSince). Meanwhile it asks
// the provider's supervisor how the process fares: at once whenever the
// process's port is found closed, and every WatchEvery. A process that
// keeps exiting soon after its start fails the wait at once (a
// CrashLoopError with the failed attempt's error lines); one this apply
// has just deployed (deployed) fails it at its first exit. w, when not
// nil, receives what the wait learns, for progress lines.
func (e *executor) waitHealthy(ctx context.Context, d *plan.Component, w *waitState, deployed bool) error {
	start := time.Now()
	limit := e.opts.Timeouts.For(d)
	deadline := start.Add(limit)
	s, wasStarting := e.starting[d.Address]
	if wasStarting && !s.StartedAt.IsZero() && s.StartedAt.Before(start) {
		// At least one real check, also when its time ran out since the plan.
		deadline = later(s.StartedAt.Add(limit), start.Add(e.opts.RequestTimeout))
	}
	gateErr := func(err error, log string) error {
		return &GateError{Gate: gateName(d.Level), Component: d.Address, Server: d.Server.Name, Err: err, Log: log}
	}
	// A server found unreachable ends the wait: its component cannot get
	// healthy before the gate's timeout, which may be minutes away.
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var (
		last      error
		tick      = start
		watching  bool
		watched   = make(chan providers.Starts, 1)
		nextWatch = start.Add(e.opts.WatchEvery)
		lastWatch time.Time
	)
	watch := func() {
		watching, lastWatch = true, time.Now()
		go func() {
			st, err := e.watcher.Starts(dctx, d)
			if err != nil {
				st = providers.Starts{Running: true} // nothing learnt
			}
			watched <- st
		}()
	}
	for {
		last = e.checker.Check(health.ShareSince(dctx, tick), d)
		if last == nil {
			return nil
		}
		if errors.Is(last, hostpkg.ErrUnreachable) && ctx.Err() == nil {
			return gateErr(last, "")
		}
		w.set(awaited(last), "")
		now := time.Now()
		// A closed port asks the supervisor at once, then no more often
		// than every fifth of the time waited (each ask is a command on
		// the server): an exit is seen within a fifth of the wait.
		refusedGap := max(5*e.opts.MinPoll, now.Sub(start)/5)
		if e.watcher != nil && !watching && dctx.Err() == nil &&
			(!now.Before(nextWatch) || errors.Is(last, syscall.ECONNREFUSED) && now.Sub(lastWatch) >= refusedGap) {
			nextWatch = now.Add(e.opts.WatchEvery)
			watch()
		}
		for {
			tick = e.nextCheck(start, time.Now())
			t := time.NewTimer(time.Until(tick))
			select {
			case <-dctx.Done():
				t.Stop()
			case st := <-watched:
				t.Stop()
				watching = false
				w.set("", e.redact(st.LastLine))
				if cl := crashLoop(st, deployed); cl != nil {
					cl.Component, cl.Server = d.Address, d.Server.Name
					for i, l := range cl.ErrorLines {
						cl.ErrorLines[i] = e.redact(l)
					}
					return gateErr(cl, strings.Join(cl.ErrorLines, "\n"))
				}
				continue
			case <-t.C:
			}
			break
		}
		if dctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		// Interrupted: leave at once, no log to fetch.
		return gateErr(gateWaitError(ctx, start, last), "")
	}
	var err error
	if wasStarting && deadline.Before(start.Add(limit)) {
		err = fmt.Errorf("not healthy %s after its start (start timeout %s): %w", plan.ShortDuration(time.Since(s.StartedAt)), plan.ShortDuration(limit), last)
	} else {
		err = fmt.Errorf("not healthy after %s: %w", limit.Round(time.Second), last)
	}
	return gateErr(err, e.redact(e.logs(ctx, d)))
}

// nextCheck is when a wait that began at start checks next: at the next
// multiple (in wall-clock time) of its period, which is MinPoll doubled
// while that stays within a fortieth of the time waited and within Poll. A
// check thus comes at most 2.5 % of the wait (or MinPoll) after the moment
// the component became healthy, and waits of different ages still meet at
// the multiples of their periods. (A tenth was measurably late: a worker
// healthy after 2 s was seen up to 160 ms after.)
func (e *executor) nextCheck(start, now time.Time) time.Time {
	q := e.opts.MinPoll
	for 2*q <= e.opts.Poll && 2*q <= now.Sub(start)/40 {
		q *= 2
	}
	return now.Truncate(q).Add(q)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (e *executor) redact(s string) string {
	for _, v := range e.secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "(sensitive)")
		}
	}
	return s
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
		once  sync.Once
		first *GateError
	)
	for _, d := range comps {
		wg.Add(1)
		go func(d *plan.Component) {
			defer wg.Done()
			// A component the gate waits for (one still starting, or one
			// that fell ill since its step) says so as a step would.
			w := &waitState{}
			began := time.Now()
			if s, ok := e.starting[d.Address]; ok && !s.StartedAt.IsZero() && s.StartedAt.Before(began) {
				began = s.StartedAt
			}
			stop := e.every(e.opts.StillEvery, func() {
				waiting, last := w.get()
				e.emit(GateWaiting{Gate: name, Address: d.Address, Server: d.Server.Name, Elapsed: time.Since(began),
					Timeout: e.opts.Timeouts.For(d), Waiting: waiting, LogLine: last})
			})
			err := e.waitHealthy(ctx, d, w, false)
			stop()
			if err != nil {
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
