package ssh

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/test/e2e/testcluster"
)

// TestDownUpSystemd: a controller as a systemd unit on the e2e cluster's
// systemd image (systemd PID 1, reached over SSH as root). Down kill
// (systemctl kill -s SIGKILL, then stop) and stop leave the unit inactive:
// systemd's Restart=always does not bring it back; Up (systemctl start)
// runs it again, still enabled. The registry database stopped, the
// controller's heartbeat checker dies and Observe reports the defect,
// which a plan turns into a replace and a Deploy repairs.
func TestDownUpSystemd(t *testing.T) {
	t.Parallel()
	tc := testcluster.Start(t, testcluster.Options{Systemd: true})
	params := tc.HAParams()
	params.HeartbeatInterval, params.HeartbeatTimeout = 1, 3
	file := tc.WriteClusterFile(params)
	c, err := schema.Load(file, schema.LoadOptions{Vars: []string{"registry_password=" + tc.DBPassword}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := plan.Desired(c)
	if err != nil {
		t.Fatal(err)
	}
	ctl := want[0]
	if ctl.Address != "controller.controller1" {
		t.Fatalf("first component %s", ctl.Address)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := newTestProvider(t, c)
	if err := p.Registry(c).Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Deploy(ctx, ctl); err != nil {
		t.Fatal(err)
	}
	unit := unitName(c.Name, ctl.Address)
	unitState := func() string {
		out, _ := tc.Exec(testcluster.Server1, "systemctl is-active "+unit+"; systemctl is-enabled "+unit)
		return strings.Join(strings.Fields(out), " ")
	}
	if got := unitState(); got != "active enabled" {
		t.Fatalf("after deploy the unit is %q", got)
	}
	o := observedOf(t, p, c, ctl.Address)
	if !o.Running || o.Defect != "" {
		t.Fatalf("after deploy: %+v", o)
	}
	for _, mode := range []providers.FaultMode{providers.FaultKill, providers.FaultStop} {
		before := observedOf(t, p, c, ctl.Address)
		start := time.Now()
		if err := p.Down(ctx, before, mode); err != nil {
			t.Fatal(err)
		}
		t.Logf("down (%s): %v", mode, time.Since(start).Round(time.Millisecond))
		// RestartSec=2: a restart would come within it; watch 5 s.
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
			if got := unitState(); got != "inactive enabled" && got != "failed enabled" {
				t.Fatalf("down (%s): the unit is %q", mode, got)
			}
		}
		if o := observedOf(t, p, c, ctl.Address); o.Running {
			t.Fatalf("down (%s): observed running %+v", mode, o)
		}
		start = time.Now()
		if err := p.Up(ctx, before); err != nil {
			t.Fatal(err)
		}
		t.Logf("up: %v", time.Since(start).Round(time.Millisecond))
		after := observedOf(t, p, c, ctl.Address)
		if got := unitState(); got != "active enabled" || !after.Running || after.PID == before.PID {
			t.Errorf("after up: unit %q, %+v (before %+v)", got, after, before)
		}
		logs, _ := p.Logs(ctx, after, 200)
		if !strings.Contains(logs, "drill: down ("+string(mode)+")") || !strings.Contains(logs, "drill: up") {
			t.Errorf("the drill's lines are not in the log:\n%s", logs)
		}
	}

	// The registry database goes away: the checker dies.
	if err := tc.StopHost(testcluster.DBHost); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for o = observedOf(t, p, c, ctl.Address); o.Defect == ""; o = observedOf(t, p, c, ctl.Address) {
		if time.Now().After(deadline) {
			logs, _ := p.Logs(ctx, o, 30)
			t.Fatalf("no defect within a minute: %+v\n%s", o, logs)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("defect: %s", o.Defect)
	if err := tc.StartHost(testcluster.DBHost); err != nil {
		t.Fatal(err)
	}
	pl := plan.Diff(c, []*plan.Component{ctl}, []plan.Observed{o}, nil)
	if len(pl.Changes) != 1 || pl.Changes[0].Action != plan.Replace || pl.Changes[0].Reason != o.Defect {
		t.Fatalf("plan: %+v", pl.Changes)
	}
	// The database back, apply carries out the replace: the unit restarts.
	deadline = time.Now().Add(2 * time.Minute)
	for {
		st, err := p.Registry(c).State(ctx)
		if err == nil && st.Reachable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database is not back: %+v %v", st, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	res, err := apply.Apply(ctx, p, c, pl, apply.Options{SkipPreflight: true})
	if err != nil {
		t.Fatal(err)
	}
	after := observedOf(t, p, c, ctl.Address)
	if got := unitState(); got != "active enabled" || !after.Running || after.Defect != "" || after.PID == o.PID {
		t.Errorf("after apply (%+v): unit %q, %+v", res, got, after)
	}
}
