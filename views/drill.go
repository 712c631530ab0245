package views

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hactl/hactl/drill"
)

// DrillReport writes the drill's report for people: a table of the steps,
// each step's problems and webserver errors, and the closing verdict.
func DrillReport(w io.Writer, r *drill.Report) error {
	if r == nil {
		return nil
	}
	var b strings.Builder
	if r.DryRun {
		fmt.Fprintf(&b, "\nDry run: %s planned for cluster %s; nothing was changed.\n", plural(len(r.Steps), "step"), r.Cluster)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "\nDrill report (cluster %s):\n\n", r.Cluster)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STEP\tTARGET\tMODE\tDOWN\tCHECKS\tFAILED\tMAX HB AGE\tWEB ERRORS\tDETECT\tRESTORE\tVERDICT")
	for i, s := range r.Steps {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%d\t%d\t%s\t%d\t%s\t%s\t%s\n", i+1, s.Target, s.Mode, fsecs(s.DownSeconds),
			s.Checks, s.FailedChecks, fsecs(s.MaxHeartbeatAgeSeconds), s.WebserverErrors.Count,
			fsecs(s.DetectSeconds), fsecs(s.RestoreSeconds), verdictText(s))
	}
	tw.Flush()
	for i, s := range r.Steps {
		if len(s.Problems) == 0 && s.WebserverErrors.Count == 0 && s.ControllerErrors == nil {
			continue
		}
		fmt.Fprintf(&b, "\n%d %s:\n", i+1, s.Target)
		for _, p := range s.Problems {
			fmt.Fprintf(&b, "  - %s\n", p)
		}
		if e := s.WebserverErrors; e.Count > 0 {
			fmt.Fprintf(&b, "  webserver/API server errors: %d, first: %s\n", e.Count, e.First)
			if e.Last != e.First {
				fmt.Fprintf(&b, "    last: %s\n", e.Last)
			}
		}
		if e := s.ControllerErrors; e != nil {
			fmt.Fprintf(&b, "  controllers' registry listings failed %d time(s)", e.Count)
			if e.Count > 0 {
				fmt.Fprintf(&b, ", first: %s", e.First)
			}
			b.WriteString("\n")
		}
		if len(s.CheckerDied) > 0 {
			fmt.Fprintf(&b, "  heartbeat checker died on: %s\n", strings.Join(s.CheckerDied, ", "))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\nNote: %s\n", n)
	}
	b.WriteString("\n" + DrillVerdict(r) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// DrillVerdict is the report's closing line.
func DrillVerdict(r *drill.Report) string {
	if r.DryRun {
		return fmt.Sprintf("Dry run: %s planned; nothing was changed.", plural(len(r.Steps), "step"))
	}
	if r.HA {
		return fmt.Sprintf("Drill complete! The cluster proved highly available (%s).", plural(len(r.Steps), "step"))
	}
	var not, other []string
	for i, s := range r.Steps {
		switch s.Verdict {
		case drill.VerdictNotHA:
			not = append(not, strconv.Itoa(i+1)+" "+s.Target)
		case drill.VerdictHA:
		default:
			other = append(other, strconv.Itoa(i+1)+" "+s.Target+" "+s.Verdict)
		}
	}
	if len(not) > 0 {
		return "Drill complete: the cluster is NOT highly available (" + strings.Join(not, ", ") + ")."
	}
	return "Drill incomplete: " + strings.Join(other, ", ") + "."
}

func verdictText(s drill.StepReport) string {
	switch s.Verdict {
	case drill.VerdictHA:
		return "HA"
	case drill.VerdictNotHA:
		return "NOT HA"
	}
	return s.Verdict
}

func fsecs(s *float64) string {
	if s == nil {
		return "-"
	}
	if *s < 10 {
		return strconv.FormatFloat(*s, 'f', 1, 64) + "s"
	}
	return strconv.FormatFloat(*s, 'f', 0, 64) + "s"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// DrillReport writes the report as the stream's drill_report message
// (level error when the cluster did not prove HA).
func (j *JSON) DrillReport(r *drill.Report) {
	level := "info"
	if !r.HA && !r.DryRun {
		level = "error"
	}
	j.write(message{Level: level, Message: DrillVerdict(r), Type: "drill_report", Hook: r})
}
