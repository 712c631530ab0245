package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

// Options tune an apply or a destroy.
type Options struct {
	// Concurrency bounds how many components are worked on at once within a
	// level. 0 means 4.
	Concurrency int
	// Out receives the progress lines. nil = discard.
	Out io.Writer
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
	// deregistration. 0 means 5s.
	RequestTimeout time.Duration
	// SkipPreflight: the caller already ran Preflight for this plan.
	SkipPreflight bool
	// OnEvent, when set, receives every progress event (as well as Out
	// its text line), e.g. for JSON output.
	OnEvent func(Event)
}

// Event is one progress event of an apply or a destroy.
type Event struct {
	// Type is apply_start, apply_progress, apply_complete (one component),
	// registry or gate.
	Type    string
	Address string      // component address; "registry"; the gate's name
	Action  plan.Action // for component events
	Elapsed time.Duration
	Message string // the text line, as printed to Out
}

func (o *Options) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Out == nil {
		o.Out = io.Discard
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
		o.RequestTimeout = 5 * time.Second
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

	outMu sync.Mutex

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

func (e *executor) emit(typ, addr string, action plan.Action, start time.Time, format string, a ...any) {
	ev := Event{Type: typ, Address: addr, Action: action, Message: fmt.Sprintf(format, a...)}
	if !start.IsZero() {
		ev.Elapsed = time.Since(start)
	}
	e.outMu.Lock()
	defer e.outMu.Unlock()
	fmt.Fprintln(e.opts.Out, ev.Message)
	if e.opts.OnEvent != nil {
		e.opts.OnEvent(ev)
	}
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
	// complete or could not check it.
	if create != nil || (deploys > 0 && c.Registry != nil && dbgpt.HasDatabase(c.Registry.Type)) {
		start := time.Now()
		if create != nil {
			e.emit("apply_start", create.Address, create.Action, time.Time{}, "registry: Creating... (%s)", create.Note)
		} else {
			e.emit("registry", "registry", "", time.Time{}, "registry: Preparing...")
		}
		if err := prov.Registry(c).Ensure(ctx); err != nil {
			return Result{}, fmt.Errorf("preparing the registry: %w", err)
		}
		if create != nil {
			e.count(func(r *Result) { r.Added++ })
			e.emit("apply_complete", create.Address, create.Action, start, "registry: Creation complete after %s", since(start))
		} else {
			e.emit("registry", "registry", "", start, "registry: Ready after %s", since(start))
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

var verbs = map[plan.Action][3]string{
	plan.Create:  {"Creating...", "Still creating...", "Creation complete"},
	plan.Update:  {"Modifying...", "Still modifying...", "Modifications complete"},
	plan.Replace: {"Replacing...", "Still replacing...", "Replacement complete"},
	plan.Destroy: {"Destroying...", "Still destroying...", "Destruction complete"},
}

func (e *executor) step(ctx context.Context, ch *plan.Change) error {
	v := verbs[ch.Action]
	start := time.Now()
	detail := ""
	switch {
	case ch.Action == plan.Replace:
		detail = fmt.Sprintf(" (on %s, was on %s)", ch.Server, strings.Join(ch.OldServers, ", "))
	case ch.Action == plan.Destroy:
		detail = " (on " + ch.Server + ")"
	case ch.Reason != "":
		detail = " (" + ch.Reason + ")"
	}
	e.emit("apply_start", ch.Address, ch.Action, time.Time{}, "%s: %s%s", ch.Address, v[0], detail)
	stop := e.still(ch, v[1], start)
	defer stop()

	if ch.Action == plan.Destroy {
		for _, o := range ch.Observed {
			if err := e.prov.Remove(ctx, o); err != nil {
				return fmt.Errorf("%s: %w", ch.Address, err)
			}
			e.deregisterOld(ctx, o)
		}
		stop()
		e.count(func(r *Result) { r.Destroyed++ })
		e.emit("apply_complete", ch.Address, ch.Action, start, "%s: %s after %s", ch.Address, v[2], since(start))
		return nil
	}

	d := ch.Desired
	if err := e.prov.Deploy(ctx, d); err != nil {
		return &StepError{Component: d.Address, Server: d.Server.Name, Err: err, Log: e.logs(ctx, d)}
	}
	if err := e.waitHealthy(ctx, d); err != nil {
		return err
	}
	for _, o := range ch.Observed {
		moved := ch.Action == plan.Replace || o.Attributes["address"] != d.Attributes["address"]
		if ch.Action == plan.Replace {
			e.emit("apply_progress", ch.Address, ch.Action, start, "%s: Destroying the old copy on %s...", ch.Address, o.Server)
			if err := e.prov.Remove(ctx, o); err != nil {
				return fmt.Errorf("%s: removing the old copy: %w", ch.Address, err)
			}
		}
		if moved {
			e.deregisterOld(ctx, o)
		}
	}
	stop()
	e.count(func(r *Result) {
		switch ch.Action {
		case plan.Create:
			r.Added++
		case plan.Update:
			r.Changed++
		case plan.Replace:
			r.Added++
			r.Destroyed++
		}
	})
	e.emit("apply_complete", ch.Address, ch.Action, start, "%s: %s after %s", ch.Address, v[2], since(start))
	return nil
}

// still prints a "Still ..." line every StillEvery until the returned
// function is called.
func (e *executor) still(ch *plan.Change, msg string, start time.Time) func() {
	done := make(chan struct{})
	var once sync.Once
	go func() {
		t := time.NewTicker(e.opts.StillEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				e.emit("apply_progress", ch.Address, ch.Action, start, "%s: %s [%s elapsed]", ch.Address, msg, since(start))
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

// waitHealthy polls one component's check until the gate timeout of its level.
func (e *executor) waitHealthy(ctx context.Context, d *plan.Component) error {
	err := health.WaitFor(ctx, e.opts.Timeouts.forLevel(d.Level), e.opts.Poll, func(ctx context.Context) error {
		return e.checker.Check(ctx, d)
	})
	if err != nil {
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
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, e.opts.Concurrency)
	for _, d := range comps {
		wg.Add(1)
		go func(d *plan.Component) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := e.waitHealthy(ctx, d); err != nil {
				e.fail(err)
			}
		}(d)
	}
	wg.Wait()
	if !e.stopped() {
		e.emit("gate", gateName(level), "", start, "gate %s: %d healthy after %s", gateName(level), len(comps), since(start))
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
			_ = cl.Deregister(ctx, dbgpt.NewInstance(n, host, port))
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

func since(t time.Time) string {
	d := time.Since(t)
	if d < time.Second {
		return "0s"
	}
	return d.Round(time.Second).String()
}
