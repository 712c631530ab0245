package apply

import (
	"time"

	"github.com/hactl/hactl/plan"
)

// Event is one thing an apply or a destroy reports while it runs. The
// executor only emits events (Options.OnEvent); package views renders them
// as Terraform-style text or as the JSON UI stream.
//
// The set is open: another engine (e.g. a drill) defines event types of its
// own in its own package. A view renders an event it does not know as a
// message of type Type() with the event itself as its hook, and, when it
// implements fmt.Stringer, its String() as the text line.
type Event interface {
	// Type is the event's message type in the JSON UI stream.
	Type() string
}

// ResourceStart: a change to one resource (a component, or the registry's
// create) begins.
type ResourceStart struct {
	Address    string
	Action     plan.Action
	Server     string   // where the component goes (create, update, replace) or is (destroy)
	OldServers []string // replace: where the old copies run
	Reason     string   // the plan's reason, e.g. "settings changed"
	Note       string   // the plan's note, e.g. what the registry's create creates
}

// ResourceProgress: a change is still at work, or a replacement is removing
// its old copy.
type ResourceProgress struct {
	Address string
	Action  plan.Action
	Elapsed time.Duration
	// RemovingOld names the server whose old copy a replacement is removing
	// now; empty when the change is simply still at work.
	RemovingOld string
	// Waiting says what the change waits for, from its last failed health
	// check ("waiting for glm to register through c1, c2"); LogLine is the
	// last line its process logged, when the provider can tell. Both empty
	// until known.
	Waiting string
	LogLine string
}

// ResourceComplete: a change finished.
type ResourceComplete struct {
	Address string
	Action  plan.Action
	Elapsed time.Duration
}

// ResourceErrored: a change failed. The operation stops; its error (a
// StepError, GateError or another) is returned as well.
type ResourceErrored struct {
	Address string
	Action  plan.Action
	Server  string
	Elapsed time.Duration
	Err     error
	Log     string // last lines of the component's log, when read
}

// RegistryStep is a registry operation that is not a counted change.
type RegistryStep string

// Registry steps.
const (
	// RegistryPrepare: the plan could not check the registry database; apply
	// prepares it (creates what is absent) before any controller starts.
	RegistryPrepare RegistryStep = "prepare"
	// RegistryPurge: destroy --purge-registry deletes the registry's rows.
	RegistryPurge RegistryStep = "purge"
)

// RegistryStart: a registry step begins.
type RegistryStart struct{ Step RegistryStep }

// RegistryComplete: a registry step finished.
type RegistryComplete struct {
	Step    RegistryStep
	Elapsed time.Duration
	// Rows is how many rows a purge deleted (0 also when a provider dropped
	// the whole database it manages, which counts no row).
	Rows int
}

// RegistryRowsUnhealthy: destroy marked registry rows unhealthy through the
// controllers before stopping them.
type RegistryRowsUnhealthy struct{ Rows int }

// DataKept: destroy removed a component but kept its own data (the
// webserver's metadata database) where a later apply reuses it; destroy
// --purge-registry deletes it.
type DataKept struct {
	Address string
	Server  string
	Path    string
}

// GateStart: a health gate begins checking every wanted component of a
// level.
type GateStart struct {
	Gate  string // "controllers", "workers", "webserver/apiserver"
	Count int    // components checked
}

// GateWaiting: a gate still waits for a component it did not change in
// this apply (one the plan found still starting, or one that fell ill).
// Elapsed counts from the process's start when the plan found it starting.
type GateWaiting struct {
	Gate    string
	Address string
	Server  string
	Elapsed time.Duration
	Timeout time.Duration // the component's gate timeout
	Waiting string        // as ResourceProgress.Waiting
	LogLine string        // as ResourceProgress.LogLine
}

// GateComplete: every component of the gate is healthy.
type GateComplete struct {
	Gate    string
	Count   int
	Elapsed time.Duration
}

// GateErrored: a component did not become healthy in time; the operation
// stops (its GateError is returned as well).
type GateErrored struct {
	Gate    string
	Count   int
	Elapsed time.Duration
	Address string // the first component that failed
	Server  string
	Err     error
}

// Type implements Event.
func (ResourceStart) Type() string { return "apply_start" }

// Type implements Event.
func (ResourceProgress) Type() string { return "apply_progress" }

// Type implements Event.
func (ResourceComplete) Type() string { return "apply_complete" }

// Type implements Event.
func (ResourceErrored) Type() string { return "apply_errored" }

// Type implements Event.
func (RegistryStart) Type() string { return "registry_start" }

// Type implements Event.
func (RegistryComplete) Type() string { return "registry_complete" }

// Type implements Event.
func (RegistryRowsUnhealthy) Type() string { return "registry_rows_unhealthy" }

// Type implements Event.
func (DataKept) Type() string { return "data_kept" }

// Type implements Event.
func (GateStart) Type() string { return "gate_start" }

// Type implements Event.
func (GateWaiting) Type() string { return "gate_waiting" }

// Type implements Event.
func (GateComplete) Type() string { return "gate_complete" }

// Type implements Event.
func (GateErrored) Type() string { return "gate_errored" }
