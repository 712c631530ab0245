package compose

import (
	"slices"
	"strings"
	"testing"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
)

const fakeCheckerTraceback = `2026-12-07 10:00:01 c dbgpt.model.cluster.controller.controller[1] INFO ok
Exception in thread Thread-1 (_heartbeat_checker):
Traceback (most recent call last):
  File "dbgpt/model/cluster/registry.py", in _heartbeat_checker
sqlalchemy.exc.OperationalError: dial tcp 172.18.0.2:3306: connect: connection refused
`

func controllerContainer(t *testing.T, id string) map[string]any {
	t.Helper()
	rec := recordedContainers(t, "ha-demo")
	c := relabel(rec[1], id, "controller.ctrl1", "controller-ctrl1")
	c["Config"].(map[string]any)["Labels"].(map[string]any)[LabelRole] = "controller"
	return c
}

// Down (stop, kill) and Up run docker stop, kill and start on the
// component's container and wait for the state Docker reports.
func TestDownUpCommands(t *testing.T) {
	calls, state := fakeDockerOn(t, fakeState{Containers: []map[string]any{controllerContainer(t, "ctl1")}})
	p := newHA(t, nil)
	ctx := fakeCtx(t)
	o := providers.Observed{Address: "controller.ctrl1"}
	if err := p.Down(ctx, o, providers.FaultKill); err != nil {
		t.Fatal(err)
	}
	if st := state(); st.Containers[0]["State"].(map[string]any)["Running"] != false {
		t.Errorf("after Down: %v", st.Containers[0]["State"])
	}
	if err := p.Down(ctx, o, providers.FaultKill); err != nil {
		t.Errorf("second Down: %v", err)
	}
	if err := p.Up(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := p.Up(ctx, o); err != nil {
		t.Errorf("second Up: %v", err)
	}
	if err := p.Down(ctx, o, providers.FaultStop); err != nil {
		t.Fatal(err)
	}
	c := calls()
	for _, want := range []string{"kill --signal KILL ctl1", "start ctl1", "stop --time 15 ctl1"} {
		if n := countCalls(c, want); n != 1 {
			t.Errorf("%q called %d times, want once: %q", want, n, c)
		}
	}
	if !slices.ContainsFunc(c, func(s string) bool {
		return strings.HasPrefix(s, "exec ctl1 sh -c") && strings.Contains(s, "drill: down (kill)")
	}) ||
		!slices.ContainsFunc(c, func(s string) bool {
			return strings.HasPrefix(s, "exec ctl1 sh -c") && strings.HasSuffix(s, "drill: up")
		}) {
		t.Errorf("no drill lines written: %q", c)
	}
	if err := p.Down(ctx, o, "pause"); err == nil || !strings.Contains(err.Error(), `unknown fault mode "pause"`) {
		t.Errorf("unknown mode: %v", err)
	}
	if err := p.Up(ctx, providers.Observed{Address: "worker.llm"}); err == nil || !strings.Contains(err.Error(), "no container of it (hactl apply creates it)") {
		t.Errorf("Up without a container: %v", err)
	}
}

func countCalls(calls []string, want string) int {
	n := 0
	for _, c := range calls {
		if c == want {
			n++
		}
	}
	return n
}

// The registry's database service: stopped and started by Docker; Up then
// dials the database (here it has no address: the error says so).
func TestRegistryDownUpCommands(t *testing.T) {
	rec := recordedContainers(t, "ha-demo")
	db := relabel(rec[1], "db1", "", "db")
	delete(db, "NetworkSettings") // no address: the dial fails at once
	calls, _ := fakeDockerOn(t, fakeState{Containers: []map[string]any{db}})
	p := newHA(t, nil)
	p.opts.HealthTimeout = 1
	ctx := fakeCtx(t)
	if err := p.RegistryDown(ctx); err != nil {
		t.Fatal(err)
	}
	err := p.RegistryUp(ctx)
	if err == nil || !strings.Contains(err.Error(), "the registry database service db does not accept connections") {
		t.Errorf("RegistryUp: %v", err)
	}
	c := calls()
	if countCalls(c, "stop --time 30 db1") != 1 || countCalls(c, "start db1") != 1 {
		t.Errorf("calls %q", c)
	}
}

// A running controller whose output since its start holds the checker's
// traceback has a defect; docker logs reads from the container's start.
func TestObserveCheckerDefect(t *testing.T) {
	calls, _ := fakeDockerOn(t, fakeState{Containers: []map[string]any{controllerContainer(t, "ctl1")}, LogsSince: fakeCheckerTraceback})
	p := newHA(t, nil)
	ctx := fakeCtx(t)
	obs, err := p.Observe(ctx, p.Cluster())
	if err != nil || len(obs) != 1 {
		t.Fatalf("observed %+v %v", obs, err)
	}
	want := plan.CheckerDefect("sqlalchemy.exc.OperationalError: dial tcp 172.18.0.2:3306: connect: connection refused")
	if obs[0].Defect != want {
		t.Errorf("defect %q, want %q", obs[0].Defect, want)
	}
	if !slices.Contains(calls(), "logs --since 1796634020.965086519 ctl1") {
		t.Errorf("calls %q", calls())
	}

	// Without the traceback, or a worker: none.
	fakeDockerOn(t, fakeState{Containers: []map[string]any{controllerContainer(t, "ctl1")}, LogsSince: "INFO fine\n"})
	if obs, _ := p.Observe(ctx, p.Cluster()); len(obs) != 1 || obs[0].Defect != "" {
		t.Errorf("clean: %+v", obs)
	}
	rec := recordedContainers(t, "ha-demo")
	calls, _ = fakeDockerOn(t, fakeState{Containers: []map[string]any{rec[1]}, LogsSince: fakeCheckerTraceback})
	if obs, _ := p.Observe(ctx, p.Cluster()); len(obs) != 1 || obs[0].Defect != "" {
		t.Errorf("worker: %+v", obs)
	}
	if slices.ContainsFunc(calls(), func(s string) bool { return strings.HasPrefix(s, "logs") }) {
		t.Errorf("a worker's log read: %q", calls())
	}
}

// Deploy of a component whose container runs with the same settings (a
// repair: unhealthy, or a dead heartbeat checker) restarts it, as compose
// up leaves it alone; another hash is compose's to recreate.
func TestDeployRestartsAnUnchangedContainer(t *testing.T) {
	p := newHA(t, nil)
	want := desired(t, p, "controller.ctrl1")
	ct := controllerContainer(t, "ctl1")
	ct["Config"].(map[string]any)["Labels"].(map[string]any)[LabelHash] = want.Hash
	calls, _ := fakeDockerOn(t, fakeState{Containers: []map[string]any{ct}})
	ctx := fakeCtx(t)
	if err := p.Deploy(ctx, want); err != nil {
		t.Fatal(err)
	}
	c := calls()
	if c[len(c)-1] != "restart --time 15 ctl1" {
		t.Errorf("calls %q, want a restart last", c)
	}

	ct = controllerContainer(t, "ctl1")
	ct["Config"].(map[string]any)["Labels"].(map[string]any)[LabelHash] = "sha256:other"
	calls, _ = fakeDockerOn(t, fakeState{Containers: []map[string]any{ct}})
	if err := p.Deploy(ctx, want); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(calls(), func(s string) bool { return strings.HasPrefix(s, "restart") }) {
		t.Errorf("restarted a container with other settings: %q", calls())
	}
}
