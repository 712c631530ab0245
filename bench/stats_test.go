package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// series is one figure measured n times.
type series struct {
	name string
	vals []float64
	unit string // "s", "MB", "" (a count)
}

func (s *series) add(v float64) { s.vals = append(s.vals, v) }

func (s *series) addDuration(d time.Duration) { s.add(d.Seconds()) }

func (s *series) median() float64 {
	if len(s.vals) == 0 {
		return 0
	}
	v := slices.Clone(s.vals)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (s *series) min() float64 { return slices.Min(s.vals) }
func (s *series) max() float64 { return slices.Max(s.vals) }

func (s *series) format(v float64) string {
	switch s.unit {
	case "s":
		return fmt.Sprintf("%.2fs", v)
	case "MB":
		return fmt.Sprintf("%.1fMB", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// ratio is a figure's median over another's, with the goal it is held to
// (0: none, only shown).
type ratio struct {
	name     string
	num, den *series
	goal     float64
}

// report prints every series (n, min, median, max) and every ratio of
// medians, with the goals.
func report(w io.Writer, title string, all []*series, ratios []ratio) {
	fmt.Fprintf(w, "\n%s\n", title)
	fmt.Fprintf(w, "  %-58s %3s %9s %9s %9s\n", "figure", "n", "min", "median", "max")
	for _, s := range all {
		if len(s.vals) == 0 {
			fmt.Fprintf(w, "  %-58s %3d %9s %9s %9s\n", s.name, 0, "-", "-", "-")
			continue
		}
		fmt.Fprintf(w, "  %-58s %3d %9s %9s %9s\n", s.name, len(s.vals), s.format(s.min()), s.format(s.median()), s.format(s.max()))
	}
	if len(ratios) == 0 {
		return
	}
	fmt.Fprintf(w, "  %-58s %9s %9s %s\n", "ratio (of medians)", "value", "goal", "")
	for _, r := range ratios {
		if len(r.num.vals) == 0 || len(r.den.vals) == 0 || r.den.median() == 0 {
			fmt.Fprintf(w, "  %-58s %9s\n", r.name, "-")
			continue
		}
		v := r.num.median() / r.den.median()
		goal, verdict := "", ""
		if r.goal > 0 {
			goal = fmt.Sprintf("≤ %.2f", r.goal)
			verdict = "met"
			if v > r.goal {
				verdict = "NOT MET"
			}
		}
		fmt.Fprintf(w, "  %-58s %9.2f %9s %s\n", r.name, v, goal, verdict)
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
