package drill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

func (r *runner) worker(ctx context.Context, i int, s Step, sr *StepReport) (err error) {
	c := r.d.Cluster
	wk := s.worker
	fi := r.d.Provider.(providers.FaultInjector)
	start := time.Now()
	o, err := r.observed(ctx, s.Target, wk.Server)
	if err != nil {
		return err
	}
	for _, ctl := range c.Controllers {
		sr.Through = append(sr.Through, health.ControllerAddress(ctl))
	}
	limit := defaults.GateTimeoutWorkers
	if wk.Model != nil && wk.Model.StartTimeout > 0 {
		limit = wk.Model.StartTimeout
	}
	up := func(ctx context.Context) error { return fi.Up(ctx, o) }
	ready := func(ctx context.Context) error { return r.d.Prober.WorkerReady(ctx, wk) }
	downAt := time.Now()
	if err := fi.Down(ctx, o, providers.FaultKill); err != nil {
		rerr := r.bringBack(ctx, i, s, sr, start, downAt, limit, up, ready)
		return errors.Join(fmt.Errorf("taking %s down: %w", s.Target, err), rerr)
	}
	r.emit(r.event(i, s, PhaseDown, start, ""))
	defer func() {
		if rerr := r.bringBack(ctx, i, s, sr, start, downAt, limit, up, ready); rerr != nil {
			err = errors.Join(err, rerr)
			if sr.Verdict == VerdictNotRun {
				sr.Verdict = VerdictAborted
			}
		}
	}()
	d := newDetection(sr.Through)
	// The window starts once it is down (taking it down takes a moment),
	// so the checks span all of it.
	upTo := time.Now()
	end := upTo.Add(s.Window)
	for at := upTo; !at.After(end); at = r.next(at) {
		if !sleep(ctx, at) {
			sr.Verdict = VerdictAborted
			return interrupted(ctx, s)
		}
		ths, frontErr := r.probe(ctx, c.Controllers)
		if ctx.Err() != nil {
			sr.Verdict = VerdictAborted
			return interrupted(ctx, s)
		}
		r.emit(d.add(i+1, s, int(time.Since(downAt).Seconds()), wk, ths, frontErr))
		if d.all() {
			break
		}
	}
	timeout, interval := Heartbeat(c.Controllers)
	d.verdict(sr, timeout, interval, r.tick)
	if sr.DetectSeconds != nil {
		r.emit(r.event(i, s, PhaseDetected, start, d.detail()))
	}
	return nil
}

func (r *runner) registry(ctx context.Context, i int, s Step, sr *StepReport) (err error) {
	c := r.d.Cluster
	rf := r.d.Provider.(providers.RegistryFaulter)
	start := time.Now()
	obs := make([]providers.Observed, len(c.Controllers))
	marks := make([]string, len(c.Controllers))
	for k, ctl := range c.Controllers {
		if obs[k], err = r.observed(ctx, health.ControllerAddress(ctl), ctl.Server); err != nil {
			return err
		}
		text, err := r.d.Provider.Logs(ctx, obs[k], 50)
		if err != nil {
			return fmt.Errorf("reading the log of %s before the drill: %w", obs[k].Address, err)
		}
		marks[k] = logMark(text)
		sr.Through = append(sr.Through, obs[k].Address)
	}
	ready := func(ctx context.Context) error {
		var errs []error
		for _, ctl := range c.Controllers {
			errs = append(errs, r.d.Prober.ControllerReady(ctx, ctl))
		}
		return errors.Join(errs...)
	}
	// The workers heartbeat again within an interval once it is back.
	_, interval := Heartbeat(c.Controllers)
	limit := defaults.GateTimeoutControllers + 2*interval
	downAt := time.Now()
	if err := rf.RegistryDown(ctx); err != nil {
		rerr := r.bringBack(ctx, i, s, sr, start, downAt, limit, rf.RegistryUp, ready)
		return errors.Join(fmt.Errorf("stopping the registry database: %w", err), rerr)
	}
	r.emit(r.event(i, s, PhaseDown, start, ""))
	defer func() {
		rerr := r.bringBack(ctx, i, s, sr, start, downAt, limit, rf.RegistryUp, ready)
		if rerr != nil {
			err = errors.Join(err, rerr)
			if sr.Verdict == VerdictNotRun {
				sr.Verdict = VerdictAborted
			}
			return
		}
		// Each controller's checker: read its log since the step began.
		rctx, cancel := restoreContext(ctx, 30*time.Second)
		defer cancel()
		for k, o := range obs {
			text, lerr := r.d.Provider.Logs(rctx, o, 10000)
			if lerr != nil {
				sr.Problems = append(sr.Problems, fmt.Sprintf("%s: its log could not be read (%v): whether its heartbeat checker survived is unknown", o.Address, lerr))
				continue
			}
			if why, died := CheckerDeath(sinceMark(text, marks[k])); died {
				sr.CheckerDied = append(sr.CheckerDied, o.Address)
				sr.Problems = append(sr.Problems, fmt.Sprintf("%s: its heartbeat checker thread died (%s): stale rows are never marked unhealthy until it restarts; 'hactl apply' restarts it ('hactl plan' shows it)", o.Address, why))
			}
		}
		if sr.Verdict != VerdictAborted {
			sr.Verdict = VerdictHA
			if len(sr.Problems) > 0 {
				sr.Verdict = VerdictNotHA
			}
		}
	}()
	ctlErrs := &ErrorCount{}
	sr.ControllerErrors = ctlErrs
	// The window starts once it is down (taking it down takes a moment),
	// so the checks span all of it.
	upTo := time.Now()
	end := upTo.Add(s.Window)
	for at := upTo; !at.After(end); at = r.next(at) {
		if !sleep(ctx, at) {
			sr.Verdict = VerdictAborted
			return interrupted(ctx, s)
		}
		ths, frontErr := r.probe(ctx, c.Controllers)
		if ctx.Err() != nil {
			sr.Verdict = VerdictAborted
			return interrupted(ctx, s)
		}
		ch := Check{Step: i + 1, Target: s.Target, Second: int(time.Since(downAt).Seconds()), Want: len(ths)}
		var errs []string
		for _, th := range ths {
			if th.Err != nil {
				ctlErrs.add(short(th.Err.Error()))
				errs = append(errs, short(th.Err.Error()))
				continue
			}
			ch.Live++
		}
		sr.Checks++
		if !ch.settle(errs, frontErr, &sr.WebserverErrors) {
			sr.FailedChecks++
		}
		r.emit(ch)
	}
	return nil
}

// detection gathers a worker step's checks: when each controller first
// showed the killed worker's row unhealthy, and its heartbeat's age then.
type detection struct {
	ctls   []string
	marked map[string]time.Duration
	checks int
	failed int
	web    ErrorCount
}

func newDetection(ctls []string) *detection {
	return &detection{ctls: ctls, marked: map[string]time.Duration{}}
}

func (d *detection) all() bool { return len(d.marked) == len(d.ctls) }

// add judges one second's listings. A controller marks the worker when
// its model row's healthy column is false (no healthy copy left).
func (d *detection) add(step int, s Step, second int, wk *schema.Worker, ths []through, frontErr error) Check {
	ch := Check{Step: step, Target: s.Target, Second: second, Want: len(ths)}
	var errs []string
	for _, th := range ths {
		if th.Err != nil {
			errs = append(errs, short(th.Err.Error()))
			continue
		}
		if _, ok := d.marked[th.Controller]; ok {
			continue
		}
		rows := findRows(th.Rows, wk.RegistryModelName(), wk)
		healthy := false
		age := time.Duration(-1)
		for _, r := range rows {
			healthy = healthy || r.Healthy
			age = max(age, r.Age)
		}
		if len(rows) > 0 && !healthy {
			d.marked[th.Controller] = age
			continue
		}
		ch.Live++
	}
	d.checks++
	if !ch.settle(errs, frontErr, &d.web) {
		d.failed++
	}
	return ch
}

// verdict: every controller marked it unhealthy, no sooner than the
// heartbeat timeout and no later than timeout + interval after its last
// heartbeat (tick: the checks' pace, their slack).
func (d *detection) verdict(sr *StepReport, timeout, interval, tick time.Duration) {
	sr.Checks, sr.FailedChecks, sr.WebserverErrors = d.checks, d.failed, d.web
	var longest time.Duration
	for _, ctl := range d.ctls {
		age, ok := d.marked[ctl]
		if !ok {
			sr.Problems = append(sr.Problems, fmt.Sprintf("%s did not mark it unhealthy within %s of the kill: its heartbeat checker may have died ('hactl plan' shows it, 'hactl apply' restarts it)", ctl, (timeout+2*interval).Round(time.Second)))
			continue
		}
		longest = max(longest, age)
		slack := tick + 2*time.Second
		switch {
		case age >= 0 && age < timeout-slack:
			sr.Problems = append(sr.Problems, fmt.Sprintf("%s marked it unhealthy %s after its last heartbeat, before the heartbeat timeout %s", ctl, age.Round(time.Second), timeout))
		case age > timeout+interval+slack:
			sr.Problems = append(sr.Problems, fmt.Sprintf("%s marked it unhealthy only %s after its last heartbeat, later than timeout + interval (%s)", ctl, age.Round(time.Second), timeout+interval))
		}
	}
	if d.all() {
		sr.DetectSeconds = secs(longest)
	}
	sr.Verdict = VerdictHA
	if len(sr.Problems) > 0 || d.failed > 0 {
		sr.Verdict = VerdictNotHA
	}
	if d.failed > 0 {
		sr.Problems = append(sr.Problems, fmt.Sprintf("%d of %d checks failed", d.failed, d.checks))
	}
}

func (d *detection) detail() string {
	var parts []string
	for _, ctl := range d.ctls {
		parts = append(parts, fmt.Sprintf("%s %s", ctl, d.marked[ctl].Round(time.Second)))
	}
	return "after its last heartbeat: " + strings.Join(parts, ", ")
}

// logMark is the end of a log read before the drill: its last three
// non-empty lines.
func logMark(text string) string {
	lines := slices.DeleteFunc(strings.Split(text, "\n"), func(l string) bool { return strings.TrimSpace(l) == "" })
	return strings.Join(lines[max(len(lines)-3, 0):], "\n")
}

// sinceMark is what text (a log read after the drill) has after mark;
// the whole text when mark is not found (the log was rotated).
func sinceMark(text, mark string) string {
	if mark == "" {
		return text
	}
	if k := strings.LastIndex(text, mark); k >= 0 {
		return text[k+len(mark):]
	}
	return text
}

// CheckerDeath finds DB-GPT's heartbeat checker traceback in a
// controller's log (providers.CheckerError) and returns its error line.
func CheckerDeath(log string) (string, bool) {
	why, died, _ := providers.CheckerError(strings.NewReader(log))
	if died && why == "" {
		why = "no error line"
	}
	return why, died
}
