package dbgpt

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// tomlDoc renders a TOML document in a fixed order (the order keys were
// added), so the same cluster always gives the same bytes and the same hash.
type tomlDoc struct {
	tables []*tomlTable
}

type tomlTable struct {
	header string // dotted bare keys, e.g. "service.model.controller"
	array  bool   // [[header]]
	lines  []string
}

func (d *tomlDoc) table(header string) *tomlTable {
	t := &tomlTable{header: header}
	d.tables = append(d.tables, t)
	return t
}

func (d *tomlDoc) arrayTable(header string) *tomlTable {
	t := &tomlTable{header: header, array: true}
	d.tables = append(d.tables, t)
	return t
}

func (d *tomlDoc) String() string {
	var b strings.Builder
	b.WriteString("# Written by hactl. Changes here are overwritten by the next apply.\n")
	for _, t := range d.tables {
		b.WriteString("\n")
		if t.array {
			fmt.Fprintf(&b, "[[%s]]\n", t.header)
		} else {
			fmt.Fprintf(&b, "[%s]\n", t.header)
		}
		for _, l := range t.lines {
			b.WriteString(l)
			b.WriteString("\n")
		}
	}
	return b.String()
}

func (t *tomlTable) str(k, v string) { t.lines = append(t.lines, tomlKey(k)+" = "+tomlString(v)) }
func (t *tomlTable) int(k string, v int) {
	t.lines = append(t.lines, tomlKey(k)+" = "+strconv.Itoa(v))
}
func (t *tomlTable) bool(k string, v bool) {
	t.lines = append(t.lines, tomlKey(k)+" = "+strconv.FormatBool(v))
}

// value writes a model parameter given as text with its natural TOML type:
// true/false as booleans (DB-GPT reads the string "false" as true), integers
// and decimal numbers as numbers, anything else as a string.
func (t *tomlTable) value(k, v string) {
	t.lines = append(t.lines, tomlKey(k)+" = "+tomlValue(v))
}

var (
	tomlIntRE   = regexp.MustCompile(`^[+-]?(0|[1-9][0-9]*)$`)
	tomlFloatRE = regexp.MustCompile(`^[+-]?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)
)

func tomlValue(v string) string {
	switch {
	case v == "true", v == "false":
		return v
	case tomlIntRE.MatchString(v):
		if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			return v
		}
	case tomlFloatRE.MatchString(v):
		return v
	}
	return tomlString(v)
}

func tomlKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, r := range k {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return tomlString(k)
		}
	}
	return k
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// dbgptEnvRefRe is what DB-GPT 0.7's configuration loader expands in every
// string of its TOML file (dbgpt/util/configure/manager.py): one pass, no
// escape.
var dbgptEnvRefRe = regexp.MustCompile(`\$\{env:([^}]+)\}`)

// strayEnvRef returns the first ${env:...} in the document that is not a
// whole string value referring to one of hactl's secret variables, or "".
func strayEnvRef(doc string, secretEnv map[string]string) string {
	for _, m := range dbgptEnvRefRe.FindAllStringSubmatchIndex(doc, -1) {
		whole := m[0] > 0 && m[1] < len(doc) && doc[m[0]-1] == '"' && doc[m[1]] == '"'
		if _, ours := secretEnv[doc[m[2]:m[3]]]; !whole || !ours {
			return doc[m[0]:m[1]]
		}
	}
	return ""
}
