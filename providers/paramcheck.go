package providers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/hactl/hactl/schema"
)

// WorkerHelpArgs are the words (after the dbgpt command) asking DB-GPT of
// the flags generation for the options of a worker of one model: a worker's
// rendered arguments up to and including the --model_path value (the model
// name and path choose the parameter class), then --help. nil when the
// arguments have no --model_path value.
func WorkerHelpArgs(args []string) []string {
	for i, a := range args {
		if a == "--model_path" && i+1 < len(args) {
			return append(append([]string(nil), args[:i+2]...), "--help")
		}
	}
	return nil
}

// ClickOptions reads the long option names (without "--") of a click help
// page: the lines of its option list start with two spaces and a dash
// ("  --name TEXT  help", "  -c, --config TEXT", "  --flag / --no-flag").
// Wrapped help text is indented further and is skipped.
func ClickOptions(help []string) map[string]bool {
	opts := map[string]bool{}
	for _, l := range help {
		if !strings.HasPrefix(l, "  -") {
			continue
		}
		spec, _, _ := strings.Cut(strings.TrimSpace(l), "  ")
		for _, part := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '/' || r == ' ' }) {
			if name, ok := strings.CutPrefix(part, "--"); ok && name != "" {
				opts[name] = true
			}
		}
	}
	return opts
}

// ParamProblems reports each params key of the model that is not an option
// of the worker (as ClickOptions read it), naming the model, the key, where
// the file writes it and, when one is close, the option meant.
func ParamProblems(server, component string, m *schema.Model, version string, options map[string]bool) []Problem {
	if m == nil || len(options) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m.Params))
	for k := range m.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if version == "" {
		version = "the installed DB-GPT"
	} else {
		version = "DB-GPT " + version
	}
	var ps []Problem
	for _, k := range keys {
		if options[k] {
			continue
		}
		what := fmt.Sprintf("model %q: params key %q is not an option of %s's worker for this model", m.Name, k, version)
		if r, ok := m.ParamRanges[k]; ok {
			what += " (" + RangeString(r) + ")"
		}
		if s := closest(k, options); s != "" {
			what += fmt.Sprintf("; did you mean %q?", s)
		}
		ps = append(ps, Problem{Server: server, Component: component, What: what,
			Fix: fmt.Sprintf("correct or remove the key (`dbgpt start worker --model_name %s --model_path … --help` lists the options)", m.Name)})
	}
	return ps
}

// RangeString prints a file location as file:line,column.
func RangeString(r hcl.Range) string {
	if r.Filename == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column)
}

// closest is the option nearest to key when it is near enough to be a
// typo (at most 2 edits, or a quarter of the key's length).
func closest(key string, options map[string]bool) string {
	names := make([]string, 0, len(options))
	for o := range options {
		names = append(names, o)
	}
	sort.Strings(names)
	best, bestD := "", -1
	for _, o := range names {
		if d := editDistance(key, o); bestD < 0 || d < bestD {
			best, bestD = o, d
		}
	}
	if bestD < 0 || (bestD > 2 && bestD > len(key)/4) {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
