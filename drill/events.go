package drill

import (
	"fmt"
	"strings"

	"github.com/hactl/hactl/providers"
)

// Phases of a step, in the order they happen.
const (
	PhasePlanned  = "planned"   // dry run: what the step would do
	PhaseDown     = "down"      // the target was taken down
	PhaseDetected = "detected"  // worker step: every controller marked it unhealthy
	PhaseUp       = "up"        // it was started again
	PhaseRestored = "restored"  // healthy again, every model live through it
	PhaseLeftDown = "left down" // restoring it failed
	PhaseVerdict  = "verdict"   // the step's verdict, with its problems
)

// StepEvent is one phase of a step (JSON message type drill_step).
type StepEvent struct {
	Step           int                 `json:"step"` // 1-based
	Steps          int                 `json:"steps"`
	Target         string              `json:"target"`
	Kind           string              `json:"kind"`
	Mode           providers.FaultMode `json:"mode"`
	Phase          string              `json:"phase"`
	ElapsedSeconds float64             `json:"elapsed_seconds"` // since the step began
	Verdict        string              `json:"verdict,omitempty"`
	Detail         string              `json:"detail,omitempty"`
}

// Type implements apply.Event.
func (StepEvent) Type() string { return "drill_step" }

// String is the event's text line.
func (e StepEvent) String() string {
	s := fmt.Sprintf("drill %d/%d %s: ", e.Step, e.Steps, e.Target)
	el := fmt.Sprintf(" [%.0fs]", e.ElapsedSeconds)
	switch e.Phase {
	case PhasePlanned:
		return s + e.Detail
	case PhaseDown:
		return s + "down (" + string(e.Mode) + ")" + el + detail(e.Detail)
	case PhaseDetected:
		return s + "marked unhealthy through every controller" + el + detail(e.Detail)
	case PhaseUp:
		return s + "started again" + el
	case PhaseRestored:
		return s + "restored" + el + detail(e.Detail)
	case PhaseLeftDown:
		return s + "LEFT DOWN" + el + detail(e.Detail)
	case PhaseVerdict:
		v := "HA"
		if e.Verdict != VerdictHA {
			v = strings.ToUpper(e.Verdict)
		}
		return s + v + detail(e.Detail)
	}
	return s + e.Phase + el + detail(e.Detail)
}

func detail(d string) string {
	if d == "" {
		return ""
	}
	return ": " + d
}

// Check is one second's checks while a target is down (JSON message type
// drill_check). It is kept small: one a second.
type Check struct {
	Step   int    `json:"step"`
	Target string `json:"target"`
	Second int    `json:"second"` // since the target went down
	OK     bool   `json:"ok"`
	// Live and Want count the declared workers' rows live through the
	// controllers checked (a controller step) and those wanted.
	Live                   int      `json:"live"`
	Want                   int      `json:"want"`
	MaxHeartbeatAgeSeconds *float64 `json:"max_heartbeat_age_seconds,omitempty"`
	Errors                 []string `json:"errors,omitempty"` // at most 3
	// WebserverError: the webserver's or API server's failed answer; it
	// does not fail the check (it is counted in the report).
	WebserverError string `json:"webserver_error,omitempty"`
}

// Type implements apply.Event.
func (Check) Type() string { return "drill_check" }

// String is the check's text line (the human view does not print it).
func (c Check) String() string {
	web := ""
	if c.WebserverError != "" {
		web = "; " + c.WebserverError
	}
	if c.OK {
		return fmt.Sprintf("drill %s: %ds ok (%d/%d)%s", c.Target, c.Second, c.Live, c.Want, web)
	}
	return fmt.Sprintf("drill %s: %ds failed: %s%s", c.Target, c.Second, strings.Join(c.Errors, "; "), web)
}
