package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fatih/color"
)

// NoChanges is printed when the cluster already matches the file.
const NoChanges = "No changes. Your cluster matches the configuration."

// Renderer writes plans for people (Terraform's layout) or machines (one
// JSON object a line).
type Renderer struct {
	W     io.Writer
	Color bool
}

type palette struct{ add, change, destroy, bold, dim func(a ...any) string }

func (r Renderer) palette() palette {
	mk := func(attrs ...color.Attribute) func(a ...any) string {
		c := color.New(attrs...)
		if r.Color {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c.SprintFunc()
	}
	return palette{
		add: mk(color.FgGreen), change: mk(color.FgYellow), destroy: mk(color.FgRed),
		bold: mk(color.Bold), dim: mk(color.Faint),
	}
}

// Text renders the plan like `terraform plan`.
func (r Renderer) Text(p *Plan) {
	pal := r.palette()
	w := r.W
	if p.Empty() {
		fmt.Fprintln(w)
		fmt.Fprintln(w, pal.bold(NoChanges))
		r.starting(pal, p)
		if p.Registry.Unknown() {
			fmt.Fprintln(w)
			fmt.Fprintln(w, pal.change("Warning:")+" "+registryUnknown(p.Registry))
		}
		return
	}
	used := map[Action]bool{}
	for _, ch := range p.Changes {
		used[ch.Action] = true
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "hactl compared the cluster file with what runs on the servers. Actions are shown with these symbols:")
	if used[Create] {
		fmt.Fprintf(w, "  %s create\n", pal.add("+"))
	}
	if used[Update] {
		fmt.Fprintf(w, "  %s update in-place (restart with new settings)\n", pal.change("~"))
	}
	if used[Replace] {
		fmt.Fprintf(w, "%s create replacement and then destroy\n", pal.add("+")+"/"+pal.destroy("-"))
	}
	if used[Destroy] {
		fmt.Fprintf(w, "  %s destroy\n", pal.destroy("-"))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "hactl will perform the following actions:")
	if p.Registry.Unknown() {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  %s\n", pal.bold("# "+registryUnknown(p.Registry)))
	}
	for _, ch := range p.Changes {
		fmt.Fprintln(w)
		r.change(pal, ch)
	}
	r.starting(pal, p)
	s := p.Summary()
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%s %d to add, %d to change, %d to destroy.\n", pal.bold("Plan:"), s.Add, s.Change, s.Destroy)
}

// starting notes the components still starting: not changes, waited for.
func (r Renderer) starting(pal palette, p *Plan) {
	for _, s := range p.Starting {
		fmt.Fprintln(r.W)
		fmt.Fprintf(r.W, "%s %s: %s\n", pal.bold("Note:"), s.Note(), startingDetail(s))
	}
}

func startingDetail(s Starting) string {
	d := "apply waits for it, it does not restart it"
	if s.Reason != "" {
		d = "it does not serve yet (" + s.Reason + "); " + d
	}
	return d
}

func (r Renderer) change(pal palette, ch *Change) {
	w := r.W
	var sym, verb string
	switch ch.Action {
	case Create:
		sym, verb = "  "+pal.add("+"), "will be created"
	case Update:
		sym, verb = "  "+pal.change("~"), "will be updated in-place"
	case Replace:
		// hactl's replace is Terraform's create_before_destroy (the new copy
		// is healthy before the old one goes), hence +/- and not -/+; no
		// hactl action destroys first.
		sym, verb = pal.add("+")+"/"+pal.destroy("-"), "must be replaced"
	case Destroy:
		sym, verb = "  "+pal.destroy("-"), "will be destroyed"
	}
	head := fmt.Sprintf("# %s %s", ch.Address, verb)
	if ch.Reason != "" {
		head += " (" + ch.Reason + ")"
	}
	if ch.Action == Destroy && len(ch.OldServers) > 0 {
		head += " on " + strings.Join(ch.OldServers, ", ")
	}
	fmt.Fprintf(w, "  %s\n", pal.bold(head))
	fmt.Fprintf(w, "%s %s %q {\n", sym, ch.Role, ch.Name)

	keys := unionKeys(ch.Before, ch.After)
	width := 0
	for _, k := range keys {
		if len(k) > width {
			width = len(k)
		}
	}
	hidden := 0
	for _, k := range keys {
		old, hadOld := ch.Before[k]
		nw, hasNew := ch.After[k]
		pad := strings.Repeat(" ", width-len(k))
		switch ch.Action {
		case Create:
			fmt.Fprintf(w, "      %s %s%s = %s\n", pal.add("+"), k, pad, value(k, nw))
		case Destroy:
			fmt.Fprintf(w, "      %s %s%s = %s %s\n", pal.destroy("-"), k, pad, value(k, old), pal.dim("-> null"))
		default:
			switch {
			case hadOld && hasNew && old == nw && ch.changedSensitive(k):
				// A secret that changed behind "(sensitive)" (its digest
				// differs), shown as Terraform shows one.
				fmt.Fprintf(w, "      %s %s%s = %s\n", pal.change("~"), k, pad, value(k, nw))
			case hadOld && hasNew && old == nw:
				hidden++
			case hadOld && hasNew:
				note := ""
				if ch.Action == Replace && k == "server" {
					note = " " + pal.destroy("# forces replacement")
				}
				fmt.Fprintf(w, "      %s %s%s = %s -> %s%s\n", pal.change("~"), k, pad, value(k, old), value(k, nw), note)
			case hasNew:
				fmt.Fprintf(w, "      %s %s%s = %s\n", pal.add("+"), k, pad, value(k, nw))
			default:
				fmt.Fprintf(w, "      %s %s%s = %s %s\n", pal.destroy("-"), k, pad, value(k, old), pal.dim("-> null"))
			}
		}
	}
	if ch.Note != "" {
		fmt.Fprintf(w, "        %s\n", pal.dim("# ("+ch.Note+")"))
	}
	if ch.Action == Update || ch.Action == Replace {
		if ch.Action == Update && ch.Reason == "settings changed" && changedAttrs(ch) == 0 {
			fmt.Fprintf(w, "        %s\n", pal.dim("# (a sensitive or derived setting changed; values not shown)"))
		}
		if ch.Action == Update && ch.Reason == "not running" {
			fmt.Fprintf(w, "        %s\n", pal.dim("# (the process is not running: it will be restarted)"))
		}
		if ch.Action == Replace && len(ch.OldServers) == 1 && ch.OldServers[0] == ch.Server {
			fmt.Fprintf(w, "        %s\n", pal.dim("# (its settings are unchanged: its process will be restarted where it is)"))
		}
		if ch.Action == Update && strings.HasPrefix(ch.Reason, "unhealthy") {
			fmt.Fprintf(w, "        %s\n", pal.dim("# (it runs but fails its health check: it will be restarted)"))
		}
		if hidden > 0 {
			fmt.Fprintf(w, "        %s\n", pal.dim(fmt.Sprintf("# (%d unchanged attributes hidden)", hidden)))
		}
	}
	fmt.Fprintln(w, "    }")
}

// registryUnknown says that a registry could not be checked, and what
// apply does about it. It is not counted: plan cannot tell whether anything
// is to be created.
func registryUnknown(s *RegistryState) string {
	return fmt.Sprintf("registry (%s) could not be checked: %s; apply prepares it (creates what is absent) before any controller starts",
		s.Where, s.Err)
}

func changedAttrs(ch *Change) int {
	n := 0
	for _, k := range unionKeys(ch.Before, ch.After) {
		o, ok1 := ch.Before[k]
		v, ok2 := ch.After[k]
		if ok1 != ok2 || o != v {
			n++
		}
	}
	return n
}

// value shows an attribute's value as Terraform does: numbers and booleans
// bare, strings quoted, a secret as (sensitive). A value that does not
// parse as its kind (a hand-edited manifest) is shown quoted.
func value(k, v string) string {
	if v == Sensitive {
		return v
	}
	if x, ok := typed(k, v).(string); ok {
		return strconv.Quote(x)
	}
	return v
}

// typed is an attribute's value as a JSON value: an int64 or float64 for a
// number, a bool for a boolean, else the string.
func typed(k, v string) any {
	if v == Sensitive {
		return v
	}
	switch KindOf(k) {
	case KindNumber:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	case KindBool:
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return v
}

func unionKeys(a, b map[string]string) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// JSON messages, modelled on Terraform's machine-readable UI.
type jsonMessage struct {
	Level     string         `json:"@level"`
	Message   string         `json:"@message"`
	Timestamp string         `json:"@timestamp"`
	Type      string         `json:"type"`
	Change    *jsonChange    `json:"change,omitempty"`
	Changes   *jsonSummary   `json:"changes,omitempty"`
	Registry  *RegistryState `json:"registry,omitempty"`
	Starting  *jsonStarting  `json:"starting,omitempty"`
}

// jsonStarting is a component_starting message's body.
type jsonStarting struct {
	Resource       jsonResource `json:"resource"`
	StartedAt      time.Time    `json:"started_at,omitzero"`
	AgeSeconds     int64        `json:"age_seconds"`
	TimeoutSeconds int64        `json:"timeout_seconds"`
	Reason         string       `json:"reason,omitempty"`
}

type jsonResource struct {
	Addr   string `json:"addr"`
	Role   string `json:"role"`
	Name   string `json:"name"`
	Server string `json:"server"`
}

// jsonAttr is one attribute's old and new value: null when absent, a JSON
// number or boolean for a number or bool attribute, else a string (a secret
// as "(sensitive)").
type jsonAttr struct {
	Old any `json:"old"`
	New any `json:"new"`
}

type jsonChange struct {
	Resource   jsonResource        `json:"resource"`
	Action     Action              `json:"action"`
	Reason     string              `json:"reason,omitempty"`
	Note       string              `json:"note,omitempty"`
	OldServers []string            `json:"old_servers,omitempty"`
	Attributes map[string]jsonAttr `json:"attributes"`
}

type jsonSummary struct {
	Summary
	Operation string `json:"operation"`
}

// JSON writes one object a line: a registry_unknown warning when the
// registry could not be checked, a planned_change per change (the registry
// create too: resource addr "registry"), a component_starting per
// component still starting (not a change), and a change_summary.
func (r Renderer) JSON(p *Plan) error {
	enc := json.NewEncoder(r.W)
	now := func() string { return time.Now().UTC().Format(time.RFC3339Nano) }
	if p.Registry.Unknown() {
		if err := enc.Encode(jsonMessage{Level: "warn", Message: registryUnknown(p.Registry),
			Timestamp: now(), Type: "registry_unknown", Registry: p.Registry}); err != nil {
			return err
		}
	}
	for _, ch := range p.Changes {
		jc := &jsonChange{
			Resource:   jsonResource{Addr: ch.Address, Role: ch.Role, Name: ch.Name, Server: ch.Server},
			Action:     ch.Action,
			Reason:     ch.Reason,
			Note:       ch.Note,
			OldServers: ch.OldServers,
			Attributes: map[string]jsonAttr{},
		}
		for _, k := range unionKeys(ch.Before, ch.After) {
			old, hadOld := ch.Before[k]
			nw, hasNew := ch.After[k]
			if ch.Action != Create && ch.Action != Destroy && hadOld && hasNew && old == nw && !ch.changedSensitive(k) {
				continue
			}
			var a jsonAttr
			if hadOld {
				a.Old = typed(k, old)
			}
			if hasNew {
				a.New = typed(k, nw)
			}
			jc.Attributes[k] = a
		}
		msg := fmt.Sprintf("%s: Plan to %s", ch.Address, ch.Action)
		if err := enc.Encode(jsonMessage{Level: "info", Message: msg, Timestamp: now(), Type: "planned_change", Change: jc}); err != nil {
			return err
		}
	}
	for _, st := range p.Starting {
		var ch *Change
		for _, u := range p.Unchanged {
			if u.Address == st.Address {
				ch = u
			}
		}
		res := jsonResource{Addr: st.Address, Server: st.Server}
		if ch != nil {
			res.Role, res.Name = ch.Role, ch.Name
		}
		js := &jsonStarting{Resource: res, StartedAt: st.StartedAt.UTC(), AgeSeconds: int64(st.Age.Round(time.Second) / time.Second),
			TimeoutSeconds: int64(st.Timeout.Round(time.Second) / time.Second), Reason: st.Reason}
		if err := enc.Encode(jsonMessage{Level: "info", Message: st.Note() + ": " + startingDetail(st), Timestamp: now(),
			Type: "component_starting", Starting: js}); err != nil {
			return err
		}
	}
	s := p.Summary()
	msg := fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy.", s.Add, s.Change, s.Destroy)
	if p.Empty() {
		msg = NoChanges
	}
	return enc.Encode(jsonMessage{Level: "info", Message: msg, Timestamp: now(), Type: "change_summary",
		Changes: &jsonSummary{Summary: s, Operation: "plan"}})
}
