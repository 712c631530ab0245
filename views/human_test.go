package views

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/plan"
)

// drillFault stands for another engine's event: views know nothing of it.
type drillFault struct {
	Fault  string `json:"fault"`
	Target string `json:"target"`
}

func (drillFault) Type() string     { return "drill_fault" }
func (d drillFault) String() string { return "drill: " + d.Fault + " " + d.Target }

// The text lines are exactly those hactl printed before views existed.
func TestHumanLines(t *testing.T) {
	var out, errw bytes.Buffer
	h := NewHuman(&out, &errw, false)
	for _, ev := range []apply.Event{
		apply.ResourceStart{Address: "registry", Action: plan.Create, Server: "server1", Reason: "file absent", Note: "file /tmp/r.db and table t will be created"},
		apply.ResourceComplete{Address: "registry", Action: plan.Create, Elapsed: 300 * time.Millisecond},
		apply.RegistryStart{Step: apply.RegistryPrepare},
		apply.RegistryComplete{Step: apply.RegistryPrepare, Elapsed: 1400 * time.Millisecond},
		apply.ResourceStart{Address: "controller.ctrl1", Action: plan.Create, Server: "server1"},
		apply.ResourceProgress{Address: "controller.ctrl1", Action: plan.Create, Elapsed: 10 * time.Second},
		apply.ResourceComplete{Address: "controller.ctrl1", Action: plan.Create, Elapsed: time.Second},
		apply.GateStart{Gate: "controllers", Count: 2},
		apply.GateComplete{Gate: "controllers", Count: 2, Elapsed: 300 * time.Millisecond},
		apply.ResourceStart{Address: "worker.llm1", Action: plan.Update, Server: "server2", Reason: "settings changed"},
		apply.ResourceStart{Address: "worker.emb", Action: plan.Replace, Server: "server1", OldServers: []string{"server3"}, Reason: "server changed"},
		apply.ResourceProgress{Address: "worker.emb", Action: plan.Replace, Elapsed: 2 * time.Second, RemovingOld: "server3"},
		apply.ResourceComplete{Address: "worker.emb", Action: plan.Replace, Elapsed: 65 * time.Second},
		apply.ResourceStart{Address: "webserver", Action: plan.Destroy, Server: "server1", OldServers: []string{"server1"}, Reason: "no longer in the cluster file"},
		apply.ResourceComplete{Address: "webserver", Action: plan.Destroy, Elapsed: time.Second},
		apply.ResourceErrored{Address: "worker.llm1", Action: plan.Update, Err: errors.New("boom"), Log: "x"},
		apply.GateErrored{Gate: "workers", Count: 1, Address: "worker.llm1", Err: errors.New("boom")},
		apply.RegistryRowsUnhealthy{Rows: 3},
		apply.RegistryStart{Step: apply.RegistryPurge},
		apply.RegistryComplete{Step: apply.RegistryPurge, Elapsed: 2 * time.Second},
		drillFault{Fault: "kill", Target: "controller.c1"},
	} {
		h.Event(ev)
	}
	h.Summary(OpApply, apply.Result{Added: 1}, 1234*time.Millisecond)
	h.Summary(OpDestroy, apply.Result{Destroyed: 5}, 2*time.Second)
	h.Summary(OpPlan, apply.Result{Added: 9}, time.Second)
	want := `
registry: Creating... (file /tmp/r.db and table t will be created)
registry: Creation complete after 0s
registry: Preparing...
registry: Ready after 1s
controller.ctrl1: Creating...
controller.ctrl1: Still creating... [10s elapsed]
controller.ctrl1: Creation complete after 1s
gate controllers: 2 healthy after 0s
worker.llm1: Modifying... (settings changed)
worker.emb: Replacing... (on server1, was on server3)
worker.emb: Destroying the old copy on server3...
worker.emb: Replacement complete after 1m5s
webserver: Destroying... (on server1)
webserver: Destruction complete after 1s
registry: marked 3 row(s) unhealthy
registry: Purging...
registry: Purge complete after 2s
drill: kill controller.c1

Apply complete! Resources: 1 added, 0 changed, 0 destroyed. (1.2s)

Destroy complete! Resources: 5 destroyed. (2s)
`
	if out.String() != want {
		t.Errorf("human output:\n%s\nwant:\n%s", out.String(), want)
	}
	if errw.Len() != 0 {
		t.Errorf("stderr: %q", errw.String())
	}
}

func TestHumanFailure(t *testing.T) {
	var out, errw bytes.Buffer
	h := NewHuman(&out, &errw, false)
	err := &apply.GateError{Gate: "workers", Component: "worker.emb", Server: "server3", Err: errors.New("no row"), Log: "line 1\nfatal: model path missing\n"}
	h.Failed(OpApply, err, apply.Result{Added: 2})
	want := `Error: health gate "workers" failed: worker.emb on server server3: no row

Last lines of the log of worker.emb:
  | line 1
  | fatal: model path missing

Done before the failure: Resources: 2 added, 0 changed, 0 destroyed.
Fix the cause, then run 'hactl apply' again: it repairs what is left.
`
	if errw.String() != want {
		t.Errorf("failure:\n%s\nwant:\n%s", errw.String(), want)
	}
	if out.Len() != 0 || !strings.Contains(Failure(OpApply, err, apply.Result{}).Error(), "  | fatal: model path missing") {
		t.Errorf("stdout %q", out.String())
	}
}
