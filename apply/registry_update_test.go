package apply

import (
	"context"
	"testing"

	"github.com/hactl/hactl/plan"
)

// A registry update alone (the database service's settings changed): the
// registry is prepared (the provider recreates its service there), counted
// as one change, no component is deployed, and every gate then checks the
// components, whose database connections were cut.
func TestRegistryUpdateRunsTheGates(t *testing.T) {
	c := cluster()
	d := mustDesired(t, c)
	reg := regPresent()
	old := plan.NewServiceSettings("salt", map[string]string{"database_image": "mysql:8.0"}, nil)
	reg.Service = &plan.ServiceState{Name: "registry-db", Have: &old,
		Want: plan.NewServiceSettings("salt", map[string]string{"database_image": "mysql:8.4"}, nil)}
	p := plan.Diff(c, d, observe(d), reg)
	if p.Summary() != (plan.Summary{Change: 1}) {
		t.Fatalf("plan = %+v", p.Summary())
	}
	fp := newFake(t)
	for _, comp := range d {
		fp.deployed[comp.Address] = true
	}
	var out recorder
	res, err := Apply(context.Background(), fp, c, p, opts(fp, &fakeChecker{p: fp, warmup: 1}, &out))
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if res != (Result{Changed: 1}) {
		t.Errorf("result = %+v", res)
	}
	ev := fp.events()
	if len(ev) < 2 || ev[0] != "preflight" || ev[1] != "registry" {
		t.Fatalf("registry not prepared first: %v", ev)
	}
	for _, e := range ev {
		if len(e) > 7 && e[:7] == "deploy " {
			t.Errorf("a component was deployed: %v", ev)
		}
	}
	for _, comp := range d {
		if indexOf(ev, "healthy "+comp.Address) < 0 {
			t.Errorf("%s not checked after the registry update: %v", comp.Address, ev)
		}
	}
	start := out.index(ResourceStart{Address: "registry", Action: plan.Update, Server: "registry-db",
		Reason: p.Changes[0].Reason, Note: p.Changes[0].Note})
	done := out.index(ResourceComplete{Address: "registry", Action: plan.Update})
	gate := out.index(GateStart{Gate: "controllers", Count: 2})
	if start != 0 || done != 1 || gate < done {
		t.Errorf("events (%d, %d, %d):\n%s", start, done, gate, out.String())
	}
}
