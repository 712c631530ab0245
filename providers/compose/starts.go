package compose

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
)

var _ providers.StartWatcher = (*Provider)(nil)

// startsLogLines is how much of a container's output Starts reads.
const startsLogLines = 300

// Starts reads what Docker knows of the component's container: running,
// pid, the current start, restarts (RestartCount), the last exit
// (State.ExitCode and FinishedAt), the error lines of the attempt that
// exited (the output before the current start, or the whole tail when the
// container is stopped) and the last line of its output.
func (p *Provider) Starts(ctx context.Context, comp *plan.Component) (providers.Starts, error) {
	cs, err := containers(ctx, LabelProject+"="+p.project, LabelComponent+"="+comp.Address)
	if err != nil {
		return providers.Starts{}, fmt.Errorf("compose: reading the starts of %s: %w", comp.Address, err)
	}
	if len(cs) == 0 {
		return providers.Starts{}, nil
	}
	ct := cs[0]
	for _, c := range cs {
		if c.State.Running {
			ct = c
		}
	}
	st := containerStarts(ct)
	tail, err := runCombined(ctx, "docker", "logs", "--tail", strconv.Itoa(startsLogLines), ct.ID)
	if err != nil {
		return st, fmt.Errorf("compose: reading the log of %s: %w", comp.Address, err)
	}
	lines := strings.Split(strings.TrimRight(tail, "\n"), "\n")
	st.LastLine = lastNonEmpty(lines)
	switch {
	case !st.Running && len(st.Exits) > 0:
		st.ErrorLines = providers.ErrorLines(lines)
	case st.Restarts > 0 && !st.StartedAt.IsZero():
		// The attempts before the current one; the last of them failed.
		before, err := runCombined(ctx, "docker", "logs", "--tail", strconv.Itoa(startsLogLines),
			"--until", st.StartedAt.Format(time.RFC3339Nano), ct.ID)
		if err == nil {
			st.ErrorLines = providers.ErrorLines(strings.Split(before, "\n"))
		}
	}
	return st, nil
}

// containerStarts is the inspected state as Starts: Docker keeps one exit
// (the last), known when the container restarted or stopped.
func containerStarts(ct container) providers.Starts {
	st := providers.Starts{
		Running:   ct.State.Running && !ct.State.Paused && !ct.State.Restarting,
		StartedAt: ct.startedAt(),
		Restarts:  ct.RestartCount,
	}
	if st.Running {
		st.PID = ct.State.Pid
	}
	finished := parseDockerTime(ct.State.FinishedAt)
	if (st.Restarts > 0 || !st.Running) && !finished.IsZero() {
		e := providers.Exit{At: finished, Status: ct.State.ExitCode}
		if !st.Running && !st.StartedAt.IsZero() && finished.After(st.StartedAt) {
			e.Uptime = finished.Sub(st.StartedAt)
		}
		st.Exits = []providers.Exit{e}
	}
	return st
}

func parseDockerTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 2000 {
		return time.Time{}
	}
	return t
}

func lastNonEmpty(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}
