package drill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

func testCluster(nCtl int) *schema.Cluster {
	s1 := &schema.Server{Name: "s1", Address: "10.0.0.1"}
	s2 := &schema.Server{Name: "s2", Address: "10.0.0.2"}
	s3 := &schema.Server{Name: "s3", Address: "10.0.0.3"}
	c := &schema.Cluster{Name: "t", Servers: []*schema.Server{s1, s2, s3}}
	for i, s := range []*schema.Server{s1, s2}[:nCtl] {
		c.Controllers = append(c.Controllers, &schema.Controller{Name: "c" + string(rune('1'+i)), Server: s, Port: 8000,
			HeartbeatIntervalSecs: 1, HeartbeatTimeoutSecs: 2})
	}
	c.Workers = []*schema.Worker{{Name: "llm", Server: s3, Port: 8001, Model: &schema.Model{Name: "glm", WorkerType: "llm"}}}
	return c
}

func TestStepsOrderAndRefusals(t *testing.T) {
	c := testCluster(2)
	steps, err := Steps(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range steps {
		got = append(got, s.Target+"/"+string(s.Mode)+"/"+s.Window.String())
	}
	if want := []string{"controller.c1/stop/3s", "controller.c2/stop/3s"}; !slices.Equal(got, want) {
		t.Errorf("default steps %v, want %v", got, want)
	}
	steps, err = Steps(c, Options{Targets: []string{"registry", "worker.llm", "controller.c2"}, Mode: providers.FaultKill})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, s := range steps {
		got = append(got, s.Kind+"/"+string(s.Mode)+"/"+s.Window.String())
	}
	// registry: 2 × (2s + 1s); worker: always killed, given up after timeout + 2 intervals + 5s.
	if want := []string{"registry/stop/6s", "worker/kill/9s", "controller/kill/3s"}; !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	for _, o := range []Options{
		{Targets: []string{"controller.nope"}},
		{Targets: []string{"webserver"}},
		{Targets: []string{"worker.llm", "worker.llm"}},
		{Mode: "pause"},
	} {
		if _, err := Steps(c, o); err == nil {
			t.Errorf("Steps(%+v) accepted", o)
		}
	}
	if _, err := Steps(c, Options{Targets: []string{"controller.nope"}}); err == nil || !strings.Contains(err.Error(), "controller.c1, controller.c2, worker.llm, registry") {
		t.Errorf("unknown target's error does not list the targets: %v", err)
	}
}

// rows makes the two live rows of c's worker with a heartbeat at hb.
func rows(c *schema.Cluster, hb time.Time, liveness health.Liveness, age time.Duration) []health.Row {
	w := c.Workers[0]
	var out []health.Row
	for _, n := range rowNames(w) {
		i := dbgpt.NewInstance(n, w.Server.Address, w.Port)
		i.Healthy = liveness == health.Live
		i.LastHeartbeat = &dbgpt.Time{Time: hb}
		out = append(out, health.Row{Instance: i, Age: age, Liveness: liveness})
	}
	return out
}

func TestWindowVerdicts(t *testing.T) {
	c := testCluster(2)
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	t.Run("ha", func(t *testing.T) {
		w := newWindow(c.Workers, []string{"controller.c2"})
		for s := range 4 {
			ch := w.add(1, "controller.c1", s, []through{{Controller: "controller.c2", Rows: rows(c, t0.Add(time.Duration(s/2)*time.Second), health.Live, time.Duration(s%2)*time.Second)}}, nil)
			if !ch.OK || ch.Live != 2 || ch.Want != 2 {
				t.Fatalf("check %d: %+v", s, ch)
			}
		}
		sr := StepReport{Target: "controller.c1"}
		w.verdict(&sr, true)
		if sr.Verdict != VerdictHA || sr.Checks != 4 || sr.FailedChecks != 0 || *sr.MaxHeartbeatAgeSeconds != 1 || len(sr.Problems) != 0 {
			t.Errorf("report %+v", sr)
		}
	})
	t.Run("stale and frontend errors", func(t *testing.T) {
		w := newWindow(c.Workers, []string{"controller.c2"})
		w.add(1, "controller.c1", 0, []through{{Controller: "controller.c2", Rows: rows(c, t0, health.Live, time.Second)}}, nil)
		ch := w.add(1, "controller.c1", 3, []through{{Controller: "controller.c2", Rows: rows(c, t0, health.Stale, 3*time.Second)}}, errors.New("webserver: boom 1"))
		if ch.OK || len(ch.Errors) != 2 || ch.WebserverError != "webserver: boom 1" || !strings.Contains(ch.Errors[0], "glm@llm at 10.0.0.3:8001 stale through controller.c2 (last heartbeat 3s ago)") {
			t.Errorf("failed check %+v", ch)
		}
		w.add(1, "controller.c1", 4, []through{{Controller: "controller.c2", Err: errors.New("controller.c2: refused")}}, errors.New("webserver: boom 2"))
		sr := StepReport{Target: "controller.c1"}
		w.verdict(&sr, true)
		if sr.Verdict != VerdictNotHA || sr.FailedChecks != 2 || sr.WebserverErrors != (ErrorCount{2, "webserver: boom 1", "webserver: boom 2"}) {
			t.Errorf("report %+v", sr)
		}
		all := strings.Join(sr.Problems, "\n")
		for _, want := range []string{"2 of 3 checks failed; the first at 3s: glm@llm", "heartbeats of glm@llm at 10.0.0.3:8001 did not advance through controller.c2", "still failed at the end of the window (2 failures, the last: webserver: boom 2)"} {
			if !strings.Contains(all, want) {
				t.Errorf("problems lack %q:\n%s", want, all)
			}
		}
	})
	t.Run("a webserver error at the switch is counted, not a verdict", func(t *testing.T) {
		w := newWindow(c.Workers, []string{"controller.c2"})
		for s := range 3 {
			var web error
			if s == 0 {
				web = errors.New("webserver: E0003")
			}
			ch := w.add(1, "controller.c1", s, []through{{Controller: "controller.c2", Rows: rows(c, t0.Add(time.Duration(s)*time.Second), health.Live, 0)}}, web)
			if !ch.OK {
				t.Fatalf("check %d failed: %+v", s, ch)
			}
		}
		sr := StepReport{Target: "controller.c1"}
		w.verdict(&sr, true)
		if sr.Verdict != VerdictHA || sr.WebserverErrors.Count != 1 || sr.WebserverErrors.First != "webserver: E0003" {
			t.Errorf("report %+v", sr)
		}
	})
	t.Run("no other controller", func(t *testing.T) {
		w := newWindow(c.Workers, nil)
		ch := w.add(1, "controller.c1", 0, nil, nil)
		if ch.OK {
			t.Errorf("a check through no controller passed")
		}
		sr := StepReport{Target: "controller.c1"}
		w.verdict(&sr, true)
		if sr.Verdict != VerdictNotHA || !strings.Contains(sr.Problems[0], "no other controller") {
			t.Errorf("report %+v", sr)
		}
	})
}

func TestDetectionVerdicts(t *testing.T) {
	c := testCluster(2)
	timeout, interval := 60*time.Second, 20*time.Second
	s := Step{Target: "worker.llm", Kind: KindWorker}
	ctls := []string{"controller.c1", "controller.c2"}
	healthyRows := rows(c, time.Now(), health.Live, 5*time.Second)
	marked := func(age time.Duration) []health.Row {
		r := rows(c, time.Now(), health.Stale, age)
		for i := range r {
			r[i].Healthy = false
		}
		return r
	}
	t.Run("within the window", func(t *testing.T) {
		d := newDetection(ctls)
		ch := d.add(1, s, 50, c.Workers[0], []through{{Controller: "controller.c1", Rows: healthyRows}, {Controller: "controller.c2", Rows: healthyRows}}, nil)
		if ch.Live != 2 || d.all() {
			t.Fatalf("%+v", ch)
		}
		d.add(1, s, 60, c.Workers[0], []through{{Controller: "controller.c1", Rows: marked(62 * time.Second)}, {Controller: "controller.c2", Rows: healthyRows}}, nil)
		// A later listing does not move c1's figure.
		d.add(1, s, 75, c.Workers[0], []through{{Controller: "controller.c1", Rows: marked(77 * time.Second)}, {Controller: "controller.c2", Rows: marked(76 * time.Second)}}, nil)
		if !d.all() {
			t.Fatal("not all marked")
		}
		sr := StepReport{}
		d.verdict(&sr, timeout, interval, time.Second)
		if sr.Verdict != VerdictHA || *sr.DetectSeconds != 76 || len(sr.Problems) != 0 {
			t.Errorf("report %+v", sr)
		}
		if got := d.detail(); got != "after its last heartbeat: controller.c1 1m2s, controller.c2 1m16s" {
			t.Errorf("detail %q", got)
		}
	})
	t.Run("never marked, too early", func(t *testing.T) {
		d := newDetection(ctls)
		d.add(1, s, 10, c.Workers[0], []through{{Controller: "controller.c1", Rows: marked(12 * time.Second)}, {Controller: "controller.c2", Rows: healthyRows}}, nil)
		sr := StepReport{}
		d.verdict(&sr, timeout, interval, time.Second)
		all := strings.Join(sr.Problems, "\n")
		if sr.Verdict != VerdictNotHA || sr.DetectSeconds != nil ||
			!strings.Contains(all, "controller.c1 marked it unhealthy 12s after its last heartbeat, before the heartbeat timeout 1m0s") ||
			!strings.Contains(all, "controller.c2 did not mark it unhealthy within 1m40s of the kill: its heartbeat checker may have died") {
			t.Errorf("report %+v", sr)
		}
	})
}

func TestCheckerDeath(t *testing.T) {
	log := "2026-12-07 10:00:00 | INFO | started\n" +
		"Exception in thread Thread-1 (_heartbeat_checker):\nTraceback (most recent call last):\n" +
		"  File \"dbgpt/model/cluster/registry.py\", in _heartbeat_checker\n" +
		"sqlalchemy.exc.OperationalError: dial tcp 10.0.0.9:3306: connect: connection refused\n" +
		"2026-12-07 10:00:05 | INFO | GET /api/controller/models 200\n"
	why, died := CheckerDeath(log)
	if !died || why != "sqlalchemy.exc.OperationalError: dial tcp 10.0.0.9:3306: connect: connection refused" {
		t.Errorf("CheckerDeath = %q, %v", why, died)
	}
	if _, died := CheckerDeath("a\nException in thread Thread-2 (worker):\nboom\n"); died {
		t.Error("another thread's exception taken for the checker's")
	}
	before := "l1\nl2\nl3\nl4\n"
	mark := logMark(before)
	if mark != "l2\nl3\nl4" {
		t.Errorf("mark %q", mark)
	}
	if got := sinceMark("l0\nl1\nl2\nl3\nl4\nnew\n", mark); got != "\nnew\n" {
		t.Errorf("since %q", got)
	}
	if got := sinceMark("rotated\n", mark); got != "rotated\n" {
		t.Errorf("since a rotated log %q", got)
	}
}

// fakeProvider takes components down and up in memory; fakeProber lists
// the worker's rows live through every controller that is up.
type fakeProvider struct {
	providers.Provider
	c        *schema.Cluster
	mu       sync.Mutex
	down     map[string]bool
	calls    []string
	upFails  bool
	downHook func()
}

func (p *fakeProvider) Observe(context.Context, *schema.Cluster) ([]providers.Observed, error) {
	var out []providers.Observed
	for _, ctl := range p.c.Controllers {
		out = append(out, providers.Observed{Address: health.ControllerAddress(ctl), Server: ctl.Server.Name, Running: true})
	}
	for _, w := range p.c.Workers {
		out = append(out, providers.Observed{Address: health.WorkerAddress(w), Server: w.Server.Name, Running: true})
	}
	return out, nil
}

func (p *fakeProvider) Down(_ context.Context, o providers.Observed, mode providers.FaultMode) error {
	p.mu.Lock()
	p.down[o.Address] = true
	p.calls = append(p.calls, "down "+o.Address+" "+string(mode))
	h := p.downHook
	p.mu.Unlock()
	if h != nil {
		h()
	}
	return nil
}

func (p *fakeProvider) Up(ctx context.Context, o providers.Observed) error {
	if ctx.Err() != nil {
		return ctx.Err() // restoring must not use the drill's context
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, "up "+o.Address)
	if p.upFails {
		return errors.New("no")
	}
	delete(p.down, o.Address)
	return nil
}

func (p *fakeProvider) isDown(addr string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.down[addr]
}

type fakeProber struct{ p *fakeProvider }

func (f fakeProber) Rows(_ context.Context, ctl *schema.Controller) ([]health.Row, error) {
	if f.p.isDown(health.ControllerAddress(ctl)) {
		return nil, errors.New(health.ControllerAddress(ctl) + ": connection refused")
	}
	return rows(f.p.c, time.Now(), health.Live, 0), nil
}

func (f fakeProber) Frontends(context.Context) error { return nil }

func (f fakeProber) ControllerReady(_ context.Context, ctl *schema.Controller) error {
	if f.p.isDown(health.ControllerAddress(ctl)) {
		return errors.New("down")
	}
	return nil
}

func (f fakeProber) WorkerReady(context.Context, *schema.Worker) error { return nil }

func fakeDeps(c *schema.Cluster, problems ...string) (Deps, *fakeProvider) {
	p := &fakeProvider{c: c, down: map[string]bool{}}
	return Deps{Cluster: c, Provider: p, Prober: fakeProber{p}, Tick: 50 * time.Millisecond, RestoreTimeout: 2 * time.Second,
		Healthy: func(context.Context) ([]string, error) { return problems, nil }}, p
}

type events struct {
	mu  sync.Mutex
	evs []apply.Event
}

func (e *events) emit(ev apply.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
}

func (e *events) phases() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.evs {
		if s, ok := ev.(StepEvent); ok {
			out = append(out, s.Target+" "+s.Phase)
		}
	}
	return out
}

func TestRunDryRunChangesNothing(t *testing.T) {
	c := testCluster(2)
	d, p := fakeDeps(c, "worker.llm is down") // a dry run does not check the precondition
	var ev events
	rep, err := Run(context.Background(), d, Options{DryRun: true, Targets: []string{"controller.c2", "worker.llm"}}, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.calls) != 0 {
		t.Errorf("a dry run called %v", p.calls)
	}
	if got := ev.phases(); !slices.Equal(got, []string{"controller.c2 planned", "worker.llm planned"}) {
		t.Errorf("events %v", got)
	}
	if rep.HA || !rep.DryRun || rep.Steps[0].Verdict != VerdictPlanned {
		t.Errorf("report %+v", rep)
	}
	if s := ev.evs[0].(StepEvent).String(); !strings.Contains(s, "would stop controller.c2, check every second for 3s") || !strings.Contains(s, "through controller.c1") {
		t.Errorf("dry-run line %q", s)
	}
}

func TestRunRefusals(t *testing.T) {
	c := testCluster(2)
	d, p := fakeDeps(c, "worker.llm is down")
	_, err := Run(context.Background(), d, Options{}, nil)
	var re *RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "worker.llm is down") || len(p.calls) != 0 {
		t.Errorf("unhealthy cluster: %v, calls %v", err, p.calls)
	}
	d, _ = fakeDeps(c)
	if _, err := Run(context.Background(), d, Options{Targets: []string{"registry"}}, nil); err == nil || !strings.Contains(err.Error(), "does not manage this cluster's registry database") {
		t.Errorf("registry without a RegistryFaulter: %v", err)
	}
}

func TestRunControllersProveHA(t *testing.T) {
	c := testCluster(2)
	d, p := fakeDeps(c)
	var ev events
	rep, err := Run(context.Background(), d, Options{}, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.HA {
		t.Fatalf("not HA: %+v", rep.Steps)
	}
	if want := []string{"down controller.c1 stop", "up controller.c1", "down controller.c2 stop", "up controller.c2"}; !slices.Equal(p.calls, want) {
		t.Errorf("calls %v, want %v", p.calls, want)
	}
	want := []string{"controller.c1 down", "controller.c1 up", "controller.c1 restored", "controller.c1 verdict",
		"controller.c2 down", "controller.c2 up", "controller.c2 restored", "controller.c2 verdict"}
	if got := ev.phases(); !slices.Equal(got, want) {
		t.Errorf("phases %v, want %v", got, want)
	}
	s := rep.Steps[0]
	if s.Checks < 10 || s.FailedChecks != 0 || !s.Restored || s.RestoreSeconds == nil || s.DownSeconds == nil || *s.DownSeconds < 3 {
		t.Errorf("step figures %+v", s)
	}
}

func TestRunOneControllerIsNotHAAndRestores(t *testing.T) {
	c := testCluster(1)
	d, p := fakeDeps(c)
	rep, err := Run(context.Background(), d, Options{Mode: providers.FaultKill}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.HA || rep.Steps[0].Verdict != VerdictNotHA || !rep.Steps[0].Restored || p.isDown("controller.c1") {
		t.Errorf("report %+v, down %v", rep.Steps[0], p.down)
	}
}

func TestRunCancelledRestores(t *testing.T) {
	c := testCluster(2)
	d, p := fakeDeps(c)
	ctx, cancel := context.WithCancelCause(context.Background())
	p.downHook = func() { time.AfterFunc(200*time.Millisecond, func() { cancel(errors.New("interrupted")) }) }
	rep, err := Run(ctx, d, Options{}, nil)
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("err %v", err)
	}
	if p.isDown("controller.c1") || !rep.Steps[0].Restored || rep.Steps[0].Verdict != VerdictAborted || rep.Steps[1].Verdict != VerdictNotRun {
		t.Errorf("report %+v, down %v", rep.Steps, p.down)
	}
	if want := []string{"down controller.c1 stop", "up controller.c1"}; !slices.Equal(p.calls, want) {
		t.Errorf("calls %v", p.calls)
	}
}

func TestRunUpFailsSaysLeftDown(t *testing.T) {
	c := testCluster(2)
	d, p := fakeDeps(c)
	p.upFails = true
	var ev events
	rep, err := Run(context.Background(), d, Options{Targets: []string{"controller.c2"}}, ev.emit)
	if err == nil || !strings.Contains(err.Error(), "controller.c2 is left down") {
		t.Fatalf("err %v", err)
	}
	if got := ev.phases(); !slices.Contains(got, "controller.c2 left down") || rep.Steps[0].Restored {
		t.Errorf("phases %v, report %+v", got, rep.Steps[0])
	}
}

// Taking a controller down takes a moment (a clean stop waits for the
// process): the checks still span the whole window after it is down.
func TestRunWindowStartsOnceDown(t *testing.T) {
	c := testCluster(2)
	d, p := fakeDeps(c)
	const slowDown = 400 * time.Millisecond
	p.downHook = func() { time.Sleep(slowDown) }
	rep, err := Run(context.Background(), d, Options{Targets: []string{"controller.c1"}}, func(apply.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Steps[0]
	window := time.Duration(s.WindowSeconds * float64(time.Second))
	if s.DownSeconds == nil || *s.DownSeconds < (window+slowDown).Seconds() || s.Checks < int(window/d.Tick) {
		t.Errorf("down %s, %d checks, want at least %s down and %d checks (window %s)", known(s.DownSeconds), s.Checks, window+slowDown, int(window/d.Tick), window)
	}
}

func known(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.2fs", *p)
}
