package views

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/internal/jsonschematest"
	"github.com/hactl/hactl/internal/version"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
)

func uiSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := jsonschematest.Load(jsonschematest.UIStream)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// lines decodes a stream, failing the test on a line that is not an object.
func lines(t *testing.T, stream []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(stream))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func types(msgs []map[string]any) string {
	var ts []string
	for _, m := range msgs {
		ts = append(ts, m["type"].(string))
	}
	return strings.Join(ts, ",")
}

// dig returns m[k1][k2]...
func dig(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// apply -json as the command runs it: the real executor, its events
// through the JSON view; every line valid, version first, one
// change_summary per operation.
func TestJSONApplyStreamIsValid(t *testing.T) {
	c := testCluster()
	d, err := plan.Desired(c)
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Diff(c, d, nil, regAbsent())
	var out bytes.Buffer
	v := NewJSON(&out)
	if err := v.Plan(p); err != nil {
		t.Fatal(err)
	}
	fp := newFake(t)
	res, err := apply.Apply(context.Background(), fp, c, p, apply.Options{OnEvent: v.Event, Checker: fp, Poll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	v.Summary(OpApply, res, time.Second)

	if err := jsonschematest.Stream(uiSchema(t), bytes.NewReader(out.Bytes())); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	msgs := lines(t, out.Bytes())
	if m := msgs[0]; m["type"] != "version" || m["hactl"] != version.Version || m["ui"] != UIVersion || m["@message"] != "hactl "+version.Version {
		t.Errorf("first line: %v", m)
	}
	var summaries []string
	for _, m := range msgs {
		if m["type"] == "change_summary" {
			summaries = append(summaries, dig(m, "changes", "operation").(string))
		}
	}
	if strings.Join(summaries, ",") != "plan,apply" {
		t.Errorf("change summaries %v:\n%s", summaries, out.String())
	}
	last := msgs[len(msgs)-1]
	if dig(last, "changes", "add") != float64(5) || last["@message"] != "Apply complete! Resources: 5 added, 0 changed, 0 destroyed." {
		t.Errorf("last line: %v", last)
	}
	got := types(msgs)
	if !strings.HasPrefix(got, "version,planned_change,") || strings.Count(got, "apply_start") != 5 ||
		strings.Count(got, "apply_complete") != 5 || strings.Count(got, "gate_start,gate_complete") != 3 ||
		!strings.HasSuffix(got, "gate_start,gate_complete,change_summary") {
		t.Errorf("types: %s", got)
	}
	for _, m := range msgs {
		if m["type"] == "apply_start" && dig(m, "hook", "resource", "addr") == "controller.c1" {
			if dig(m, "hook", "action") != "create" || m["@message"] != "controller.c1: Creating..." {
				t.Errorf("apply_start: %v", m)
			}
		}
	}
}

// Removals are "delete" in planned_change and apply_* messages; a failed
// step gives apply_errored (with the log) and one diagnostic.
func TestJSONDeleteAndFailure(t *testing.T) {
	c := testCluster()
	d, err := plan.Desired(c)
	if err != nil {
		t.Fatal(err)
	}
	obs := observe(d)
	c.Webserver = nil // the webserver goes
	c.Workers[0].Port = 9001
	d, err = plan.Desired(c)
	if err != nil {
		t.Fatal(err)
	}
	reg := regAbsent()
	reg.DatabaseExists, reg.TableExists = true, true
	p := plan.Diff(c, d, obs, reg)
	var out bytes.Buffer
	v := NewJSON(&out)
	if err := v.Plan(p); err != nil {
		t.Fatal(err)
	}
	fp := newFake(t)
	for _, o := range obs {
		fp.deployed[o.Address] = true
	}
	fp.failOn = "worker.llm1"
	res, err := apply.Apply(context.Background(), fp, c, p, apply.Options{OnEvent: v.Event, Checker: fp, Poll: time.Millisecond,
		Timeouts: apply.Timeouts{Controllers: 10 * time.Second, Workers: 10 * time.Second, Frontends: 10 * time.Second}})
	if err == nil {
		t.Fatal("apply did not fail")
	}
	v.Failed(OpApply, err, res)

	if err := jsonschematest.Stream(uiSchema(t), bytes.NewReader(out.Bytes())); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	msgs := lines(t, out.Bytes())
	var sawDelete, sawErrored, sawDiag bool
	for _, m := range msgs {
		switch m["type"] {
		case "planned_change":
			if dig(m, "change", "resource", "addr") == "webserver" {
				sawDelete = dig(m, "change", "action") == "delete"
			}
		case "apply_errored":
			sawErrored = dig(m, "hook", "resource", "addr") == "worker.llm1" && m["@level"] == "error" &&
				strings.Contains(dig(m, "hook", "log").(string), "model path missing") &&
				strings.Contains(dig(m, "hook", "error").(string), "boom")
		case "diagnostic":
			sawDiag = dig(m, "diagnostic", "address") == "worker.llm1" && dig(m, "diagnostic", "server") == "server2" &&
				strings.Contains(dig(m, "diagnostic", "detail").(string), "  | fatal: model path missing") &&
				strings.Contains(dig(m, "diagnostic", "detail").(string), "Done before the failure")
		case "change_summary":
			if dig(m, "changes", "operation") != "plan" {
				t.Errorf("a failed apply has no change_summary of its own: %v", m)
			}
		}
	}
	if !sawDelete || !sawErrored || !sawDiag {
		t.Errorf("delete %v, apply_errored %v, diagnostic %v:\n%s", sawDelete, sawErrored, sawDiag, out.String())
	}
}

// A destroy's events: every action delete, registry messages, the destroy
// summary.
func TestJSONDestroyStreamIsValid(t *testing.T) {
	c := testCluster()
	d, err := plan.Desired(c)
	if err != nil {
		t.Fatal(err)
	}
	var obs []providers.Observed
	obs = append(obs, observe(d)...)
	p := apply.DestroyPlan(obs)
	var out bytes.Buffer
	v := NewJSON(&out)
	if err := v.Plan(p); err != nil {
		t.Fatal(err)
	}
	res, err := apply.Destroy(context.Background(), newFake(t), c, p, true, apply.Options{OnEvent: v.Event})
	if err != nil {
		t.Fatal(err)
	}
	v.Summary(OpDestroy, res, time.Second)
	if err := jsonschematest.Stream(uiSchema(t), bytes.NewReader(out.Bytes())); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	msgs := lines(t, out.Bytes())
	for _, m := range msgs {
		if a := dig(m, "hook", "action"); a != nil && a != "delete" {
			t.Errorf("destroy action %v: %v", a, m)
		}
	}
	last := msgs[len(msgs)-1]
	if dig(last, "changes", "operation") != "destroy" || dig(last, "changes", "remove") != float64(4) ||
		last["@message"] != "Destroy complete! Resources: 4 destroyed." {
		t.Errorf("last line: %v", last)
	}
	if !strings.Contains(types(msgs), "registry_start,registry_complete,change_summary") {
		t.Errorf("types: %s", types(msgs))
	}
}

func TestJSONDiagnostics(t *testing.T) {
	var out bytes.Buffer
	v := NewJSON(&out)
	v.Diagnostics(&apply.PreflightError{Problems: []providers.Problem{
		{Server: "server1", What: "dbgpt not found", Fix: "install DB-GPT"},
		{Server: "server3", Component: "worker.llm1", What: "model path missing"},
	}})
	v.Diagnostics(errors.New("observing the cluster: no route"))
	if err := jsonschematest.Stream(uiSchema(t), bytes.NewReader(out.Bytes())); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	msgs := lines(t, out.Bytes())
	if types(msgs) != "version,diagnostic,diagnostic,diagnostic" {
		t.Fatalf("types: %s", types(msgs))
	}
	if d := msgs[2]["diagnostic"].(map[string]any); d["summary"] != "model path missing" || d["address"] != "worker.llm1" || d["server"] != "server3" {
		t.Errorf("second problem: %v", d)
	}
	if d := msgs[1]["diagnostic"].(map[string]any); d["detail"] != "install DB-GPT" {
		t.Errorf("first problem: %v", d)
	}
}

// Hand-broken messages fail the schema: it is strict enough to catch a
// wrong type, a missing field, a stray one, and the old spelling.
func TestSchemaRejectsBrokenMessages(t *testing.T) {
	sch := uiSchema(t)
	const ts = `"@timestamp":"2026-12-07T08:00:00Z"`
	good := `{"@level":"info","@message":"m","@module":"hactl.ui",` + ts + `,"type":"apply_complete","hook":{"resource":{"addr":"worker.a"},"action":"create","elapsed_seconds":1.5}}`
	if err := jsonschematest.Document(sch, []byte(good)); err != nil {
		t.Fatalf("good message rejected: %v", err)
	}
	for name, bad := range map[string]string{
		"elapsed as string":  strings.Replace(good, `1.5`, `"1.5"`, 1),
		"no resource":        strings.Replace(good, `"resource":{"addr":"worker.a"},`, ``, 1),
		"destroy not delete": strings.Replace(good, `"create"`, `"destroy"`, 1),
		"stray hook field":   strings.Replace(good, `"elapsed_seconds":1.5`, `"elapsed_seconds":1.5,"extra":1`, 1),
		"stray top field":    strings.Replace(good, `"type"`, `"extra":true,"type"`, 1),
		"no @module":         strings.Replace(good, `"@module":"hactl.ui",`, ``, 1),
		"bad timestamp":      strings.Replace(good, `2026-12-07T08:00:00Z`, `yesterday`, 1),
		"unknown type":       strings.Replace(good, `"apply_complete"`, `"apply_done"`, 1),
		"wrong level":        strings.Replace(good, `"info"`, `"error"`, 1),
		"version without ui": `{"@level":"info","@message":"hactl dev","@module":"hactl.ui",` + ts + `,"type":"version","hactl":"dev"}`,
		"summary bad op":     `{"@level":"info","@message":"m","@module":"hactl.ui",` + ts + `,"type":"change_summary","changes":{"add":0,"change":0,"remove":0,"operation":"drill"}}`,
		"negative count":     `{"@level":"info","@message":"m","@module":"hactl.ui",` + ts + `,"type":"change_summary","changes":{"add":-1,"change":0,"remove":0,"operation":"plan"}}`,
	} {
		if err := jsonschematest.Document(sch, []byte(bad)); err == nil {
			t.Errorf("%s: accepted %s", name, bad)
		}
	}
	// A stream fails at its broken line.
	stream := good + "\n" + strings.Replace(good, `1.5`, `"x"`, 1) + "\n"
	if err := jsonschematest.Stream(sch, strings.NewReader(stream)); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("stream error = %v", err)
	}
}

// Another engine's events reach the stream as they are; the schema knows
// only the documented types, so a new engine adds its messages there.
func TestJSONUnknownEvent(t *testing.T) {
	var out bytes.Buffer
	v := NewJSON(&out)
	v.Event(drillFault{Fault: "kill", Target: "controller.c1"})
	msgs := lines(t, out.Bytes())
	m := msgs[1]
	if m["type"] != "drill_fault" || m["@message"] != "drill: kill controller.c1" || dig(m, "hook", "target") != "controller.c1" {
		t.Errorf("unknown event: %v", m)
	}
	if err := jsonschematest.Stream(uiSchema(t), bytes.NewReader(out.Bytes())); err == nil {
		t.Error("the schema accepted an undocumented message type")
	}
}
