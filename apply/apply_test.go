package apply

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/registry"
	"github.com/hactl/hactl/schema"
)

// fakeProvider records what the executor asks; components become healthy
// (per fakeChecker) once deployed.
type fakeProvider struct {
	mu       sync.Mutex
	log      []string
	deployed map[string]bool
	problems []providers.Problem
	failOn   string // address whose Deploy fails
	regFile  string // the SQLite registry, a real file on this machine
}

func newFake(t *testing.T) *fakeProvider {
	return &fakeProvider{deployed: map[string]bool{}, regFile: filepath.Join(t.TempDir(), "registry.db")}
}

func (f *fakeProvider) record(s string) {
	f.mu.Lock()
	f.log = append(f.log, s)
	f.mu.Unlock()
}

func (f *fakeProvider) events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func (f *fakeProvider) Preflight(ctx context.Context, c *schema.Cluster, want []*plan.Component) []providers.Problem {
	f.record("preflight")
	return f.problems
}
func (f *fakeProvider) Observe(ctx context.Context, c *schema.Cluster) ([]providers.Observed, error) {
	return nil, nil
}
func (f *fakeProvider) Deploy(ctx context.Context, comp *plan.Component) error {
	if comp.Address == f.failOn {
		f.record("deploy-failed " + comp.Address)
		return errors.New("boom")
	}
	f.record("deploy " + comp.Address + "@" + comp.Server.Name)
	f.mu.Lock()
	f.deployed[comp.Address] = true
	f.mu.Unlock()
	return nil
}
func (f *fakeProvider) Remove(ctx context.Context, o providers.Observed) error {
	f.record("remove " + o.Address + "@" + o.Server)
	return nil
}
func (f *fakeProvider) DialContext(ctx context.Context, s *schema.Server, network, addr string) (net.Conn, error) {
	return nil, errors.New("fake: no network")
}

// Registry is the SQLite registry in f.regFile; reaching it is recorded.
func (f *fakeProvider) Registry(c *schema.Cluster) *registry.DB {
	return registry.New(c, fakeAccess{f})
}

type fakeAccess struct{ f *fakeProvider }

func (a fakeAccess) Places() []registry.Place { return nil }
func (a fakeAccess) SQLiteFile() (registry.File, error) {
	a.f.record("registry")
	return registry.LocalFile("server1", a.f.regFile), nil
}

// registryRows reads the fake's registry file as host:port model_name.
func (f *fakeProvider) registryRows(t *testing.T) []string {
	t.Helper()
	db, err := sql.Open("sqlite", f.regFile)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := dbgpt.ListRows(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s:%d %s", r.Host, r.Port, r.ModelName))
	}
	return out
}
func (f *fakeProvider) Logs(ctx context.Context, o providers.Observed, lines int) (string, error) {
	return "line 1\nfatal: model path missing", nil
}
func (f *fakeProvider) Close() error { return nil }

// fakeChecker: a deployed component is healthy after `warmup` checks; an
// address in sick never is; every pass is recorded.
type fakeChecker struct {
	p      *fakeProvider
	warmup int
	sick   map[string]bool
	// gone: components whose check fails as on an unreachable server.
	gone map[string]bool
	mu   sync.Mutex
	seen map[string]int
}

func (k *fakeChecker) Check(ctx context.Context, comp *plan.Component) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.p.mu.Lock()
	dep := k.p.deployed[comp.Address]
	k.p.mu.Unlock()
	if k.gone[comp.Address] {
		return fmt.Errorf("dialing %s: %w", comp.Address, host.ErrUnreachable)
	}
	if !dep || k.sick[comp.Address] {
		return fmt.Errorf("%s does not answer", comp.Address)
	}
	if k.seen == nil {
		k.seen = map[string]int{}
	}
	k.seen[comp.Address]++
	if k.seen[comp.Address] <= k.warmup {
		return fmt.Errorf("%s starting", comp.Address)
	}
	k.p.record("healthy " + comp.Address)
	return nil
}

func cluster() *schema.Cluster {
	s1 := &schema.Server{Name: "server1", Address: "10.0.0.1", DeployDir: "/opt/hactl/t", DBGPTCommand: "dbgpt"}
	s2 := &schema.Server{Name: "server2", Address: "10.0.0.2", DeployDir: "/opt/hactl/t", DBGPTCommand: "dbgpt"}
	s3 := &schema.Server{Name: "server3", Address: "10.0.0.3", DeployDir: "/opt/hactl/t", DBGPTCommand: "dbgpt"}
	llm := &schema.Model{Name: "glm", WorkerType: schema.WorkerTypeLLM, Path: "/m/glm"}
	emb := &schema.Model{Name: "t2v", WorkerType: schema.WorkerTypeText2Vec, Path: "/m/t2v"}
	return &schema.Cluster{
		Name: "t", Generation: schema.GenerationFlags, Version: "0.6.3",
		Servers:  []*schema.Server{s1, s2, s3},
		Models:   []*schema.Model{llm, emb},
		Registry: &schema.Registry{Type: schema.RegistrySQLite, Path: "/tmp/r.db"},
		Controllers: []*schema.Controller{
			{Name: "c1", Server: s1, Host: "0.0.0.0", Port: 8000, HeartbeatIntervalSecs: 20, HeartbeatTimeoutSecs: 60},
			{Name: "c2", Server: s2, Host: "0.0.0.0", Port: 8000, HeartbeatIntervalSecs: 20, HeartbeatTimeoutSecs: 60},
		},
		Workers: []*schema.Worker{
			{Name: "llm1", Server: s3, Model: llm, Host: "0.0.0.0", Port: 8001, HeartbeatIntervalSecs: 20},
			{Name: "llm2", Server: s2, Model: llm, Host: "0.0.0.0", Port: 8002, HeartbeatIntervalSecs: 20},
			{Name: "emb", Server: s3, Model: emb, Host: "0.0.0.0", Port: 8003, HeartbeatIntervalSecs: 20},
		},
		Webserver: &schema.Webserver{Name: "webserver", Server: s1, Host: "0.0.0.0", Port: 5670, Light: true},
		Compose:   &schema.Compose{},
	}
}

// regAbsent: the SQLite registry file of cluster() is not there yet.
func regAbsent() *plan.RegistryState {
	return &plan.RegistryState{Type: schema.RegistrySQLite, Where: "sqlite /tmp/r.db on server1", Reachable: true}
}

func regPresent() *plan.RegistryState {
	s := regAbsent()
	s.DatabaseExists, s.TableExists = true, true
	return s
}

func mustDesired(t *testing.T, c *schema.Cluster) []*plan.Component {
	t.Helper()
	d, err := plan.Desired(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func observe(d []*plan.Component) []plan.Observed {
	var out []plan.Observed
	for _, c := range d {
		out = append(out, plan.Observed{Address: c.Address, Role: c.Role, Server: c.Server.Name, Port: c.Port,
			Hash: c.Hash, Attributes: c.Attributes, Running: true})
	}
	return out
}

// recorder keeps the events an operation emits.
type recorder struct {
	mu  sync.Mutex
	evs []Event
}

func (r *recorder) add(ev Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.evs...)
}

// index returns the position of the first event equal to want, or -1.
// Durations, errors and logs are not compared.
func (r *recorder) index(want Event) int {
	for i, ev := range r.all() {
		if reflect.DeepEqual(strip(ev), want) {
			return i
		}
	}
	return -1
}

func (r *recorder) String() string {
	var b strings.Builder
	for _, ev := range r.all() {
		fmt.Fprintf(&b, "%#v\n", ev)
	}
	return b.String()
}

// strip zeroes what varies from run to run (durations, errors, logs).
func strip(ev Event) Event {
	switch e := ev.(type) {
	case ResourceProgress:
		e.Elapsed = 0
		return e
	case ResourceComplete:
		e.Elapsed = 0
		return e
	case ResourceErrored:
		e.Elapsed, e.Err, e.Log = 0, nil, ""
		return e
	case RegistryComplete:
		e.Elapsed = 0
		return e
	case GateComplete:
		e.Elapsed = 0
		return e
	case GateErrored:
		e.Elapsed, e.Err = 0, nil
		return e
	}
	return ev
}

func opts(p *fakeProvider, k *fakeChecker, rec *recorder) Options {
	return Options{Concurrency: 4, OnEvent: rec.add, Checker: k, Poll: time.Millisecond, StillEvery: time.Hour,
		Timeouts: Timeouts{Controllers: time.Second, Workers: time.Second, Frontends: time.Second}}
}

func indexOf(ev []string, s string) int {
	for i, e := range ev {
		if e == s {
			return i
		}
	}
	return -1
}

func TestApplyOrderAndGates(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)
	p := plan.Diff(c, d, nil, regAbsent())
	fp := newFake(t)
	var out recorder
	res, err := Apply(context.Background(), fp, c, p, opts(fp, &fakeChecker{p: fp, warmup: 2}, &out))
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	// Six components and the registry's file and table.
	if res != (Result{Added: 7}) || p.Summary() != (plan.Summary{Add: 7}) {
		t.Errorf("result = %+v, plan %+v", res, p.Summary())
	}
	ev := fp.events()
	if ev[0] != "preflight" || ev[1] != "registry" {
		t.Fatalf("preflight and registry must come first: %v", ev)
	}
	regStart := out.index(ResourceStart{Address: "registry", Action: plan.Create, Server: "server1", Reason: "file absent",
		Note: "file /tmp/r.db and table dbgpt_cluster_registry_instance will be created"})
	regDone := out.index(ResourceComplete{Address: "registry", Action: plan.Create})
	if regStart != 0 || regDone != 1 || out.index(RegistryStart{Step: RegistryPrepare}) >= 0 {
		t.Errorf("registry progress (%d, %d):\n%s", regStart, regDone, out.String())
	}
	// Every controller healthy before any worker deploys; every worker
	// healthy before the webserver deploys.
	lastCtl := max(indexOf(ev, "healthy controller.c1"), indexOf(ev, "healthy controller.c2"))
	firstWorker := min(indexOf(ev, "deploy worker.llm1@server3"), indexOf(ev, "deploy worker.llm2@server2"), indexOf(ev, "deploy worker.emb@server3"))
	if lastCtl < 0 || firstWorker < lastCtl {
		t.Errorf("workers started before controllers were healthy: %v", ev)
	}
	web := indexOf(ev, "deploy webserver@server1")
	for _, w := range []string{"llm1", "llm2", "emb"} {
		if i := indexOf(ev, "healthy worker."+w); i < 0 || i > web {
			t.Errorf("webserver deployed before worker.%s was healthy: %v", w, ev)
		}
	}
	c1Start := out.index(ResourceStart{Address: "controller.c1", Action: plan.Create, Server: "server1"})
	c1Done := out.index(ResourceComplete{Address: "controller.c1", Action: plan.Create})
	gateStart := out.index(GateStart{Gate: "controllers", Count: 2})
	gateDone := out.index(GateComplete{Gate: "controllers", Count: 2})
	webDone := out.index(ResourceComplete{Address: "webserver", Action: plan.Create})
	if c1Start < 0 || c1Done < c1Start || gateStart < c1Done || gateDone < gateStart || webDone < gateDone {
		t.Errorf("progress events out of order (%d %d %d %d %d):\n%s", c1Start, c1Done, gateStart, gateDone, webDone, out.String())
	}
}

func TestApplyNoChangesDoesNothing(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)
	p := plan.Diff(c, d, observe(d), regPresent())
	fp := newFake(t)
	var out recorder
	res, err := Apply(context.Background(), fp, c, p, opts(fp, &fakeChecker{p: fp}, &out))
	if err != nil || res != (Result{}) || len(fp.events()) != 0 {
		t.Fatalf("no-op apply did something: %v %+v %v", err, res, fp.events())
	}
}

func TestRollingControllersAndWorkersOfOneModel(t *testing.T) {
	c := cluster()
	before := mustDesired(t, c)
	for _, ctl := range c.Controllers {
		ctl.HeartbeatTimeoutSecs = 90
	}
	for _, w := range c.Workers {
		w.HeartbeatIntervalSecs = 10
	}
	d := mustDesired(t, c)
	p := plan.Diff(c, d, observe(before), regPresent())
	fp := newFake(t)
	for _, o := range before {
		fp.deployed[o.Address] = true
	}
	var out recorder
	res, err := Apply(context.Background(), fp, c, p, opts(fp, &fakeChecker{p: fp, warmup: 3}, &out))
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if res.Changed != 5 {
		t.Errorf("result = %+v", res)
	}
	ev := fp.events()
	// A complete registry is not counted, but still prepared (idempotent)
	// before any controller restarts.
	if ev[0] != "preflight" || ev[1] != "registry" || res.Added != 0 {
		t.Errorf("registry not prepared first: %v %+v", ev, res)
	}
	// ... silently: the plan found it complete, so nothing is prepared.
	for _, e := range out.all() {
		if _, ok := e.(RegistryStart); ok {
			t.Errorf("a complete registry reported as prepared:\n%s", out.String())
		}
	}
	// c2 is deployed only after c1 is healthy again.
	if a, b := indexOf(ev, "healthy controller.c1"), indexOf(ev, "deploy controller.c2@server2"); a < 0 || b < a {
		t.Errorf("controllers not rolled one at a time: %v", ev)
	}
	// Two workers of model glm: llm2 after llm1 healthy.
	if a, b := indexOf(ev, "healthy worker.llm1"), indexOf(ev, "deploy worker.llm2@server2"); a < 0 || b < a {
		t.Errorf("workers of one model not rolled: %v", ev)
	}
}

func TestGateFailureShowsComponentAndLog(t *testing.T) {
	c := cluster()
	p := plan.Diff(c, mustDesired(t, c), nil, regAbsent())
	fp := newFake(t)
	var out recorder
	k := &fakeChecker{p: fp, sick: map[string]bool{"worker.emb": true}}
	o := opts(fp, k, &out)
	o.Timeouts.Workers = 50 * time.Millisecond
	_, err := Apply(context.Background(), fp, c, p, o)
	var ge *GateError
	if !errors.As(err, &ge) {
		t.Fatalf("want a GateError, got %v", err)
	}
	if ge.Gate != "workers" || ge.Component != "worker.emb" || ge.Server != "server3" || !strings.Contains(ge.Log, "model path missing") {
		t.Errorf("gate error = %+v", ge)
	}
	i := out.index(ResourceErrored{Address: "worker.emb", Action: plan.Create, Server: "server3"})
	if i < 0 {
		t.Fatalf("no apply_errored for worker.emb:\n%s", out.String())
	}
	if e := out.all()[i].(ResourceErrored); !errors.As(e.Err, &ge) || !strings.Contains(e.Log, "model path missing") {
		t.Errorf("apply_errored lacks the error or the log: %#v", e)
	}
	if indexOf(fp.events(), "deploy webserver@server1") >= 0 {
		t.Error("webserver deployed after the worker gate failed")
	}
}

func TestDeployFailureStopsAndPreflightChangesNothing(t *testing.T) {
	c := cluster()
	p := plan.Diff(c, mustDesired(t, c), nil, regAbsent())
	fp := newFake(t)
	fp.failOn = "controller.c2"
	var out recorder
	_, err := Apply(context.Background(), fp, c, p, opts(fp, &fakeChecker{p: fp}, &out))
	var se *StepError
	if !errors.As(err, &se) || se.Component != "controller.c2" {
		t.Fatalf("want StepError for controller.c2, got %v", err)
	}
	for _, e := range fp.events() {
		if strings.HasPrefix(e, "deploy worker") {
			t.Errorf("workers deployed after a controller failed: %v", fp.events())
		}
	}

	fp = newFake(t)
	fp.problems = []providers.Problem{{Server: "server1", What: "dbgpt not found", Fix: "install DB-GPT"}, {Server: "server3", Component: "worker.llm1", What: "model path missing"}}
	_, err = Apply(context.Background(), fp, c, p, opts(fp, &fakeChecker{p: fp}, &out))
	var pe *PreflightError
	if !errors.As(err, &pe) || len(pe.Problems) != 2 || !strings.Contains(err.Error(), "model path missing") {
		t.Fatalf("want both pre-flight problems, got %v", err)
	}
	if ev := fp.events(); len(ev) != 1 {
		t.Errorf("pre-flight failure changed something: %v", ev)
	}
}

func TestReplaceCreatesBeforeRemovingAndRemovedLast(t *testing.T) {
	c := cluster()
	before := mustDesired(t, c)
	c.Workers[2].Server = c.Servers[0] // emb moves server3 → server1
	c.Workers = c.Workers[1:]          // llm1 removed
	c.Webserver = nil                  // webserver removed
	p := plan.Diff(c, mustDesired(t, c), observe(before), regPresent())
	fp := newFake(t)
	for _, o := range before {
		fp.deployed[o.Address] = true
	}
	var out recorder
	res, err := Apply(context.Background(), fp, c, p, opts(fp, &fakeChecker{p: fp}, &out))
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if res != (Result{Added: 1, Destroyed: 3}) {
		t.Errorf("result = %+v", res)
	}
	ev := fp.events()
	dep, healthy, rm := indexOf(ev, "deploy worker.emb@server1"), indexOf(ev, "healthy worker.emb"), indexOf(ev, "remove worker.emb@server3")
	if dep < 0 || healthy < dep || rm < healthy {
		t.Errorf("replace not create → healthy → remove old: %v", ev)
	}
	if a, b := indexOf(ev, "remove webserver@server1"), indexOf(ev, "remove worker.llm1@server3"); a < 0 || b < a {
		t.Errorf("removed components not frontend-first: %v", ev)
	}
}

func TestDestroyOrder(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)
	var obs []providers.Observed
	for _, o := range observe(d) {
		obs = append(obs, o)
	}
	p := DestroyPlan(obs)
	if s := p.Summary(); s.Destroy != 6 || s.Add != 0 {
		t.Fatalf("destroy plan summary = %+v", s)
	}
	fp := newFake(t)
	// The registry holds the rows of the cluster's workers (10.0.0.3:8001
	// is llm1) and one of another cluster's worker.
	if err := fp.Registry(c).Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", fp.regFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO " + dbgpt.RegistryTable + " (model_name, host, port) VALUES ('glm@llm', '10.0.0.3', 8001), ('WorkerManager@service', '10.0.0.3', 8001), ('glm@llm', '10.0.0.9', 8001)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var out recorder
	res, err := Destroy(context.Background(), fp, c, p, true, opts(fp, &fakeChecker{p: fp}, &out))
	if err != nil || res.Destroyed != 6 {
		t.Fatalf("destroy: %v %+v", err, res)
	}
	ev := fp.events()
	web, ctl := indexOf(ev, "remove webserver@server1"), indexOf(ev, "remove controller.c1@server1")
	for _, w := range []string{"worker.llm1@server3", "worker.llm2@server2", "worker.emb@server3"} {
		i := indexOf(ev, "remove "+w)
		if i < web || i > ctl {
			t.Errorf("%s not removed between webserver and controllers: %v", w, ev)
		}
	}
	if ev[len(ev)-1] != "registry" {
		t.Errorf("purge not last: %v", ev)
	}
	if rows := fp.registryRows(t); len(rows) != 1 || rows[0] != "10.0.0.9:8001 glm@llm" {
		t.Errorf("after purge: %v", rows)
	}
	evs := out.all()
	if n := len(evs); n < 2 || !reflect.DeepEqual(evs[n-2], RegistryStart{Step: RegistryPurge}) ||
		!reflect.DeepEqual(strip(evs[n-1]), RegistryComplete{Step: RegistryPurge, Rows: 2}) {
		t.Errorf("purge events:\n%s", out.String())
	}
	if i := out.index(ResourceComplete{Address: "controller.c1", Action: plan.Destroy}); i < 0 {
		t.Errorf("no apply_complete for controller.c1:\n%s", out.String())
	}
}

func TestCheckUnchangedRepairsUnhealthy(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)
	fp := newFake(t)
	for _, o := range d {
		fp.deployed[o.Address] = true
	}
	k := &fakeChecker{p: fp, sick: map[string]bool{"worker.emb": true, "webserver": true}}

	p := plan.Diff(c, d, observe(d), regPresent())
	CheckUnchanged(context.Background(), k, p, time.Second, Timeouts{}, 4)
	// The webserver is left to the gates that follow the worker's repair.
	if len(p.Changes) != 1 || p.Changes[0].Address != "worker.emb" ||
		p.Changes[0].Action != plan.Update || !strings.HasPrefix(p.Changes[0].Reason, "unhealthy: ") {
		t.Fatalf("changes = %+v", p.Changes)
	}
	fp2 := newFake(t)
	fp2.deployed = fp.deployed
	if _, err := Apply(context.Background(), fp2, c, p, opts(fp2, &fakeChecker{p: fp2}, &recorder{})); err != nil {
		t.Fatal(err)
	}
	if ev := fp2.events(); len(ev) < 2 || ev[1] != "registry" {
		t.Errorf("a repair does not prepare the registry first: %v", ev)
	}

	// A changed worker: frontends are left to the apply's gates.
	c.Workers[0].Port = 9001
	p = plan.Diff(c, mustDesired(t, c), observe(d), regPresent())
	CheckUnchanged(context.Background(), k, p, time.Second, Timeouts{}, 4)
	var got []string
	for _, ch := range p.Changes {
		got = append(got, ch.Address+" "+ch.Reason)
	}
	if len(got) != 2 || got[0] != "worker.llm1 settings changed" || !strings.HasPrefix(got[1], "worker.emb unhealthy") {
		t.Fatalf("changes = %v", got)
	}
}

// Only the registry is missing (its table dropped): apply creates it and
// counts it, deploys nothing; the controllers' health is still checked.
func TestApplyRegistryOnly(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)
	fp := newFake(t)
	for _, o := range d {
		fp.deployed[o.Address] = true
	}
	reg := regPresent()
	reg.TableExists = false
	p := plan.Diff(c, d, observe(d), reg)
	k := &fakeChecker{p: fp, sick: map[string]bool{"controller.c1": true}}
	CheckUnchanged(context.Background(), k, p, time.Second, Timeouts{}, 4)
	var got []string
	for _, ch := range p.Changes {
		got = append(got, string(ch.Action)+" "+ch.Address)
	}
	if strings.Join(got, ", ") != "create registry, update controller.c1" {
		t.Fatalf("changes = %v", got)
	}

	p = plan.Diff(c, d, observe(d), reg)
	fp = newFake(t)
	var out recorder
	res, err := Apply(context.Background(), fp, c, p, opts(fp, &fakeChecker{p: fp}, &out))
	if err != nil || res != (Result{Added: 1}) {
		t.Fatalf("apply: %v %+v\n%s", err, res, out.String())
	}
	if ev := fp.events(); strings.Join(ev, ",") != "preflight,registry" {
		t.Errorf("events = %v", ev)
	}
}

func TestCheckUnchangedStopsAtTheLowestBrokenLevel(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)
	fp := newFake(t)
	for _, o := range d {
		fp.deployed[o.Address] = true
	}
	// Controller c2 is broken; workers and webserver fail through it too.
	k := &fakeChecker{p: fp, sick: map[string]bool{"controller.c2": true, "worker.emb": true, "webserver": true}}
	p := plan.Diff(c, d, observe(d), regPresent())
	CheckUnchanged(context.Background(), k, p, time.Second, Timeouts{}, 4)
	if len(p.Changes) != 1 || p.Changes[0].Address != "controller.c2" {
		t.Fatalf("want only controller.c2 repaired, got %v", p.Changes)
	}
}

// The plan could not check the registry: apply prepares it and says so.
func TestApplyPreparesAnUnknownRegistryVisibly(t *testing.T) {
	c := cluster()
	reg := regAbsent()
	reg.Reachable, reg.Err = false, "connection refused"
	p := plan.Diff(c, mustDesired(t, c), nil, reg)
	fp := newFake(t)
	var out recorder
	if _, err := Apply(context.Background(), fp, c, p, opts(fp, &fakeChecker{p: fp}, &out)); err != nil {
		t.Fatal(err)
	}
	if a, b := out.index(RegistryStart{Step: RegistryPrepare}), out.index(RegistryComplete{Step: RegistryPrepare}); a != 0 || b != 1 {
		t.Errorf("registry preparation not reported first (%d, %d):\n%s", a, b, out.String())
	}
}

// An unchanged component that fails its level's gate: gate_errored names it.
func TestGateErroredNamesTheUnhealthyComponent(t *testing.T) {
	c := cluster()
	before := mustDesired(t, c)
	c.Controllers[0].HeartbeatTimeoutSecs = 90 // c1 changes, c2 does not
	p := plan.Diff(c, mustDesired(t, c), observe(before), regPresent())
	fp := newFake(t)
	for _, o := range before {
		fp.deployed[o.Address] = true
	}
	var out recorder
	o := opts(fp, &fakeChecker{p: fp, sick: map[string]bool{"controller.c2": true}}, &out)
	o.Timeouts.Controllers = 50 * time.Millisecond
	_, err := Apply(context.Background(), fp, c, p, o)
	var ge *GateError
	if !errors.As(err, &ge) || ge.Component != "controller.c2" {
		t.Fatalf("want the gate error of controller.c2, got %v", err)
	}
	done := out.index(ResourceComplete{Address: "controller.c1", Action: plan.Update})
	failed := out.index(GateErrored{Gate: "controllers", Count: 2, Address: "controller.c2", Server: "server2"})
	if done < 0 || failed < done || out.index(GateComplete{Gate: "controllers", Count: 2}) >= 0 {
		t.Errorf("gate events (%d, %d):\n%s", done, failed, out.String())
	}
}

// A slow change reports that it is still at work, and never after it
// completed.
func TestStillAtWork(t *testing.T) {
	c := cluster()
	p := plan.Diff(c, mustDesired(t, c), nil, regAbsent())
	fp := newFake(t)
	var out recorder
	o := opts(fp, &fakeChecker{p: fp, warmup: 20}, &out)
	o.StillEvery = time.Millisecond
	o.Timeouts = Timeouts{Controllers: 30 * time.Second, Workers: 30 * time.Second, Frontends: 30 * time.Second}
	if _, err := Apply(context.Background(), fp, c, p, o); err != nil {
		t.Fatal(err)
	}
	progress := map[string]int{}
	completed := map[string]bool{}
	for _, ev := range out.all() {
		switch e := ev.(type) {
		case ResourceProgress:
			if completed[e.Address] {
				t.Errorf("%s: progress after completion", e.Address)
			}
			if e.Action != plan.Create || e.RemovingOld != "" {
				t.Errorf("progress event %#v", e)
			}
			progress[e.Address]++
		case ResourceComplete:
			completed[e.Address] = true
		}
	}
	if len(progress) == 0 {
		t.Errorf("no progress event:\n%s", out.String())
	}
}

// A gate whose wait is interrupted (Ctrl-C) says it was cancelled, and
// after how long, not that the component was "not healthy after" the whole
// gate timeout.
func TestCancelledGateSaysCancelled(t *testing.T) {
	c := cluster()
	before := mustDesired(t, c)
	c.Controllers[0].HeartbeatTimeoutSecs = 90
	p := plan.Diff(c, mustDesired(t, c), observe(before), regPresent())
	fp := newFake(t)
	for _, o := range before {
		fp.deployed[o.Address] = true
	}
	var out recorder
	o := opts(fp, &fakeChecker{p: fp, sick: map[string]bool{"controller.c2": true}}, &out)
	o.Timeouts.Controllers = time.Hour
	ctx, cancel := context.WithCancelCause(context.Background())
	interrupted := errors.New("interrupted")
	time.AfterFunc(200*time.Millisecond, func() { cancel(interrupted) })
	start := time.Now()
	_, err := Apply(ctx, fp, c, p, o)
	if took := time.Since(start); took > time.Minute {
		t.Fatalf("a cancelled gate took %s", took)
	}
	var gc *GateCancelled
	if !errors.As(err, &gc) || !errors.Is(err, interrupted) {
		t.Fatalf("want the gate cancelled, got %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "cancelled after ") || !strings.Contains(msg, "(interrupted)") || strings.Contains(msg, "not healthy") {
		t.Errorf("message: %s", msg)
	}
	for _, ev := range out.all() {
		if ge, ok := ev.(GateErrored); ok && !errors.As(ge.Err, &gc) {
			t.Errorf("gate_errored does not say cancelled: %v", ge.Err)
		}
	}
}

// A component whose server is found unreachable fails its gate at once,
// not when the gate's timeout (here an hour) runs out.
func TestGateEndsOnAnUnreachableServer(t *testing.T) {
	c := cluster()
	before := mustDesired(t, c)
	c.Controllers[0].HeartbeatTimeoutSecs = 90
	p := plan.Diff(c, mustDesired(t, c), observe(before), regPresent())
	fp := newFake(t)
	for _, o := range before {
		fp.deployed[o.Address] = true
	}
	var out recorder
	o := opts(fp, &fakeChecker{p: fp, gone: map[string]bool{"controller.c2": true}}, &out)
	o.Timeouts.Controllers = time.Hour
	done := make(chan error, 1)
	go func() { _, err := Apply(context.Background(), fp, c, p, o); done <- err }()
	select {
	case err := <-done:
		var ge *GateError
		if !errors.As(err, &ge) || ge.Component != "controller.c2" || !errors.Is(err, host.ErrUnreachable) {
			t.Fatalf("want controller.c2's gate failing as unreachable, got %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the gate still waits for a component on an unreachable server after a minute")
	}
}

// A wait's checks come at multiples of its period, which stays within a
// fortieth of the time waited (at least MinPoll, at most Poll): a
// component healthy after 2 s is seen at most 40 ms late, one after an
// hour at most Poll late.
func TestNextCheckBacksOffWithinAFortieth(t *testing.T) {
	e := newExecutor(nil, &schema.Cluster{}, Options{})
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		waited, most time.Duration
	}{
		{0, 20 * time.Millisecond},
		{500 * time.Millisecond, 20 * time.Millisecond},
		{2 * time.Second, 40 * time.Millisecond},
		{10 * time.Second, 160 * time.Millisecond},
		{time.Hour, time.Second},
	} {
		for _, off := range []time.Duration{0, 7 * time.Millisecond, 13 * time.Millisecond} {
			now := start.Add(tc.waited + off)
			next := e.nextCheck(start, now)
			gap := next.Sub(now)
			if gap <= 0 || gap > tc.most {
				t.Errorf("after %s: next check in %s, want within (0, %s]", tc.waited+off, gap, tc.most)
			}
			if period := next.Sub(next.Truncate(e.opts.MinPoll)); period != 0 {
				t.Errorf("after %s: next check at %s is not on a multiple of MinPoll", tc.waited+off, next)
			}
		}
	}
}
