package status

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fatih/color"

	"github.com/hactl/hactl/plan"
)

// FormatVersion is the version of status -json's document format
// (docs/json/status.schema.json): the minor number grows when fields are
// added, the major when one changes or goes.
const FormatVersion = "1.2"

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	doc := *r
	doc.FormatVersion = FormatVersion
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(&doc)
}

// WriteText writes the report as aligned tables. Colour is used only when
// colour is true (the caller decides: a terminal and no NO_COLOR). The
// coloured column is always the last, so escape codes cannot break alignment.
func (r *Report) WriteText(w io.Writer, colour bool) error {
	paint := func(s string, attrs ...color.Attribute) string {
		if !colour {
			return s
		}
		c := color.New(attrs...)
		c.EnableColor()
		return c.Sprint(s)
	}
	stateColour := func(s string) string {
		switch {
		case s == StateRunning || s == "live":
			return paint(s, color.FgGreen)
		case strings.HasPrefix(s, "stale") || strings.HasPrefix(s, StateStarting) || s == StateNotDeployed || s == StateUnknown || strings.Contains(s, "duplicate"):
			return paint(s, color.FgYellow)
		default:
			return paint(s, color.FgRed)
		}
	}

	fmt.Fprintf(w, "Cluster %s (DB-GPT %s)\n\n", r.Cluster, r.Version)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tROLE\tSERVER\tADDRESS\tPID\tUPTIME\tRESTARTS\tSTATE")
	for _, c := range r.Components {
		// "-": not known (not running, or its server not observed).
		pid, up, restarts := "-", "-", "-"
		if c.PID > 0 {
			pid = strconv.Itoa(c.PID)
		}
		if c.UptimeSeconds != nil {
			up = formatDuration(time.Duration(*c.UptimeSeconds) * time.Second)
		}
		if c.Restarts != nil {
			restarts = strconv.Itoa(*c.Restarts)
		}
		state := c.State
		if c.State == StateStarting && c.UptimeSeconds != nil && c.StartTimeoutSeconds != nil {
			state = fmt.Sprintf("%s (%s of %s)", StateStarting, plan.ShortDuration(time.Duration(*c.UptimeSeconds)*time.Second),
				plan.ShortDuration(time.Duration(*c.StartTimeoutSeconds)*time.Second))
		}
		if !c.InFile {
			state += " (not in file)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Role, c.Server, c.Address, pid, up, restarts, stateColour(state))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range r.Components {
		switch {
		case c.Reason == "":
		case strings.HasPrefix(c.Reason, c.Name+" ") || strings.HasPrefix(c.Reason, c.Name+":"):
			// The health checks' errors already start with the name.
			fmt.Fprintf(w, "  %s\n", c.Reason)
		default:
			fmt.Fprintf(w, "  %s: %s\n", c.Name, c.Reason)
		}
	}
	urls := false
	for _, c := range r.Components {
		if c.URL == "" {
			continue
		}
		if !urls {
			fmt.Fprintln(w, "\nPublished on this machine:")
			urls = true
		}
		fmt.Fprintf(w, "  %s: %s\n", c.Name, c.URL)
	}
	fmt.Fprintln(w)

	switch r.ModelsSource {
	case SourceControllers:
		var ok, bad []string
		for _, c := range r.Controllers {
			if c.Answered {
				ok = append(ok, c.Name)
			} else {
				bad = append(bad, c.Name)
			}
		}
		fmt.Fprintf(w, "Models (through %s", strings.Join(ok, ", "))
		if len(bad) > 0 {
			fmt.Fprintf(w, "; %s did not answer", strings.Join(bad, ", "))
		}
		fmt.Fprintln(w, ")")
	case SourceDatabase:
		fmt.Fprintln(w, "Models (read from the registry database: no controller answered)")
	default:
		fmt.Fprintln(w, "Models: unknown (no controller answered and the registry database could not be read)")
	}
	// A controller that did not answer the listing is down, not deployed,
	// or unhealthy with that error as its reason: said above, not again.
	if r.ModelsSource != SourceNone {
		if len(r.Models) == 0 {
			fmt.Fprintln(w, "  (the registry has no rows)")
		} else {
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "MODEL NAME\tMODEL TYPE\tHOST\tPORT\tHEALTHY\tENABLED\tPROMPT TEMPLATE\tLAST HEARTBEAT\tAGE\tSEEN VIA\tSTATE")
			for _, m := range r.Models {
				age := "-"
				if m.HeartbeatAgeSeconds != nil {
					age = formatDuration(time.Duration(*m.HeartbeatAgeSeconds) * time.Second)
				}
				hb := m.LastHeartbeat
				if hb == "" {
					hb = "-"
				}
				via := strings.Join(shortNames(m.Via), ",")
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ModelName, m.ModelType, m.Host, m.Port,
					pyBool(m.Healthy), pyBool(m.Enabled), m.PromptTemplate, hb, age, via, stateColour(m.State))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "\nNote: %s\n", n)
	}
	return nil
}

func shortNames(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.TrimPrefix(n, "controller.")
	}
	return out
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%dd%02dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}
