package views

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hactl/hactl/internal/jsonschematest"
	"github.com/hactl/hactl/internal/status"
	"github.com/hactl/hactl/schema"
)

func load(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	sch, err := jsonschematest.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// mutate decodes doc, applies f, and encodes it again.
func mutate(t *testing.T, doc []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStatusJSONMatchesItsSchema(t *testing.T) {
	sch := load(t, jsonschematest.Status)
	r := &status.Report{
		Cluster: "prod", Version: "0.6.3", ModelsSource: status.SourceControllers,
		Components: []status.Component{
			{Name: "controller.c1", Role: "controller", Server: "s1", Address: "10.0.0.1:8000", State: status.StateRunning,
				PID: 42, StartedAt: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), UptimeSeconds: ptr[int64](60), Restarts: ptr(0), InFile: true},
			{Name: "worker.llm", Role: "worker", Server: "s2", Address: "10.0.0.2:8001", State: status.StateNotDeployed,
				Reason: "no manifest", InFile: true},
		},
		Controllers: []status.Controller{{Name: "controller.c1", URL: "http://10.0.0.1:8000", Answered: true},
			{Name: "controller.c2", URL: "http://10.0.0.2:8000", Error: "refused"}},
		Models: []status.Model{{ModelName: "glm", ModelType: "llm", Host: "10.0.0.2", Port: 8001, Healthy: true, Enabled: true,
			LastHeartbeat: "2026-12-07 08:00:00", HeartbeatAgeSeconds: ptr[int64](5), State: "live, duplicate", Live: true, Duplicate: true,
			Via: []string{"controller.c1"}}},
		Notes: []string{"a note"},
	}
	var out bytes.Buffer
	if err := StatusJSON(&out, r); err != nil {
		t.Fatal(err)
	}
	if err := jsonschematest.Document(sch, out.Bytes()); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `"format_version": "`+status.FormatVersion+`"`) || r.FormatVersion != "" {
		t.Errorf("format_version missing, or the report itself changed:\n%s", out.String())
	}
	for name, f := range map[string]func(m map[string]any){
		"no format_version": func(m map[string]any) { delete(m, "format_version") },
		"pid as string":     func(m map[string]any) { m["components"].([]any)[0].(map[string]any)["pid"] = "42" },
		"unknown state":     func(m map[string]any) { m["components"].([]any)[0].(map[string]any)["state"] = "fine" },
		"stray field":       func(m map[string]any) { m["extra"] = 1 },
		"models not a list": func(m map[string]any) { m["models"] = map[string]any{} },
	} {
		if err := jsonschematest.Document(sch, mutate(t, out.Bytes(), f)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestValidateJSONMatchesItsSchema(t *testing.T) {
	sch := load(t, jsonschematest.Validate)
	_, diags, _ := schema.LoadDiagnostics("../schema/testdata/invalid/bad_address.hcl", schema.LoadOptions{AllowUnsetVariables: true})
	if !diags.HasErrors() {
		t.Fatal("the invalid file is valid")
	}
	var out bytes.Buffer
	if err := ValidateJSON(&out, schema.DiagnosticsJSON(diags)); err != nil {
		t.Fatal(err)
	}
	if err := jsonschematest.Document(sch, out.Bytes()); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `"format_version": "1.0"`) || !strings.Contains(out.String(), `"range"`) {
		t.Errorf("validate -json:\n%s", out.String())
	}
	for name, f := range map[string]func(m map[string]any){
		"no format_version": func(m map[string]any) { delete(m, "format_version") },
		"valid as string":   func(m map[string]any) { m["valid"] = "false" },
		"line 0": func(m map[string]any) {
			dig(m["diagnostics"].([]any)[0].(map[string]any), "range", "start").(map[string]any)["line"] = 0
		},
		"no summary": func(m map[string]any) { delete(m["diagnostics"].([]any)[0].(map[string]any), "summary") },
	} {
		if err := jsonschematest.Document(sch, mutate(t, out.Bytes(), f)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The example stream in docs/json-output.md is valid, bar the lines it
// shortens with "…".
func TestDocsExampleStreamIsValid(t *testing.T) {
	doc, err := os.ReadFile("../docs/json-output.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "```json\n")
	if !ok {
		t.Fatal("no ```json block")
	}
	block, _, _ = strings.Cut(block, "```")
	sch := load(t, jsonschematest.UIStream)
	checked := 0
	for i, l := range strings.Split(strings.TrimSpace(block), "\n") {
		if strings.Contains(l, "…") {
			continue
		}
		if err := jsonschematest.Document(sch, []byte(l)); err != nil {
			t.Errorf("example line %d: %v\n%s", i+1, err, l)
		}
		checked++
	}
	if checked < 10 {
		t.Errorf("only %d example lines checked", checked)
	}
}

func ptr[T any](v T) *T { return &v }
