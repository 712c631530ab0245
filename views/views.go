package views

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/drill"
	"github.com/hactl/hactl/plan"
)

// Op names the operation a summary or a failure belongs to; it is the
// change_summary's operation.
type Op string

// Operations.
const (
	OpPlan    Op = "plan"
	OpApply   Op = "apply"
	OpDestroy Op = "destroy"
)

// Operation renders one plan, apply or destroy (later drill): the plan, the
// engine's events, errors and the closing summary. Human and JSON implement
// it; both are safe for concurrent use.
type Operation interface {
	// Plan renders the plan: for plan the result, for apply and destroy
	// what they will do. In JSON it ends with the plan's change_summary.
	Plan(p *plan.Plan) error
	// Event renders one engine event. Pass it as apply.Options.OnEvent.
	Event(ev apply.Event)
	// Diagnostics renders an error that ended the operation before it
	// changed anything (the plan failed; a failed pre-flight gives one
	// diagnostic per problem).
	Diagnostics(err error)
	// Failed renders the failure of an operation that had started: the
	// error, the failed component's log tail, what was done before it and
	// the way out.
	Failed(op Op, err error, res apply.Result)
	// Summary closes a successful apply or destroy ("Apply complete! ...";
	// the change_summary of the operation). For OpPlan it renders nothing:
	// Plan already did.
	Summary(op Op, res apply.Result, elapsed time.Duration)
}

// Failure is the error text of a failed operation, as Human prints it after
// "Error: ": the error, the last lines of the failed component's log, what
// was done before the failure and the way out. A command that leaves the
// printing to its caller returns it.
func Failure(op Op, err error, res apply.Result) error {
	var b strings.Builder
	b.WriteString(err.Error())
	if comp, log := apply.LogOf(err); log != "" {
		fmt.Fprintf(&b, "\n\n%s:\n", logHeading(err, comp))
		b.WriteString(logTail(log))
	}
	b.WriteString("\n")
	b.WriteString(doneBefore(op, res))
	return errors.New(b.String())
}

// logHeading introduces the log a failure carries: a crash loop's are the
// error lines of its last failed attempt, others the log's last lines.
func logHeading(err error, comp string) string {
	var cl *apply.CrashLoopError
	if errors.As(err, &cl) {
		return "Error lines of the last failed start of " + comp
	}
	return "Last lines of the log of " + comp
}

func logTail(log string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
		b.WriteString("  | " + l + "\n")
	}
	return b.String()
}

// doneBefore says what a failed operation did and how to go on: the same
// command again, which carries on from what is left.
func doneBefore(op Op, res apply.Result) string {
	if op == OpDestroy {
		return fmt.Sprintf("Done before the failure: %d destroyed.\nFix the cause, then run 'hactl destroy' again: it removes what is left.", res.Destroyed)
	}
	return fmt.Sprintf("Done before the failure: %s\nFix the cause, then run 'hactl apply' again: it repairs what is left.", res)
}

// summaryLine is the closing line of a successful operation, without the
// elapsed time.
func summaryLine(op Op, res apply.Result) string {
	if op == OpDestroy {
		return fmt.Sprintf("Destroy complete! Resources: %d destroyed.", res.Destroyed)
	}
	return "Apply complete! " + res.String()
}

// jsonAction is Terraform's name of an action: plan.Destroy is "delete".
func jsonAction(a plan.Action) string {
	if a == plan.Destroy {
		return "delete"
	}
	return string(a)
}

var verbs = map[plan.Action]struct{ start, still, done, errored string }{
	plan.Create:  {"Creating...", "Still creating...", "Creation complete", "Creation errored"},
	plan.Update:  {"Modifying...", "Still modifying...", "Modifications complete", "Modifications errored"},
	plan.Replace: {"Replacing...", "Still replacing...", "Replacement complete", "Replacement errored"},
	plan.Destroy: {"Destroying...", "Still destroying...", "Destruction complete", "Destruction errored"},
}

// line is an event's text line. human is false for events Human does not
// print (the error that follows says it, or nothing worth a line happened);
// JSON still uses the line as the message's @message.
func line(ev apply.Event) (text string, human bool) {
	switch e := ev.(type) {
	case apply.ResourceStart:
		detail := ""
		switch {
		case e.Action == plan.Replace:
			detail = fmt.Sprintf(" (on %s, was on %s)", e.Server, strings.Join(e.OldServers, ", "))
		case e.Action == plan.Destroy:
			detail = " (on " + e.Server + ")"
		case e.Note != "":
			detail = " (" + e.Note + ")"
		case e.Reason != "":
			detail = " (" + e.Reason + ")"
		}
		return fmt.Sprintf("%s: %s%s", e.Address, verbs[e.Action].start, detail), true
	case apply.ResourceProgress:
		if e.RemovingOld != "" {
			return fmt.Sprintf("%s: Destroying the old copy on %s...", e.Address, e.RemovingOld), true
		}
		return fmt.Sprintf("%s: %s [%s elapsed]%s", e.Address, verbs[e.Action].still, seconds(e.Elapsed), awaiting(e.Waiting, e.LogLine)), true
	case apply.ResourceComplete:
		return fmt.Sprintf("%s: %s after %s", e.Address, verbs[e.Action].done, seconds(e.Elapsed)), true
	case apply.ResourceErrored:
		return fmt.Sprintf("%s: %s after %s", e.Address, verbs[e.Action].errored, seconds(e.Elapsed)), false
	case apply.RegistryStart:
		if e.Step == apply.RegistryPurge {
			return "registry: Purging...", true
		}
		return "registry: Preparing...", true
	case apply.RegistryComplete:
		if e.Step == apply.RegistryPurge {
			deleted := ""
			if e.Rows > 0 {
				deleted = fmt.Sprintf(" (%d row(s) of this cluster's workers deleted)", e.Rows)
			}
			return fmt.Sprintf("registry: Purge complete after %s%s", seconds(e.Elapsed), deleted), true
		}
		return fmt.Sprintf("registry: Ready after %s", seconds(e.Elapsed)), true
	case apply.RegistryRowsUnhealthy:
		return fmt.Sprintf("registry: marked %d row(s) unhealthy", e.Rows), true
	case apply.DataKept:
		return fmt.Sprintf("%s: data kept in %s on %s (a later apply reuses it; destroy --purge-registry deletes it)", e.Address, e.Path, e.Server), true
	case apply.GateStart:
		return fmt.Sprintf("gate %s: checking %d component(s)", e.Gate, e.Count), false
	case apply.GateWaiting:
		return fmt.Sprintf("%s: Still starting... [%s elapsed of %s]%s", e.Address, seconds(e.Elapsed), plan.ShortDuration(e.Timeout), awaiting(e.Waiting, e.LogLine)), true
	case apply.GateComplete:
		return fmt.Sprintf("gate %s: %d healthy after %s", e.Gate, e.Count, seconds(e.Elapsed)), true
	case apply.GateErrored:
		var gc *apply.GateCancelled
		if errors.As(e.Err, &gc) {
			return fmt.Sprintf("gate %s: %v", e.Gate, gc), false
		}
		return fmt.Sprintf("gate %s: %s not healthy after %s", e.Gate, e.Address, seconds(e.Elapsed)), false
	case drill.Check:
		return e.String(), false // one a second: too many for people
	case fmt.Stringer:
		return e.String(), true
	}
	return ev.Type(), false
}

// awaiting is the tail of a progress line: what is awaited and the last
// line the process logged, each when known.
func awaiting(waiting, logLine string) string {
	s := ""
	if waiting != "" {
		s += " " + waiting
	}
	if logLine != "" {
		if s != "" {
			s += ";"
		}
		s += " log: " + logLine
	}
	return s
}

// seconds is an elapsed time as the text lines show it: whole seconds,
// "0s" below one.
func seconds(d time.Duration) string {
	if d < time.Second {
		return "0s"
	}
	return d.Round(time.Second).String()
}
