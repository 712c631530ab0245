package drill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

// Deps are what the drill works with.
type Deps struct {
	Cluster  *schema.Cluster
	Provider providers.Provider // also a FaultInjector; a RegistryFaulter for the registry step
	Prober   Prober             // NewProber(health client through Provider, Cluster)
	// Healthy returns what keeps the cluster from full health now
	// (status's Degraded); empty means healthy.
	Healthy func(ctx context.Context) ([]string, error)
	// Tick is the pace of the checks; 0 means a second.
	Tick time.Duration
	// RestoreTimeout bounds starting a target again and waiting until it is
	// healthy; 0 means the apply's gate timeout of its kind.
	RestoreTimeout time.Duration
}

// ErrInterrupted wraps the cause of a drill ended by its context (Ctrl-C)
// after it restored what it took down.
var ErrInterrupted = errors.New("drill interrupted")

// Run drills the cluster: the precondition, then each step in turn; see
// the package doc. emit receives StepEvent and Check events (nil drops
// them). The report is returned also with an error (the steps so far);
// the error is nil when every step ran, whatever the verdicts.
func Run(ctx context.Context, d Deps, o Options, emit func(apply.Event)) (*Report, error) {
	if emit == nil {
		emit = func(apply.Event) {}
	}
	steps, err := Steps(d.Cluster, o)
	if err != nil {
		return nil, err
	}
	rep := &Report{Cluster: d.Cluster.Name, DryRun: o.DryRun}
	for _, s := range steps {
		rep.Steps = append(rep.Steps, StepReport{Target: s.Target, Kind: s.Kind, Mode: s.Mode, Verdict: VerdictNotRun, WindowSeconds: s.Window.Seconds()})
	}
	if err := capable(d.Provider, steps); err != nil {
		return nil, err
	}
	if o.DryRun {
		for i, s := range steps {
			rep.Steps[i].Verdict = VerdictPlanned
			emit(StepEvent{Step: i + 1, Steps: len(steps), Target: s.Target, Kind: s.Kind, Mode: s.Mode, Phase: PhasePlanned, Detail: Describe(d.Cluster, s)})
		}
		return rep, nil
	}
	problems, err := d.Healthy(ctx)
	if err != nil {
		return nil, fmt.Errorf("checking that the cluster is healthy before the drill: %w", err)
	}
	if len(problems) > 0 {
		if !o.Force {
			return nil, &RefusedError{Problems: problems}
		}
		rep.Notes = append(rep.Notes, "drilled with --force although: "+strings.Join(problems, "; "))
	}
	r := &runner{d: d, emit: emit, n: len(steps), tick: d.Tick}
	if r.tick <= 0 {
		r.tick = time.Second
	}
	for i, s := range steps {
		if ctx.Err() != nil {
			return rep, fmt.Errorf("%w before %s: %w", ErrInterrupted, s.Target, context.Cause(ctx))
		}
		if err := r.step(ctx, i, s, &rep.Steps[i]); err != nil {
			if rep.Steps[i].Verdict == VerdictNotRun {
				rep.Steps[i].Verdict = VerdictAborted
			}
			return rep, err
		}
	}
	rep.HA = true
	for _, s := range rep.Steps {
		rep.HA = rep.HA && s.Verdict == VerdictHA
	}
	return rep, nil
}

// capable refuses steps the provider cannot carry out.
func capable(p providers.Provider, steps []Step) error {
	for _, s := range steps {
		switch s.Kind {
		case KindRegistry:
			if _, ok := p.(providers.RegistryFaulter); !ok {
				return errors.New("target registry: hactl does not manage this cluster's registry database (an external database, or SQLite in the controllers' files), so it cannot stop it; drill the controllers and workers instead")
			}
		default:
			if _, ok := p.(providers.FaultInjector); !ok {
				return fmt.Errorf("target %s: this provider cannot take components down", s.Target)
			}
		}
	}
	return nil
}

// Describe says in one line what a step will do (the dry run's text).
func Describe(c *schema.Cluster, s Step) string {
	timeout, interval := Heartbeat(c.Controllers)
	switch s.Kind {
	case KindController:
		var names []string
		for _, o := range others(c, s.controller) {
			names = append(names, health.ControllerAddress(o))
		}
		if len(names) == 0 {
			return fmt.Sprintf("would %s %s and check every second for %s whether anything still serves; there is no other controller, so this step cannot prove HA; then start it again", s.Mode, s.Target, s.Window)
		}
		return fmt.Sprintf("would %s %s, check every second for %s (heartbeat timeout %s + interval %s) that every model stays listed and live through %s and that the webserver and API server answer, then start it again and wait until it is healthy and lists every model",
			s.Mode, s.Target, s.Window, timeout, interval, strings.Join(names, ", "))
	case KindWorker:
		return fmt.Sprintf("would kill %s, measure the time until every controller marks it unhealthy (expected %s to %s after its last heartbeat; given up after %s), then start it again and wait until it is live through every controller",
			s.Target, timeout, timeout+interval, s.Window)
	default:
		return fmt.Sprintf("would stop the registry database for %s, count what answers meanwhile, start it again and read each controller's log for the death of its heartbeat checker thread", s.Window)
	}
}

type runner struct {
	d    Deps
	emit func(apply.Event)
	n    int
	tick time.Duration
}

func (r *runner) event(i int, s Step, phase string, start time.Time, detail string) StepEvent {
	return StepEvent{Step: i + 1, Steps: r.n, Target: s.Target, Kind: s.Kind, Mode: s.Mode, Phase: phase,
		ElapsedSeconds: time.Since(start).Round(100 * time.Millisecond).Seconds(), Detail: detail}
}

func (r *runner) step(ctx context.Context, i int, s Step, sr *StepReport) error {
	var err error
	switch s.Kind {
	case KindController:
		err = r.controller(ctx, i, s, sr)
	case KindWorker:
		err = r.worker(ctx, i, s, sr)
	default:
		err = r.registry(ctx, i, s, sr)
	}
	if sr.Verdict == VerdictHA || sr.Verdict == VerdictNotHA {
		ev := r.event(i, s, PhaseVerdict, time.Now(), strings.Join(sr.Problems, "; "))
		ev.ElapsedSeconds, ev.Verdict = 0, sr.Verdict
		r.emit(ev)
	}
	return err
}

// observed finds the deployed copy of addr on its server.
func (r *runner) observed(ctx context.Context, addr string, server *schema.Server) (providers.Observed, error) {
	obs, err := r.d.Provider.Observe(ctx, r.d.Cluster)
	if err != nil {
		return providers.Observed{}, fmt.Errorf("observing the servers: %w", err)
	}
	for _, o := range obs {
		if o.Address == addr && (server == nil || o.Server == server.Name) {
			return o, nil
		}
	}
	return providers.Observed{}, fmt.Errorf("%s is not deployed: apply the cluster first", addr)
}

// restoreContext is the context restoring works with: not ended by the
// drill's (a Ctrl-C still restores), with a deadline of its own.
func restoreContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), timeout+30*time.Second)
}

// bringBack starts the target again with up and waits until ready passes,
// with a context of its own; it fills the report's restore figures.
func (r *runner) bringBack(ctx context.Context, i int, s Step, sr *StepReport, start, downAt time.Time, timeout time.Duration,
	up, ready func(context.Context) error) error {
	if r.d.RestoreTimeout > 0 {
		timeout = r.d.RestoreTimeout
	}
	rctx, cancel := restoreContext(ctx, timeout)
	defer cancel()
	upAt := time.Now()
	sr.DownSeconds = secs(upAt.Sub(downAt))
	if err := up(rctx); err != nil {
		msg := fmt.Sprintf("starting it again failed: %v ('hactl apply' starts it)", err)
		sr.Problems = append(sr.Problems, msg)
		r.emit(r.event(i, s, PhaseLeftDown, start, msg))
		return fmt.Errorf("%s is left down: starting it again failed: %w ('hactl apply' starts it)", s.Target, err)
	}
	r.emit(r.event(i, s, PhaseUp, start, ""))
	if err := health.WaitFor(rctx, timeout, r.tick, ready); err != nil {
		msg := fmt.Sprintf("started again but %v", err)
		sr.Problems = append(sr.Problems, msg)
		r.emit(r.event(i, s, PhaseLeftDown, start, msg))
		return fmt.Errorf("%s was started again but is %w ('hactl status' shows it, 'hactl apply' repairs it)", s.Target, err)
	}
	sr.Restored = true
	sr.RestoreSeconds = secs(time.Since(upAt))
	r.emit(r.event(i, s, PhaseRestored, start, fmt.Sprintf("healthy %s after it was started again", time.Since(upAt).Round(100*time.Millisecond))))
	return nil
}

// next is when the check after the one due at went: a tick later, or at
// once when the checks fell behind (a slow answer), never in a burst.
func (r *runner) next(at time.Time) time.Time {
	return maxTime(at.Add(r.tick), time.Now())
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sleep waits until next or ctx ends; false when ctx ended.
func sleep(ctx context.Context, until time.Time) bool {
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// interrupted is the error of a step whose checks ctx ended.
func interrupted(ctx context.Context, s Step) error {
	return fmt.Errorf("%w during %s: %w", ErrInterrupted, s.Target, context.Cause(ctx))
}

func (r *runner) controller(ctx context.Context, i int, s Step, sr *StepReport) (err error) {
	c := r.d.Cluster
	fi := r.d.Provider.(providers.FaultInjector)
	start := time.Now()
	o, err := r.observed(ctx, s.Target, s.controller.Server)
	if err != nil {
		return err
	}
	rest := others(c, s.controller)
	var names []string
	for _, ctl := range rest {
		names = append(names, health.ControllerAddress(ctl))
	}
	sr.Through = names
	ready := func(ctx context.Context) error { return r.d.Prober.ControllerReady(ctx, s.controller) }
	up := func(ctx context.Context) error { return fi.Up(ctx, o) }
	downAt := time.Now()
	if err := fi.Down(ctx, o, s.Mode); err != nil {
		// It may be half down: bring it back all the same.
		rerr := r.bringBack(ctx, i, s, sr, start, downAt, defaults.GateTimeoutControllers, up, ready)
		return errors.Join(fmt.Errorf("taking %s down: %w", s.Target, err), rerr)
	}
	r.emit(r.event(i, s, PhaseDown, start, ""))
	w := newWindow(c.Workers, names)
	defer func() {
		if rerr := r.bringBack(ctx, i, s, sr, start, downAt, defaults.GateTimeoutControllers, up, ready); rerr != nil {
			err = errors.Join(err, rerr)
			if sr.Verdict == VerdictNotRun {
				sr.Verdict = VerdictAborted
			}
		}
	}()
	// The window starts once it is down (taking it down takes a moment),
	// so the checks span all of it.
	upTo := time.Now()
	end := upTo.Add(s.Window)
	for at := upTo; !at.After(end); at = r.next(at) {
		if !sleep(ctx, at) {
			w.verdict(sr, false)
			sr.Verdict = VerdictAborted
			return interrupted(ctx, s)
		}
		ths, frontErr := r.probe(ctx, rest)
		if ctx.Err() != nil {
			w.verdict(sr, false)
			sr.Verdict = VerdictAborted
			return interrupted(ctx, s)
		}
		r.emit(w.add(i+1, s.Target, int(time.Since(downAt).Seconds()), ths, frontErr))
	}
	_, interval := Heartbeat(c.Controllers)
	w.verdict(sr, s.Window >= interval)
	return nil
}

// probe lists the rows through every controller of ctls and checks the
// frontends, at the same time.
func (r *runner) probe(ctx context.Context, ctls []*schema.Controller) ([]through, error) {
	pctx, cancel := context.WithTimeout(ctx, max(r.tick*5, 5*time.Second))
	defer cancel()
	ths := make([]through, len(ctls))
	done := make(chan struct{}, len(ctls)+1)
	var frontErr error
	for k, ctl := range ctls {
		go func() {
			rows, err := r.d.Prober.Rows(pctx, ctl)
			ths[k] = through{Controller: health.ControllerAddress(ctl), Rows: rows, Err: err}
			done <- struct{}{}
		}()
	}
	go func() {
		frontErr = r.d.Prober.Frontends(pctx)
		done <- struct{}{}
	}()
	for range len(ctls) + 1 {
		<-done
	}
	return ths, frontErr
}
