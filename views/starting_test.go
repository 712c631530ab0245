package views

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/internal/jsonschematest"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
)

var waitEvents = []apply.Event{
	apply.ResourceProgress{Address: "worker.llm", Action: plan.Create, Elapsed: 80 * time.Second,
		Waiting: "waiting for glm-4-9b-chat to register through controller1, controller2", LogLine: "Loading checkpoint shards: 3/4"},
	apply.ResourceProgress{Address: "worker.llm", Action: plan.Update, Elapsed: 10 * time.Second, LogLine: "Loading checkpoint shards: 1/4"},
	apply.GateWaiting{Gate: "workers", Address: "worker.llm", Server: "server2", Elapsed: 80 * time.Second, Timeout: 30 * time.Minute,
		Waiting: "waiting for glm-4-9b-chat to load (port 8001 does not answer yet)"},
}

// Progress lines say what is awaited and what the process last logged.
func TestHumanWaitLines(t *testing.T) {
	var out, errw bytes.Buffer
	h := NewHuman(&out, &errw, false)
	for _, ev := range waitEvents {
		h.Event(ev)
	}
	want := `
worker.llm: Still creating... [1m20s elapsed] waiting for glm-4-9b-chat to register through controller1, controller2; log: Loading checkpoint shards: 3/4
worker.llm: Still modifying... [10s elapsed] log: Loading checkpoint shards: 1/4
worker.llm: Still starting... [1m20s elapsed of 30m] waiting for glm-4-9b-chat to load (port 8001 does not answer yet)
`
	if out.String() != want {
		t.Errorf("human output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// A crash loop's failure shows the failed attempt's error lines under
// their own heading.
func TestHumanCrashLoopFailure(t *testing.T) {
	cl := &apply.CrashLoopError{Component: "worker.llm", Server: "server2", Restarts: 3,
		Exits:      []providers.Exit{{Status: 2, Uptime: time.Second}, {Status: 2, Uptime: time.Second}, {Status: 2, Uptime: time.Second}},
		ErrorLines: []string{"Usage: dbgpt start worker [OPTIONS]", "Error: No such option '--x'."}}
	err := &apply.GateError{Gate: "workers", Component: "worker.llm", Server: "server2", Err: cl, Log: strings.Join(cl.ErrorLines, "\n")}
	got := Failure(OpApply, err, apply.Result{}).Error()
	for _, s := range []string{
		`health gate "workers" failed: worker.llm on server server2: crash loop: its process exited 3 times since it was deployed, each within 1s of its start (exit status 2, 2, 2): Error: No such option '--x'.`,
		"Error lines of the last failed start of worker.llm:\n  | Usage: dbgpt start worker [OPTIONS]\n  | Error: No such option '--x'.\n",
	} {
		if !strings.Contains(got, s) {
			t.Errorf("failure lacks %q:\n%s", s, got)
		}
	}
	var out bytes.Buffer
	NewJSON(&out).Failed(OpApply, err, apply.Result{})
	if !strings.Contains(out.String(), "Error lines of the last failed start of worker.llm") {
		t.Errorf("JSON failure:\n%s", out.String())
	}
}

// A plan that finds a component starting: its component_starting line,
// the wait events, all valid against the stream's schema.
func TestJSONStartingAndWaitsAreValid(t *testing.T) {
	c := testCluster()
	d, err := plan.Desired(c)
	if err != nil {
		t.Fatal(err)
	}
	obs := observe(d)
	for i := range obs {
		obs[i].StartedAt = time.Now().Add(-80 * time.Second)
	}
	reg := regAbsent()
	reg.DatabaseExists, reg.TableExists = true, true
	p := plan.Diff(c, d, obs, reg)
	if !p.MarkStarting(plan.Starting{Address: "worker.llm1", Server: "server2", StartedAt: obs[0].StartedAt, Age: 80 * time.Second,
		Timeout: 30 * time.Minute, Reason: "worker.llm1: port 8001 does not answer"}) {
		t.Fatal("worker.llm1 is not unchanged")
	}
	var out bytes.Buffer
	v := NewJSON(&out)
	if err := v.Plan(p); err != nil {
		t.Fatal(err)
	}
	for _, ev := range waitEvents {
		v.Event(ev)
	}
	v.Failed(OpApply, &apply.GateError{Gate: "workers", Component: "worker.llm1", Server: "server2", Err: errors.New("x")}, apply.Result{})
	if err := jsonschematest.Stream(uiSchema(t), bytes.NewReader(out.Bytes())); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	msgs := lines(t, out.Bytes())
	if got := types(msgs); !strings.HasPrefix(got, "version,component_starting,change_summary,apply_progress,apply_progress,gate_waiting") {
		t.Errorf("types: %s", got)
	}
	st := msgs[1]
	if dig(st, "starting", "resource", "addr") != "worker.llm1" || dig(st, "starting", "age_seconds") != 80.0 ||
		dig(st, "starting", "timeout_seconds") != 1800.0 || !strings.Contains(st["@message"].(string), "worker.llm1 is still starting (1m20s of 30m)") {
		t.Errorf("component_starting: %v", st)
	}
	if sum := msgs[2]; dig(sum, "changes", "change") != 0.0 || sum["@message"] != plan.NoChanges {
		t.Errorf("a starting component counted as a change: %v", sum)
	}
	if g := msgs[5]; dig(g, "hook", "timeout_seconds") != 1800.0 || dig(g, "hook", "waiting") == nil {
		t.Errorf("gate_waiting: %v", g)
	}
}

// destroy's note of data it kept: one text line, one valid JSON message.
func TestDataKept(t *testing.T) {
	ev := apply.DataKept{Address: "webserver", Server: "server3", Path: "/opt/hactl/c/webserver/data"}
	var out, errw bytes.Buffer
	NewHuman(&out, &errw, false).Event(ev)
	want := "\nwebserver: data kept in /opt/hactl/c/webserver/data on server3 (a later apply reuses it; destroy --purge-registry deletes it)\n"
	if out.String() != want {
		t.Errorf("human: %q, want %q", out.String(), want)
	}
	out.Reset()
	NewJSON(&out).Event(ev)
	if err := jsonschematest.Stream(uiSchema(t), bytes.NewReader(out.Bytes())); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	msgs := lines(t, out.Bytes())
	m := msgs[len(msgs)-1]
	if m["type"] != "data_kept" || dig(m, "hook", "path") != ev.Path || dig(m, "hook", "server") != "server3" {
		t.Errorf("json: %v", m)
	}
}
