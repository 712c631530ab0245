package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Option is one click option. Kind is "TEXT", "INTEGER", "FLOAT", or "" for
// a flag.
type Option struct {
	Name     string // long name without dashes, e.g. "registry_type"
	Short    string // short name without dash, e.g. "c"
	Kind     string
	Default  string
	Help     string
	Required bool
}

func (o Option) flag() bool { return o.Kind == "" }

// Command is one click command.
type Command struct {
	Path      string // "dbgpt start controller"
	Summary   string
	Options   []Option
	EnvPrefix []string
}

// Parsed holds a command line's values.
type Parsed struct {
	cmd   *Command
	given map[string]string // from the command line
	env   func(string) (string, bool)
	// extraEnv holds name → extra environment variables consulted after the
	// prefixed and bare names (e.g. LLM_MODEL for the webserver).
	extraEnv map[string][]string
}

// usageError is click's UsageError: usage line, hint, message; exit 2.
type usageError struct {
	cmd *Command
	msg string
}

func (e *usageError) Error() string { return e.msg }

func (e *usageError) print(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s [OPTIONS]\nTry '%s --help' for help.\n\nError: %s\n", e.cmd.Path, e.cmd.Path, e.msg)
}

func (c *Command) find(arg string) *Option {
	for i := range c.Options {
		o := &c.Options[i]
		if arg == "--"+o.Name || (o.Short != "" && arg == "-"+o.Short) {
			return o
		}
	}
	return nil
}

func (o Option) display() string {
	s := "--" + o.Name
	if o.Short != "" {
		s = "-" + o.Short + ", " + s
	}
	return s
}

// errHelp means --help was given and help was printed.
var errHelp = fmt.Errorf("help")

// Parse parses args (after the command path) the way click does.
func (c *Command) Parse(args []string, stdout io.Writer) (*Parsed, error) {
	p := &Parsed{cmd: c, given: map[string]string{}, env: os.LookupEnv}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--help" {
			c.Help(stdout)
			return nil, errHelp
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return nil, &usageError{c, fmt.Sprintf("Got unexpected extra argument (%s)", a)}
		}
		name, val, hasVal := strings.Cut(a, "=")
		o := c.find(name)
		if o == nil {
			// The message as observed on v0.6.3's click.
			return nil, &usageError{c, fmt.Sprintf("No such option '%s'.", name)}
		}
		if o.flag() {
			if hasVal {
				return nil, &usageError{c, fmt.Sprintf("Option '%s' does not take a value.", name)}
			}
			p.given[o.Name] = "true"
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, &usageError{c, fmt.Sprintf("Option '%s' requires an argument.", name)}
			}
			i++
			val = args[i]
		}
		if err := checkKind(*o, val); err != "" {
			return nil, &usageError{c, err}
		}
		p.given[o.Name] = val
	}
	return p, nil
}

func checkKind(o Option, v string) string {
	switch o.Kind {
	case "INTEGER":
		if _, err := strconv.Atoi(strings.TrimSpace(v)); err != nil {
			return fmt.Sprintf("Invalid value for '%s': '%s' is not a valid integer.", o.display(), v)
		}
	case "FLOAT":
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return fmt.Sprintf("Invalid value for '%s': '%s' is not a valid float.", o.display(), v)
		}
	}
	return ""
}

// lookupEnv is DB-GPT's _genenv_ignoring_key_case: the key as is, then upper,
// then lower case; empty values count as unset.
func (p *Parsed) lookupEnv(key string) (string, bool) {
	for _, k := range []string{key, strings.ToUpper(key), strings.ToLower(key)} {
		if v, ok := p.env(k); ok && v != "" {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// lookupEnvName is lookupEnv returning the variable's name instead.
func (p *Parsed) lookupEnvName(key string) (string, bool) {
	for _, k := range []string{key, strings.ToUpper(key), strings.ToLower(key)} {
		if v, ok := p.env(k); ok && v != "" {
			return k, true
		}
	}
	return "", false
}

// Get returns the option's value: command line, then environment (each
// prefix + name, then the bare name, then the extra names), then default.
func (p *Parsed) Get(name string) (string, bool) {
	if v, ok := p.given[name]; ok {
		return v, true
	}
	for _, pre := range p.cmd.EnvPrefix {
		if v, ok := p.lookupEnv(pre + name); ok {
			return v, true
		}
	}
	if v, ok := p.lookupEnv(name); ok {
		return v, true
	}
	for _, k := range p.extraEnv[name] {
		if v, ok := p.lookupEnv(k); ok {
			return v, true
		}
	}
	if o := p.cmd.find("--" + name); o != nil && o.Default != "" {
		return o.Default, true
	}
	return "", false
}

// Str returns an option's value or "".
func (p *Parsed) Str(name string) string { v, _ := p.Get(name); return v }

// Int returns an integer option; an environment value that is no integer is
// an error naming the option.
func (p *Parsed) Int(name string) (int, error) {
	v, ok := p.Get(name)
	if !ok || v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("invalid value for %s: %q is not a valid integer", name, v)
	}
	return n, nil
}

// Bool returns a flag: set on the command line, or an environment value of
// "true"/"1"/"yes" (DB-GPT compares lower-cased against "true").
func (p *Parsed) Bool(name string) bool {
	v, ok := p.Get(name)
	if !ok {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "y", "on":
		return true
	}
	return false
}

// Require checks required options after environment fallbacks.
func (p *Parsed) Require() error {
	for _, o := range p.cmd.Options {
		if o.Required {
			if v, ok := p.Get(o.Name); !ok || v == "" {
				return &usageError{p.cmd, fmt.Sprintf("Missing option '%s'.", o.display())}
			}
		}
	}
	return nil
}

// Help prints click's help page of the command.
func (c *Command) Help(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s [OPTIONS]\n\n  %s\n\nOptions:\n", c.Path, c.Summary)
	rows := [][2]string{}
	for _, o := range c.Options {
		left := o.display()
		if !o.flag() {
			left += " " + o.Kind
		}
		help := o.Help
		if o.Required {
			help += "  [required]"
		} else if o.Default != "" {
			help += "  [default: " + o.Default + "]"
		}
		rows = append(rows, [2]string{left, help})
	}
	rows = append(rows, [2]string{"--help", "Show this message and exit."})
	writeRows(w, rows)
}

func writeRows(w io.Writer, rows [][2]string) {
	width := 0
	for _, r := range rows {
		if len(r[0]) > width {
			width = len(r[0])
		}
	}
	if width > 30 {
		width = 30
	}
	for _, r := range rows {
		if len(r[0]) > width {
			fmt.Fprintf(w, "  %s\n  %s  %s\n", r[0], strings.Repeat(" ", width), r[1])
			continue
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, r[0], r[1])
	}
}

// Group is a click group: a name and its subcommands with one-line help.
type Group struct {
	Path     string
	Summary  string
	Options  [][2]string
	Commands map[string]string
}

// Help prints the group's help page.
func (g Group) Help(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s [OPTIONS] COMMAND [ARGS]...\n\n", g.Path)
	if g.Summary != "" {
		fmt.Fprintf(w, "  %s\n\n", g.Summary)
	}
	fmt.Fprintf(w, "Options:\n")
	writeRows(w, append(append([][2]string{}, g.Options...), [2]string{"--help", "Show this message and exit."}))
	fmt.Fprintf(w, "\nCommands:\n")
	names := make([]string, 0, len(g.Commands))
	for n := range g.Commands {
		names = append(names, n)
	}
	sort.Strings(names)
	rows := [][2]string{}
	for _, n := range names {
		rows = append(rows, [2]string{n, g.Commands[n]})
	}
	writeRows(w, rows)
}

// usage error of a group (unknown command, missing command).
func groupError(w io.Writer, path, msg string) int {
	fmt.Fprintf(w, "Usage: %s [OPTIONS] COMMAND [ARGS]...\nTry '%s --help' for help.\n\nError: %s\n", path, path, msg)
	return 2
}
