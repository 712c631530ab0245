package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

// loadingChecker: every component serves except those in loading, which
// fail with an Awaiting error until their count of checks reaches
// loading[address] (never, when it is 0).
type loadingChecker struct {
	mu      sync.Mutex
	loading map[string]int
	seen    map[string]int
	// until, when set, ends every load once it returns true.
	until func() bool
}

func (k *loadingChecker) Check(ctx context.Context, comp *plan.Component) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	n, ok := k.loading[comp.Address]
	if !ok {
		return nil
	}
	if k.seen == nil {
		k.seen = map[string]int{}
	}
	k.seen[comp.Address]++
	if (n > 0 && k.seen[comp.Address] >= n) || (k.until != nil && k.until()) {
		return nil
	}
	return &health.Awaiting{What: "glm to register through c1, c2",
		Err: errors.New(comp.Address + ": through controller.c1: glm@llm at 10.0.0.3:8001: not registered")}
}

func (k *loadingChecker) checks(addr string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.seen[addr]
}

// watchingProvider adds a supervisor's record (providers.StartWatcher) to
// the fake provider.
type watchingProvider struct {
	*fakeProvider
	mu     sync.Mutex
	starts map[string]providers.Starts
	asked  int
}

func (w *watchingProvider) Starts(ctx context.Context, comp *plan.Component) (providers.Starts, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.asked++
	return w.starts[comp.Address], nil
}

// observeStarted is observe with every process started `age` ago.
func observeStarted(d []*plan.Component, age time.Duration) []plan.Observed {
	obs := observe(d)
	for i := range obs {
		obs[i].StartedAt = time.Now().Add(-age)
	}
	return obs
}

func TestCheckUnchangedStartingVersusUnhealthyByAge(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)
	gates := Timeouts{Controllers: time.Minute, Workers: 5 * time.Minute, Frontends: 2 * time.Minute}
	for _, tc := range []struct {
		name         string
		age          time.Duration
		unknownStart bool
		startTimeout time.Duration // of worker.emb
		starting     bool
	}{
		{name: "young", age: 80 * time.Second, starting: true},
		{name: "past the level's timeout", age: 6 * time.Minute},
		{name: "within its own start timeout", age: 6 * time.Minute, startTimeout: 30 * time.Minute, starting: true},
		{name: "past its own start timeout", age: 80 * time.Second, startTimeout: time.Minute},
		{name: "start unknown", age: 80 * time.Second, unknownStart: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, comp := range d {
				comp.StartTimeout = 0
				if comp.Address == "worker.emb" {
					comp.StartTimeout = tc.startTimeout
				}
			}
			obs := observeStarted(d, tc.age)
			if tc.unknownStart {
				for i := range obs {
					obs[i].StartedAt = time.Time{}
				}
			}
			p := plan.Diff(c, d, obs, regPresent())
			k := &loadingChecker{loading: map[string]int{"worker.emb": 0}}
			CheckUnchanged(context.Background(), k, p, time.Second, gates, 4)
			if !tc.starting {
				if len(p.Changes) != 1 || p.Changes[0].Address != "worker.emb" || !strings.HasPrefix(p.Changes[0].Reason, "unhealthy: ") || p.Waits() {
					t.Fatalf("want a repair of worker.emb; changes %v, starting %v", p.Changes, p.Starting)
				}
				return
			}
			if !p.Empty() || p.Summary() != (plan.Summary{}) || len(p.Starting) != 1 || !p.Waits() {
				t.Fatalf("want no change and worker.emb starting; changes %v, starting %v", p.Changes, p.Starting)
			}
			s := p.Starting[0]
			want := gates.Workers
			if tc.startTimeout > 0 {
				want = tc.startTimeout
			}
			if s.Address != "worker.emb" || s.Server != "server3" || s.Timeout != want || s.Age < tc.age || s.Age > tc.age+time.Minute ||
				!strings.Contains(s.Reason, "not registered") {
				t.Errorf("starting = %+v", s)
			}
			var out strings.Builder
			plan.Renderer{W: &out}.Text(p)
			note := "worker.emb is still starting (1m20s of 5m)"
			if tc.startTimeout > 0 {
				note = "worker.emb is still starting (6m of 30m)"
			}
			if !strings.Contains(out.String(), plan.NoChanges) || !strings.Contains(out.String(), "Note: "+note) {
				t.Errorf("plan text lacks %q:\n%s", note, out.String())
			}
		})
	}
}

// A controller still starting holds back the checks of the levels above:
// their failures may be its doing, and restarting them would not help.
func TestCheckUnchangedStartingHoldsBackHigherLevels(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)
	p := plan.Diff(c, d, observeStarted(d, 10*time.Second), regPresent())
	k := &loadingChecker{loading: map[string]int{"controller.c2": 0, "worker.emb": 0, "webserver": 0}}
	CheckUnchanged(context.Background(), k, p, time.Second, Timeouts{}, 4)
	if !p.Empty() || len(p.Starting) != 1 || p.Starting[0].Address != "controller.c2" {
		t.Fatalf("changes %v, starting %v", p.Changes, p.Starting)
	}
	if n := k.checks("worker.emb"); n != 0 {
		t.Errorf("worker.emb checked %d times while controller.c2 starts", n)
	}
}

// An apply whose plan changes nothing but finds a worker starting (a
// second apply during a long load) deploys nothing: it waits in the gate
// until the worker serves, reporting what it waits for.
func TestApplyWaitsForAStartingWorkerWithoutRestartingIt(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)
	p := plan.Diff(c, d, observeStarted(d, 30*time.Second), regPresent())
	k := &loadingChecker{loading: map[string]int{"worker.emb": 0}}
	CheckUnchanged(context.Background(), k, p, time.Second, Timeouts{}, 4)
	if !p.Empty() || !p.Waits() {
		t.Fatalf("plan: changes %v, starting %v", p.Changes, p.Starting)
	}

	fp := &watchingProvider{fakeProvider: newFake(t), starts: map[string]providers.Starts{
		"worker.emb": {Running: true, PID: 42, LastLine: "Loading checkpoint shards: 3/4"},
	}}
	var out recorder
	// It loads until the gate reported what it waits for.
	k = &loadingChecker{loading: map[string]int{"worker.emb": 0}, until: func() bool {
		for _, ev := range out.all() {
			if g, ok := ev.(GateWaiting); ok && g.LogLine != "" {
				return true
			}
		}
		return false
	}}
	o := opts(fp.fakeProvider, nil, &out)
	o.Checker, o.StillEvery, o.WatchEvery = k, 5*time.Millisecond, time.Millisecond
	o.Timeouts.Workers = time.Minute
	res, err := Apply(context.Background(), fp, c, p, o)
	if err != nil || res != (Result{}) {
		t.Fatalf("apply: %v %+v\n%s", err, res, out.String())
	}
	for _, ev := range fp.events() {
		if strings.HasPrefix(ev, "deploy") || strings.HasPrefix(ev, "remove") {
			t.Errorf("apply changed something: %v", fp.events())
		}
	}
	var waiting *GateWaiting
	for _, ev := range out.all() {
		if g, ok := ev.(GateWaiting); ok && g.Address == "worker.emb" {
			waiting = &g
		}
	}
	if waiting == nil {
		t.Fatalf("no gate_waiting for worker.emb:\n%s", out.String())
	}
	if waiting.Gate != "workers" || waiting.Server != "server3" || waiting.Waiting != "waiting for glm to register through c1, c2" ||
		waiting.LogLine != "Loading checkpoint shards: 3/4" || waiting.Elapsed < 30*time.Second || waiting.Timeout != time.Minute {
		t.Errorf("gate_waiting = %+v", *waiting)
	}
	if i := out.index(GateComplete{Gate: "workers", Count: 3}); i < 0 {
		t.Errorf("no workers gate_complete:\n%s", out.String())
	}
}

// The gate's timeout is the component's own start timeout when it has one,
// and for a component found starting it counts from its process's start.
func TestGateUsesTheComponentsStartTimeoutFromItsStart(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)

	// A deployed worker whose model may take 50ms, in a gate of an hour.
	for _, comp := range d {
		if comp.Address == "worker.emb" {
			comp.StartTimeout = 50 * time.Millisecond
		}
	}
	p := plan.Diff(c, d, nil, regPresent())
	fp := newFake(t)
	o := opts(fp, nil, &recorder{})
	o.Checker = &loadingChecker{loading: map[string]int{"worker.emb": 0}}
	o.Timeouts.Workers = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Apply(ctx, fp, c, p, o)
	var ge *GateError
	if !errors.As(err, &ge) || ge.Component != "worker.emb" || ctx.Err() != nil || !strings.Contains(ge.Error(), "not healthy after 0s") {
		t.Fatalf("want worker.emb's gate failed after its own 50ms, got %v", err)
	}

	// Found starting 1h ago with a start timeout of 1h + 100ms: the gate
	// waits the 100ms left, not another hour.
	d = mustDesired(t, c)
	for _, comp := range d {
		if comp.Address == "worker.emb" {
			comp.StartTimeout = time.Hour + 100*time.Millisecond
		}
	}
	p = plan.Diff(c, d, observeStarted(d, time.Hour), regPresent())
	k := &loadingChecker{loading: map[string]int{"worker.emb": 0}}
	CheckUnchanged(context.Background(), k, p, time.Second, Timeouts{}, 4)
	if !p.Waits() {
		t.Fatalf("worker.emb not starting: %v", p.Changes)
	}
	fp = newFake(t)
	o = opts(fp, nil, &recorder{})
	o.Checker, o.RequestTimeout = k, 10*time.Millisecond
	start := time.Now()
	_, err = Apply(ctx, fp, c, p, o)
	if !errors.As(err, &ge) || ge.Component != "worker.emb" || ctx.Err() != nil || !strings.Contains(ge.Error(), "after its start (start timeout 1h)") {
		t.Fatalf("want worker.emb's gate failed past its start timeout, got %v", err)
	}
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("gate waited %s", el)
	}
	for _, ev := range fp.events() {
		if strings.HasPrefix(ev, "deploy") {
			t.Errorf("a plan without changes deployed: %v", fp.events())
		}
	}
}

// A process that keeps exiting at once fails its gate at once, with the
// exit statuses and the failed attempt's error lines, not after the timeout.
func TestCrashLoopFailsTheGateAtOnce(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)
	p := plan.Diff(c, d, nil, regPresent())
	at := time.Now()
	errLines := []string{"Usage: dbgpt start worker [OPTIONS]", "Try 'dbgpt start worker --help' for help.", "", "Error: No such option '--x'."}
	fp := &watchingProvider{fakeProvider: newFake(t), starts: map[string]providers.Starts{
		"worker.llm2": {Restarts: 3, ErrorLines: errLines, LastLine: "Error: No such option '--x'.", Exits: []providers.Exit{
			{At: at, Status: 2, Uptime: 800 * time.Millisecond}, {At: at, Status: 2, Uptime: 700 * time.Millisecond}, {At: at, Status: 2, Uptime: 900 * time.Millisecond}}},
	}}
	var out recorder
	o := opts(fp.fakeProvider, nil, &out)
	o.Checker = &loadingChecker{loading: map[string]int{"worker.llm2": 0}}
	o.Timeouts.Workers = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Apply(ctx, fp, c, p, o)
	var ge *GateError
	var cl *CrashLoopError
	if !errors.As(err, &ge) || !errors.As(err, &cl) || ctx.Err() != nil {
		t.Fatalf("want a crash loop gate error, got %v", err)
	}
	want := `health gate "workers" failed: worker.llm2 on server server2: crash loop: its process exited 3 times since it was deployed, each within 1s of its start (exit status 2, 2, 2): Error: No such option '--x'.`
	if ge.Error() != want {
		t.Errorf("error\n got %s\nwant %s", ge.Error(), want)
	}
	if ge.Log != strings.Join(errLines, "\n") {
		t.Errorf("log = %q, want the error lines", ge.Log)
	}
	if comp, log := LogOf(err); comp != "worker.llm2" || !strings.Contains(log, "No such option") {
		t.Errorf("LogOf = %s %q", comp, log)
	}
}

func TestCrashLoopJudgement(t *testing.T) {
	quick := providers.Exit{Status: 1, Uptime: 2 * time.Second}
	long := providers.Exit{Status: 137, Uptime: 3 * time.Hour}
	for _, tc := range []struct {
		name string
		s    providers.Starts
		loop bool
	}{
		{"slow start, no exit", providers.Starts{Running: true, LastLine: "Loading checkpoint shards: 1/4"}, false},
		{"two quick exits", providers.Starts{Restarts: 2, Exits: []providers.Exit{quick, quick}}, false},
		{"three quick exits", providers.Starts{Restarts: 3, Exits: []providers.Exit{quick, quick, quick}}, true},
		{"restarts without exit records", providers.Starts{Restarts: 4}, true},
		{"quick exits after long runs", providers.Starts{Restarts: 5, Exits: []providers.Exit{long, long, long, quick, quick}}, false},
		{"a long run then three quick exits", providers.Starts{Restarts: 4, Exits: []providers.Exit{long, quick, quick, quick}}, true},
	} {
		if got := crashLoop(tc.s, false); (got != nil) != tc.loop {
			t.Errorf("%s: crash loop %v, want %v", tc.name, got, tc.loop)
		}
	}
	e := &CrashLoopError{Exits: []providers.Exit{long}, Restarts: 3}
	if s := e.Error(); !strings.Contains(s, "exit status 137 (signal 9)") {
		t.Errorf("error = %s", s)
	}

	// Just deployed by this apply: the first exit is a failed start; a
	// process still up without exits is waited for.
	for _, tc := range []struct {
		name string
		s    providers.Starts
		want string
	}{
		{"running", providers.Starts{Running: true}, ""},
		{"exited once", providers.Starts{Restarts: 1, Exits: []providers.Exit{quick}, ErrorLines: []string{"Traceback (most recent call last):", "ModuleNotFoundError: No module named 'torch'"}},
			"its process exited right after starting (exit status 1, 2s after its start): ModuleNotFoundError: No module named 'torch'"},
		{"systemd: a restart, no exit record", providers.Starts{Running: true, Restarts: 1}, "its process exited right after starting"},
		{"after a long run", providers.Starts{Running: true, Restarts: 1, Exits: []providers.Exit{long}}, ""},
	} {
		got := crashLoop(tc.s, true)
		switch {
		case tc.want == "" && got != nil:
			t.Errorf("fresh, %s: failed start %v, want none", tc.name, got)
		case tc.want != "" && (got == nil || got.Error() != tc.want):
			t.Errorf("fresh, %s: %v, want %q", tc.name, got, tc.want)
		}
	}
}

// A slow process (no exits) is waited for; the step's progress lines say
// what is awaited and what the process last logged.
func TestProgressSaysWhatIsAwaited(t *testing.T) {
	c := cluster()
	c.Models[1].APIKey = schema.NewSecret("sk-secret")
	d := mustDesired(t, c)
	p := plan.Diff(c, d, nil, regPresent())
	fp := &watchingProvider{fakeProvider: newFake(t), starts: map[string]providers.Starts{
		"worker.emb": {Running: true, LastLine: "Loading checkpoint shards: 3/4 (key sk-secret)"},
	}}
	var out recorder
	o := opts(fp.fakeProvider, nil, &out)
	// It loads until its step reported what it waits for.
	k := &loadingChecker{loading: map[string]int{"worker.emb": 0}, until: func() bool {
		for _, ev := range out.all() {
			if e, ok := ev.(ResourceProgress); ok && e.LogLine != "" {
				return true
			}
		}
		return false
	}}
	o.Checker, o.StillEvery, o.WatchEvery = k, 2*time.Millisecond, time.Millisecond
	o.Timeouts.Workers = time.Minute
	if _, err := Apply(context.Background(), fp, c, p, o); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	// The supervisor is asked aside from the checks: the first progress
	// lines may come before its answer; once it came, they carry it.
	found := false
	for _, ev := range out.all() {
		if e, ok := ev.(ResourceProgress); ok && e.Address == "worker.emb" && e.Waiting != "" && e.LogLine != "" {
			found = true
			if e.Waiting != "waiting for glm to register through c1, c2" || e.LogLine != "Loading checkpoint shards: 3/4 (key (sensitive))" {
				t.Errorf("progress = %+v", e)
			}
		}
	}
	if !found {
		t.Errorf("no progress with what is awaited:\n%s", out.String())
	}
}

// A young process that serves, but wrongly (its check fails with more than
// "not yet": a controller without its registry table), is repaired.
func TestCheckUnchangedRepairsAYoungProcessThatServesWrongly(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)
	fp := newFake(t)
	for _, o := range d {
		fp.deployed[o.Address] = true
	}
	k := &fakeChecker{p: fp, sick: map[string]bool{"controller.c1": true}}
	p := plan.Diff(c, d, observeStarted(d, 5*time.Second), regPresent())
	CheckUnchanged(context.Background(), k, p, time.Second, Timeouts{}, 4)
	if p.Waits() || len(p.Changes) != 1 || p.Changes[0].Address != "controller.c1" {
		t.Fatalf("changes %v, starting %v", p.Changes, p.Starting)
	}
}

// refusingChecker says every component's port is closed (ECONNREFUSED), as
// a check of a process that exited does.
type refusingChecker struct{}

func (refusingChecker) Check(ctx context.Context, comp *plan.Component) error {
	return &health.Awaiting{What: "its port to open", Err: fmt.Errorf("%s: dial: %w", comp.Address, syscall.ECONNREFUSED)}
}

// A process this apply has just deployed that exits before it served fails
// its gate at its first exit, seen as soon as its port is found closed:
// no start check, no wait for the supervisor's later attempts, nor for
// WatchEvery.
func TestFreshDeployFailsAtItsFirstExit(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)
	p := plan.Diff(c, d, nil, regPresent())
	errLines := []string{"Traceback (most recent call last):", "ModuleNotFoundError: No module named 'torch'"}
	fp := &watchingProvider{fakeProvider: newFake(t), starts: map[string]providers.Starts{
		"worker.llm2": {Restarts: 1, ErrorLines: errLines, Exits: []providers.Exit{{At: time.Now(), Status: 1}}},
	}}
	var out recorder
	o := opts(fp.fakeProvider, nil, &out)
	o.Checker = checkerFor(map[string]Checker{"worker.llm2": refusingChecker{}})
	o.Timeouts.Workers = time.Hour
	o.WatchEvery = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Apply(ctx, fp, c, p, o)
	var ge *GateError
	if !errors.As(err, &ge) || ctx.Err() != nil {
		t.Fatalf("want a gate error, got %v", err)
	}
	want := `health gate "workers" failed: worker.llm2 on server server2: its process exited right after starting (exit status 1): ModuleNotFoundError: No module named 'torch'`
	if ge.Error() != want {
		t.Errorf("error\n got %s\nwant %s", ge.Error(), want)
	}
	if ge.Log != strings.Join(errLines, "\n") {
		t.Errorf("log = %q, want the error lines", ge.Log)
	}
}

// checkerFor routes each component to its checker; others are healthy.
type checkerFor map[string]Checker

func (m checkerFor) Check(ctx context.Context, comp *plan.Component) error {
	if k, ok := m[comp.Address]; ok {
		return k.Check(ctx, comp)
	}
	return nil
}
