package drill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/schema"
)

// Prober is what the drill asks of the cluster while it runs. NewProber's
// goes through internal/health, dialling through the provider; a unit
// test's fake answers from a script.
type Prober interface {
	// Rows lists the registry rows through ctl, judged with its clock and
	// heartbeat timeout.
	Rows(ctx context.Context, ctl *schema.Controller) ([]health.Row, error)
	// Frontends checks that the webserver and the API server answer (the
	// light webserver's model list, the API server's /api/v1/models); nil
	// when the file has neither.
	Frontends(ctx context.Context) error
	// ControllerReady: ctl answers /api/health, lists its registry and
	// every declared worker's rows are live through it.
	ControllerReady(ctx context.Context, ctl *schema.Controller) error
	// WorkerReady: health.CheckWorker, the worker live through every
	// controller.
	WorkerReady(ctx context.Context, w *schema.Worker) error
}

// NewProber checks c through cl (a health.Client dialling through the
// provider).
func NewProber(cl *health.Client, c *schema.Cluster) Prober {
	return &healthProber{cl: cl, c: c}
}

type healthProber struct {
	cl *health.Client
	c  *schema.Cluster
}

func (p *healthProber) Rows(ctx context.Context, ctl *schema.Controller) ([]health.Row, error) {
	return health.JudgeThrough(ctx, p.cl, ctl, nil)
}

func (p *healthProber) Frontends(ctx context.Context) error {
	return errors.Join(health.CheckWebserver(ctx, p.cl, p.c), health.CheckAPIServer(ctx, p.cl, p.c))
}

func (p *healthProber) ControllerReady(ctx context.Context, ctl *schema.Controller) error {
	if err := health.ControllerAlive(ctx, p.cl, ctl); err != nil {
		return err
	}
	rows, err := health.JudgeThrough(ctx, p.cl, ctl, nil)
	if err != nil {
		return err
	}
	var errs []error
	for _, w := range p.c.Workers {
		if err := health.WorkerRowsProblem(rows, w, health.HeartbeatTimeout(ctl)); err != nil {
			errs = append(errs, fmt.Errorf("through %s: %w", health.ControllerAddress(ctl), err))
		}
	}
	return errors.Join(errs...)
}

func (p *healthProber) WorkerReady(ctx context.Context, w *schema.Worker) error {
	return health.CheckWorker(ctx, p.cl, p.c, w)
}

// through is one controller's listing in one second's checks.
type through struct {
	Controller string // address, controller.NAME
	Rows       []health.Row
	Err        error
}

// rowNames are the two rows every worker registers.
func rowNames(w *schema.Worker) []string {
	return []string{w.RegistryModelName(), dbgpt.WorkerManagerModelName}
}

// findRows picks the rows of one of a worker's names.
func findRows(rows []health.Row, name string, w *schema.Worker) []health.Row {
	var out []health.Row
	for _, r := range rows {
		if r.ModelName == name && r.Host == w.Server.Address && r.Port == w.Port {
			out = append(out, r)
		}
	}
	return out
}

// window gathers a controller step's checks: one add a second while the
// controller is down, then verdict.
type window struct {
	workers []*schema.Worker
	// through are the controllers the checks go through (address).
	through []string

	checks, failed int
	maxAge         time.Duration
	ageSeen        bool
	firstFail      string
	web            ErrorCount
	lastWebErr     bool // the last check's frontends failed
	// beats: per "controller|row key" the first and the last heartbeat seen.
	beats map[string]*[2]time.Time
	order []string
}

func newWindow(workers []*schema.Worker, through []string) *window {
	return &window{workers: workers, through: through, beats: map[string]*[2]time.Time{}}
}

// add judges one second's listings and the frontends' answer.
func (w *window) add(step int, target string, second int, ths []through, frontErr error) Check {
	c := Check{Step: step, Target: target, Second: second}
	var errs []string
	if len(ths) == 0 {
		errs = append(errs, "no controller is left to list the models")
	}
	for _, th := range ths {
		if th.Err != nil {
			errs = append(errs, short(th.Err.Error()))
			continue
		}
		for _, wk := range w.workers {
			for _, name := range rowNames(wk) {
				c.Want++
				rows := findRows(th.Rows, name, wk)
				what := fmt.Sprintf("%s at %s", name, health.WorkerEndpoint(wk))
				if len(rows) == 0 {
					errs = append(errs, fmt.Sprintf("%s not listed through %s", what, th.Controller))
					continue
				}
				best := rows[0]
				for _, r := range rows {
					if r.Liveness == health.Live {
						best = r
						break
					}
				}
				if best.Age >= 0 {
					w.maxAge = max(w.maxAge, best.Age)
					w.ageSeen = true
				}
				if best.LastHeartbeat != nil {
					key := th.Controller + "|" + name + " at " + health.WorkerEndpoint(wk)
					b, ok := w.beats[key]
					if !ok {
						b = &[2]time.Time{best.LastHeartbeat.Time, best.LastHeartbeat.Time}
						w.beats[key] = b
						w.order = append(w.order, key)
					}
					b[1] = best.LastHeartbeat.Time
				}
				if best.Liveness != health.Live {
					age := "no heartbeat"
					if best.Age >= 0 {
						age = "last heartbeat " + best.Age.Round(time.Second).String() + " ago"
					}
					errs = append(errs, fmt.Sprintf("%s %s through %s (%s)", what, best.Liveness, th.Controller, age))
					continue
				}
				c.Live++
			}
		}
	}
	w.lastWebErr = frontErr != nil
	w.checks++
	if !c.settle(errs, frontErr, &w.web) {
		w.failed++
		if w.firstFail == "" {
			w.firstFail = fmt.Sprintf("at %ds: %s", second, errs[0])
		}
	}
	if w.ageSeen {
		c.MaxHeartbeatAgeSeconds = secs(w.maxAge)
	}
	return c
}

// verdict fills the step's figures and says whether the window proved
// the cluster HA: controllers left to serve, every check passed, every
// row's heartbeat advanced (when the window was long enough for one).
func (w *window) verdict(sr *StepReport, windowLongEnough bool) {
	sr.Checks, sr.FailedChecks = w.checks, w.failed
	sr.WebserverErrors = w.web
	if w.ageSeen {
		sr.MaxHeartbeatAgeSeconds = secs(w.maxAge)
	}
	var problems []string
	if len(w.through) == 0 {
		problems = append(problems, "no other controller: while "+sr.Target+" is down no controller serves the registry")
	}
	if w.failed > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d checks failed; the first %s", w.failed, w.checks, w.firstFail))
	}
	if windowLongEnough {
		for _, key := range w.order {
			if b := w.beats[key]; !b[1].After(b[0]) {
				ctl, row, _ := strings.Cut(key, "|")
				problems = append(problems, fmt.Sprintf("the heartbeats of %s did not advance through %s", row, ctl))
			}
		}
	}
	// A failed answer at the switch is what DB-GPT's clients do (they
	// pick a healthy controller on their next probe): counted, not a
	// verdict. Still failing at the window's end is.
	if w.lastWebErr {
		problems = append(problems, fmt.Sprintf("the webserver or API server still failed at the end of the window (%d failures, the last: %s)", w.web.Count, w.web.Last))
	}
	sr.Problems = append(sr.Problems, problems...)
	if len(problems) == 0 && w.checks > 0 {
		sr.Verdict = VerdictHA
	} else {
		sr.Verdict = VerdictNotHA
	}
}

func short(s string) string {
	if len(s) > 240 {
		return s[:240] + "..."
	}
	return s
}

// settle finishes a check from the errors of its listings and the
// frontends' answer (counted in web): it passed when no listing failed,
// which it returns.
func (c *Check) settle(errs []string, frontErr error, web *ErrorCount) bool {
	if frontErr != nil {
		c.WebserverError = short(frontErr.Error())
		web.add(c.WebserverError)
	}
	if len(errs) > 0 {
		c.Errors = errs[:min(len(errs), 3)]
	}
	c.OK = len(errs) == 0
	return c.OK
}
