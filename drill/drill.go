package drill

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

// Options say what the drill takes down and how.
type Options struct {
	// Targets are controller.NAME, worker.NAME or "registry", drilled in
	// this order; empty means every controller of the file in turn.
	Targets []string
	// Mode is how a controller goes down; empty means providers.FaultStop.
	// A worker is always killed (providers.FaultKill).
	Mode providers.FaultMode
	// RegistryDownFor is how long the registry stays down; zero means
	// 2 × (heartbeat timeout + heartbeat interval).
	RegistryDownFor time.Duration
	// DryRun: say what the drill would do and change nothing.
	DryRun bool
	// Force: drill although the cluster is not healthy now (the
	// precondition's problems are reported as a step-less note).
	Force bool
}

// Kinds of steps.
const (
	KindController = "controller"
	KindWorker     = "worker"
	KindRegistry   = "registry"
)

// TargetRegistry is the registry's target name.
const TargetRegistry = "registry"

// Step is one component the drill takes down.
type Step struct {
	Kind   string
	Target string // controller.NAME, worker.NAME or "registry"
	Mode   providers.FaultMode
	// Window is how long the checks run while it is down (controller:
	// heartbeat timeout + interval; worker: the longest detection time
	// allowed; registry: RegistryDownFor).
	Window     time.Duration
	controller *schema.Controller
	worker     *schema.Worker
}

// Heartbeat returns the largest heartbeat timeout and interval of ctls
// (DB-GPT's defaults 60 s and 20 s when unset).
func Heartbeat(ctls []*schema.Controller) (timeout, interval time.Duration) {
	for _, ctl := range ctls {
		timeout = max(timeout, health.HeartbeatTimeout(ctl))
		iv := 20 * time.Second
		if ctl.HeartbeatIntervalSecs > 0 {
			iv = time.Duration(ctl.HeartbeatIntervalSecs) * time.Second
		}
		interval = max(interval, iv)
	}
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	if interval == 0 {
		interval = 20 * time.Second
	}
	return timeout, interval
}

// Steps turns the options into the ordered steps, refusing unknown targets
// and modes.
func Steps(c *schema.Cluster, o Options) ([]Step, error) {
	mode := o.Mode
	if mode == "" {
		mode = providers.FaultStop
	}
	if mode != providers.FaultStop && mode != providers.FaultKill {
		return nil, fmt.Errorf("unknown mode %q: stop or kill", mode)
	}
	if len(c.Controllers) == 0 {
		return nil, errors.New("the cluster file declares no controller: there is nothing to drill")
	}
	timeout, interval := Heartbeat(c.Controllers)
	targets := o.Targets
	if len(targets) == 0 {
		for _, ctl := range c.Controllers {
			targets = append(targets, health.ControllerAddress(ctl))
		}
	}
	var steps []Step
	seen := map[string]bool{}
	for _, t := range targets {
		t = strings.TrimSpace(t)
		if seen[t] {
			return nil, fmt.Errorf("target %s is named twice", t)
		}
		seen[t] = true
		switch {
		case t == TargetRegistry:
			downFor := o.RegistryDownFor
			if downFor <= 0 {
				downFor = 2 * (timeout + interval)
			}
			steps = append(steps, Step{Kind: KindRegistry, Target: t, Mode: providers.FaultStop, Window: downFor})
		case strings.HasPrefix(t, "controller."):
			ctl := findController(c, strings.TrimPrefix(t, "controller."))
			if ctl == nil {
				return nil, unknownTarget(c, t)
			}
			steps = append(steps, Step{Kind: KindController, Target: t, Mode: mode, Window: timeout + interval, controller: ctl})
		case strings.HasPrefix(t, "worker."):
			w := findWorker(c, strings.TrimPrefix(t, "worker."))
			if w == nil {
				return nil, unknownTarget(c, t)
			}
			steps = append(steps, Step{Kind: KindWorker, Target: t, Mode: providers.FaultKill, Window: DetectLimit(timeout, interval), worker: w})
		default:
			return nil, unknownTarget(c, t)
		}
	}
	return steps, nil
}

// DetectLimit is how long a worker drill waits for its rows to be marked
// unhealthy: DB-GPT's checker marks a row timeout to timeout + interval
// after its last heartbeat, which came up to an interval before the kill;
// a few seconds more for the checks' own pace.
func DetectLimit(timeout, interval time.Duration) time.Duration {
	return timeout + 2*interval + 5*time.Second
}

// Targets lists every target the file allows, for completion and errors.
func Targets(c *schema.Cluster) []string {
	var out []string
	for _, ctl := range c.Controllers {
		out = append(out, health.ControllerAddress(ctl))
	}
	for _, w := range c.Workers {
		out = append(out, health.WorkerAddress(w))
	}
	return append(out, TargetRegistry)
}

func unknownTarget(c *schema.Cluster, t string) error {
	return fmt.Errorf("unknown target %q: say one of %s", t, strings.Join(Targets(c), ", "))
}

func findController(c *schema.Cluster, name string) *schema.Controller {
	for _, ctl := range c.Controllers {
		if ctl.Name == name {
			return ctl
		}
	}
	return nil
}

func findWorker(c *schema.Cluster, name string) *schema.Worker {
	for _, w := range c.Workers {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// others are the controllers of c but ctl.
func others(c *schema.Cluster, ctl *schema.Controller) []*schema.Controller {
	return slices.DeleteFunc(slices.Clone(c.Controllers), func(x *schema.Controller) bool { return x == ctl })
}

// RefusedError is the precondition's refusal: the cluster is not healthy
// now, so a drill would prove nothing (and could make it worse).
type RefusedError struct {
	Problems []string
}

func (e *RefusedError) Error() string {
	return "the cluster is not healthy now, so the drill does not start (fix it, e.g. with 'hactl apply', or pass --force): " +
		strings.Join(e.Problems, "; ")
}

// Verdicts of a step.
const (
	VerdictHA      = "ha"
	VerdictNotHA   = "not ha"
	VerdictPlanned = "planned" // dry run
	VerdictNotRun  = "not run" // an earlier step ended the drill
	VerdictAborted = "aborted" // interrupted or failed before a verdict
)

// Report is what the drill found, step by step.
type Report struct {
	Cluster string `json:"cluster"`
	DryRun  bool   `json:"dry_run"`
	// HA: every step ran and proved the cluster highly available.
	HA    bool         `json:"ha"`
	Steps []StepReport `json:"steps"`
	// Notes: the precondition's problems when --force ran it anyway.
	Notes []string `json:"notes,omitempty"`
}

// StepReport is one step's figures. Durations are seconds; a figure that
// was not measured is nil (omitted in JSON).
type StepReport struct {
	Target  string              `json:"target"`
	Kind    string              `json:"kind"`
	Mode    providers.FaultMode `json:"mode"`
	Verdict string              `json:"verdict"`
	// Through are the controllers the checks went through (a controller
	// step: the remaining ones).
	Through []string `json:"through,omitempty"`
	// DownSeconds: from taking it down to starting it again.
	DownSeconds *float64 `json:"down_seconds,omitempty"`
	// WindowSeconds: how long the checks were meant to run.
	WindowSeconds float64 `json:"window_seconds"`
	Checks        int     `json:"checks"`
	FailedChecks  int     `json:"failed_checks"`
	// MaxHeartbeatAgeSeconds: the oldest heartbeat of a declared worker's
	// row seen through a remaining controller.
	MaxHeartbeatAgeSeconds *float64 `json:"max_heartbeat_age_seconds,omitempty"`
	// WebserverErrors: failed answers of the webserver and API server.
	WebserverErrors ErrorCount `json:"webserver_errors"`
	// ControllerErrors: failed registry listings of the controllers
	// (counted by the registry step).
	ControllerErrors *ErrorCount `json:"controller_errors,omitempty"`
	// DetectSeconds (worker step): the age of the worker's last heartbeat
	// when the last controller's checker marked its row unhealthy.
	DetectSeconds *float64 `json:"detect_seconds,omitempty"`
	// RestoreSeconds: from starting it again until it is healthy and every
	// model is live through it again.
	RestoreSeconds *float64 `json:"restore_seconds,omitempty"`
	Restored       bool     `json:"restored"`
	// CheckerDied (registry step): the controllers whose heartbeat checker
	// thread died.
	CheckerDied []string `json:"checker_died,omitempty"`
	Problems    []string `json:"problems,omitempty"`
}

// ErrorCount counts failures and keeps the first and the last.
type ErrorCount struct {
	Count int    `json:"count"`
	First string `json:"first,omitempty"`
	Last  string `json:"last,omitempty"`
}

func (e *ErrorCount) add(err string) {
	if err == "" {
		return
	}
	e.Count++
	if e.First == "" {
		e.First = err
	}
	e.Last = err
}

func secs(d time.Duration) *float64 {
	s := d.Round(100 * time.Millisecond).Seconds()
	return &s
}
