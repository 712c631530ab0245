package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/hactl/hactl/engine"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/schema"
)

// Saved plans on the command line: the apply command plan -out prints, and
// apply's check of a saved plan.

// planAgainst plans, and with a saved plan refuses it unless it is what
// this plan would do. Its file and variable values are compared first,
// before pre-flight contacts any server: other values would fail there, or
// later, for a reason that does not say what differs.
func planAgainst(ctx context.Context, sess *engine.Session, saved *plan.File, planPath, clusterFile string, c *schema.Cluster) (*plan.Plan, error) {
	if saved != nil {
		if err := saved.CheckInputs(planPath, clusterFile, c.Variables()); err != nil {
			return nil, err
		}
	}
	p, err := sess.Plan(ctx)
	if err == nil && saved != nil {
		err = saved.Check(planPath, p)
	}
	return p, err
}

// applyCommand is the command line (indented, with its notes) that applies
// the plan saved to planFile with the variable values this command had.
func (f *clusterFlags) applyCommand(c *schema.Cluster, planFile string) string {
	args, notes := f.repeatFlags(c)
	var b strings.Builder
	b.WriteString("    " + strings.Join(append(append([]string{"hactl", "apply"}, args...), shellQuote(planFile)), " ") + "\n")
	for _, n := range notes {
		b.WriteString("  (" + n + ")\n")
	}
	return b.String()
}

// repeatFlags returns the flags that give a later command (apply PLANFILE)
// the variable values this one was given: every --var-file, then every
// --var (a --var wins over a --var-file whatever their order, so grouping
// them keeps the outcome). -f is not repeated: a saved plan records its
// cluster file. A sensitive variable's value is never repeated: its --var
// becomes NAME=... with a note to fill it in (or to set HACTL_VAR_NAME).
// Values from the environment are named in a note.
func (f *clusterFlags) repeatFlags(c *schema.Cluster) (args, notes []string) {
	sensitive := map[string]bool{}
	declared := map[string]bool{}
	for _, v := range c.Variables() {
		declared[v.Name], sensitive[v.Name] = true, v.Sensitive
	}
	for _, vf := range f.varFiles {
		args = append(args, "-var-file", shellQuote(vf))
	}
	hidden := map[string]bool{}
	for _, kv := range f.vars {
		name, _, _ := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		if sensitive[name] {
			args = append(args, "-var", shellQuote(name+"=..."))
			if !hidden[name] {
				hidden[name] = true
				notes = append(notes, fmt.Sprintf("replace ... with the value of the sensitive variable %s, or drop that -var and set %s%s", name, schema.EnvVarPrefix, name))
			}
			continue
		}
		args = append(args, "-var", shellQuote(kv))
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		if name, ok := strings.CutPrefix(k, schema.EnvVarPrefix); ok && declared[name] {
			env = append(env, k)
		}
	}
	if len(env) > 0 {
		slices.Sort(env)
		notes = append(notes, "with "+strings.Join(env, ", ")+" set to the same value as now")
	}
	return args, notes
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
