package schema

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	ok := map[string][]string{
		"dbgpt":                           {"dbgpt"},
		"  /opt/venv/bin/dbgpt  ":         {"/opt/venv/bin/dbgpt"},
		"python -m dbgpt.cli.cli_scripts": {"python", "-m", "dbgpt.cli.cli_scripts"},
		`'/opt/my venv/bin/python' -m x`:  {"/opt/my venv/bin/python", "-m", "x"},
		`"/opt/my venv/bin/python" -m x`:  {"/opt/my venv/bin/python", "-m", "x"},
		`/opt/my\ venv/python`:            {"/opt/my venv/python"},
		`a"b c"d`:                         {"ab cd"},
		`'$HOME;|'`:                       {"$HOME;|"},
		`"a\"b\\c"`:                       {`a"b\c`},
		`x ''`:                            {"x", ""},
	}
	for in, want := range ok {
		got, err := splitCommand(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("splitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                  "empty",
		"   ":               "empty",
		"'dbgpt":            "single quote is not closed",
		`"dbgpt`:            "double quote is not closed",
		`dbgpt\`:            "ends with a backslash",
		"dbgpt; rm -rf /":   `';'`,
		"dbgpt | tee":       `'|'`,
		"dbgpt && x":        `'&'`,
		"dbgpt > /tmp/x":    `'>'`,
		"dbgpt < x":         `'<'`,
		"$HOME/bin/dbgpt":   `'$'`,
		"`which dbgpt`":     "'`'",
		`"$HOME/bin/dbgpt"`: "inside double quotes",
		"'' -m x":           "program name is empty",
		"~/venv/bin/dbgpt":  `'~'`,
		"/opt/*/bin/dbgpt":  `'*'`,
	}
	for in, frag := range bad {
		if got, err := splitCommand(in); err == nil || !strings.Contains(err.Error(), frag) {
			t.Errorf("splitCommand(%q) = %q, %v; want an error with %s", in, got, err, frag)
		}
	}
}
