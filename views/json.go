package views

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/drill"
	"github.com/hactl/hactl/internal/version"
	"github.com/hactl/hactl/plan"
)

// UIVersion is the version of the JSON UI stream's format: the minor number
// grows when messages or fields are added, the major when one changes or
// goes (docs/json-output.md).
const UIVersion = "1.2"

// Module is every stream message's @module.
const Module = "hactl.ui"

// JSON renders the machine-readable UI stream: one JSON object a line,
// opening with a version message (docs/json/ui-stream.schema.json).
type JSON struct {
	w  io.Writer
	mu sync.Mutex
}

// NewJSON starts a stream on w with its version message.
func NewJSON(w io.Writer) *JSON {
	j := &JSON{w: w}
	j.write(message{Level: "info", Message: "hactl " + version.Version, Type: "version",
		Hactl: version.Version, UI: UIVersion})
	return j
}

var _ Operation = (*JSON)(nil)

// message is one line of the stream. Its fields are in the order
// encoding/json writes a map's keys (sorted), as Terraform's are.
type message struct {
	Level      string      `json:"@level"`
	Message    string      `json:"@message"`
	Module     string      `json:"@module"`
	Timestamp  string      `json:"@timestamp"`
	Changes    *changes    `json:"changes,omitempty"`
	Diagnostic *diagnostic `json:"diagnostic,omitempty"`
	Hactl      string      `json:"hactl,omitempty"`
	Hook       any         `json:"hook,omitempty"`
	Type       string      `json:"type"`
	UI         string      `json:"ui,omitempty"`
}

type changes struct {
	Add       int `json:"add"`
	Change    int `json:"change"`
	Remove    int `json:"remove"`
	Operation Op  `json:"operation"`
}

type diagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	Address  string `json:"address,omitempty"` // the component concerned
	Server   string `json:"server,omitempty"`
}

type resource struct {
	Addr string `json:"addr"`
}

type applyStartHook struct {
	Resource   resource `json:"resource"`
	Action     string   `json:"action"`
	Server     string   `json:"server,omitempty"`
	OldServers []string `json:"old_servers,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Note       string   `json:"note,omitempty"`
}

type applyProgressHook struct {
	Resource       resource `json:"resource"`
	Action         string   `json:"action"`
	ElapsedSeconds float64  `json:"elapsed_seconds"`
	RemovingOldOn  string   `json:"removing_old_on,omitempty"`
	Waiting        string   `json:"waiting,omitempty"`
	LogLine        string   `json:"log_line,omitempty"`
}

type gateWaitingHook struct {
	Gate           string   `json:"gate"`
	Resource       resource `json:"resource"`
	Server         string   `json:"server,omitempty"`
	ElapsedSeconds float64  `json:"elapsed_seconds"`
	TimeoutSeconds float64  `json:"timeout_seconds"`
	Waiting        string   `json:"waiting,omitempty"`
	LogLine        string   `json:"log_line,omitempty"`
}

type applyCompleteHook struct {
	Resource       resource `json:"resource"`
	Action         string   `json:"action"`
	ElapsedSeconds float64  `json:"elapsed_seconds"`
}

type applyErroredHook struct {
	Resource       resource `json:"resource"`
	Action         string   `json:"action"`
	ElapsedSeconds float64  `json:"elapsed_seconds"`
	Server         string   `json:"server,omitempty"`
	Error          string   `json:"error"`
	Log            string   `json:"log,omitempty"`
}

type registryHook struct {
	Step           apply.RegistryStep `json:"step"`
	ElapsedSeconds *float64           `json:"elapsed_seconds,omitempty"`
	Rows           *int               `json:"rows,omitempty"`
}

type rowsHook struct {
	Rows int `json:"rows"`
}

type gateHook struct {
	Gate           string    `json:"gate"`
	Count          int       `json:"count"`
	ElapsedSeconds *float64  `json:"elapsed_seconds,omitempty"`
	Resource       *resource `json:"resource,omitempty"`
	Server         string    `json:"server,omitempty"`
	Error          string    `json:"error,omitempty"`
}

func secs(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

func secsp(d time.Duration) *float64 {
	s := secs(d)
	return &s
}

func (j *JSON) write(m message) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.writeLocked(m)
}

func (j *JSON) writeLocked(m message) {
	m.Module = Module
	m.Timestamp = time.Now().UTC().Format(time.RFC3339Nano)
	_ = json.NewEncoder(j.w).Encode(m)
}

// Plan implements Operation: plan.Renderer.JSON's registry_unknown,
// planned_change and change_summary lines, each given the stream's @module
// and Terraform's action names (destroy is "delete").
func (j *JSON) Plan(p *plan.Plan) error {
	var buf bytes.Buffer
	if err := (plan.Renderer{W: &buf}).JSON(p); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		out, err := streamLine(sc.Bytes())
		if err != nil {
			return err
		}
		if _, err := j.w.Write(out); err != nil {
			return err
		}
	}
	return sc.Err()
}

// streamLine completes one line of plan.Renderer.JSON for the stream.
// Writing it as a map sorts its keys, the order of the stream's own lines.
func streamLine(in []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(in, &m); err != nil {
		return nil, fmt.Errorf("plan JSON line %q: %w", in, err)
	}
	if _, ok := m["@module"]; !ok {
		m["@module"], _ = json.Marshal(Module)
	}
	if raw, ok := m["change"]; ok {
		var ch map[string]json.RawMessage
		if err := json.Unmarshal(raw, &ch); err != nil {
			return nil, fmt.Errorf("plan JSON change %q: %w", raw, err)
		}
		var a plan.Action
		if err := json.Unmarshal(ch["action"], &a); err == nil {
			ch["action"], _ = json.Marshal(jsonAction(a))
			m["change"], _ = json.Marshal(ch)
		}
	}
	out, err := json.Marshal(m)
	return append(out, '\n'), err
}

// Event implements Operation.
func (j *JSON) Event(ev apply.Event) {
	text, _ := line(ev)
	m := message{Level: "info", Message: text, Type: ev.Type()}
	switch e := ev.(type) {
	case apply.ResourceStart:
		m.Hook = applyStartHook{Resource: resource{e.Address}, Action: jsonAction(e.Action), Server: e.Server,
			OldServers: e.OldServers, Reason: e.Reason, Note: e.Note}
	case apply.ResourceProgress:
		m.Hook = applyProgressHook{Resource: resource{e.Address}, Action: jsonAction(e.Action),
			ElapsedSeconds: secs(e.Elapsed), RemovingOldOn: e.RemovingOld, Waiting: e.Waiting, LogLine: e.LogLine}
	case apply.ResourceComplete:
		m.Hook = applyCompleteHook{Resource: resource{e.Address}, Action: jsonAction(e.Action), ElapsedSeconds: secs(e.Elapsed)}
	case apply.ResourceErrored:
		m.Level = "error"
		m.Hook = applyErroredHook{Resource: resource{e.Address}, Action: jsonAction(e.Action), ElapsedSeconds: secs(e.Elapsed),
			Server: e.Server, Error: errText(e.Err), Log: e.Log}
	case apply.RegistryStart:
		m.Hook = registryHook{Step: e.Step}
	case apply.RegistryComplete:
		h := registryHook{Step: e.Step, ElapsedSeconds: secsp(e.Elapsed)}
		if e.Step == apply.RegistryPurge {
			h.Rows = &e.Rows
		}
		m.Hook = h
	case apply.RegistryRowsUnhealthy:
		m.Hook = rowsHook{Rows: e.Rows}
	case apply.DataKept:
		m.Hook = dataKeptHook{Resource: resource{e.Address}, Server: e.Server, Path: e.Path}
	case apply.GateStart:
		m.Hook = gateHook{Gate: e.Gate, Count: e.Count}
	case apply.GateWaiting:
		m.Hook = gateWaitingHook{Gate: e.Gate, Resource: resource{e.Address}, Server: e.Server, ElapsedSeconds: secs(e.Elapsed),
			TimeoutSeconds: secs(e.Timeout), Waiting: e.Waiting, LogLine: e.LogLine}
	case apply.GateComplete:
		m.Hook = gateHook{Gate: e.Gate, Count: e.Count, ElapsedSeconds: secsp(e.Elapsed)}
	case apply.GateErrored:
		m.Level = "error"
		m.Hook = gateHook{Gate: e.Gate, Count: e.Count, ElapsedSeconds: secsp(e.Elapsed),
			Resource: &resource{e.Address}, Server: e.Server, Error: errText(e.Err)}
	case drill.StepEvent:
		if e.Phase == drill.PhaseLeftDown {
			m.Level = "error"
		} else if e.Phase == drill.PhaseVerdict && e.Verdict != drill.VerdictHA {
			m.Level = "warn"
		}
		m.Hook = e
	default:
		// Another engine's event: its exported fields are its hook.
		m.Hook = ev
	}
	j.write(m)
}

type dataKeptHook struct {
	Resource resource `json:"resource"`
	Server   string   `json:"server"`
	Path     string   `json:"path"`
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Diagnostics implements Operation: one diagnostic message per pre-flight
// problem, else one for the error.
func (j *JSON) Diagnostics(err error) {
	var pe *apply.PreflightError
	if errors.As(err, &pe) {
		j.mu.Lock()
		defer j.mu.Unlock()
		for _, p := range pe.Problems {
			j.writeLocked(message{Level: "error", Message: "Error: " + p.Error(), Type: "diagnostic",
				Diagnostic: &diagnostic{Severity: "error", Summary: p.What, Detail: p.Fix, Server: p.Server, Address: p.Component}})
		}
		return
	}
	j.write(message{Level: "error", Message: "Error: " + err.Error(), Type: "diagnostic",
		Diagnostic: &diagnostic{Severity: "error", Summary: err.Error()}})
}

// Failed implements Operation: one diagnostic, its detail the failed
// component's log tail, what was done and the way out.
func (j *JSON) Failed(op Op, err error, res apply.Result) {
	d := &diagnostic{Severity: "error", Summary: err.Error()}
	var se *apply.StepError
	var ge *apply.GateError
	switch {
	case errors.As(err, &ge):
		d.Address, d.Server = ge.Component, ge.Server
	case errors.As(err, &se):
		d.Address, d.Server = se.Component, se.Server
	}
	if comp, log := apply.LogOf(err); log != "" {
		d.Detail = fmt.Sprintf("%s:\n%s\n", logHeading(err, comp), logTail(log))
	}
	d.Detail += doneBefore(op, res)
	j.write(message{Level: "error", Message: "Error: " + err.Error(), Type: "diagnostic", Diagnostic: d})
}

// Summary implements Operation: the operation's change_summary.
func (j *JSON) Summary(op Op, res apply.Result, _ time.Duration) {
	if op == OpPlan {
		return
	}
	j.write(message{Level: "info", Message: summaryLine(op, res), Type: "change_summary",
		Changes: &changes{Add: res.Added, Change: res.Changed, Remove: res.Destroyed, Operation: op}})
}
