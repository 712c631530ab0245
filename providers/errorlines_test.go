package providers

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestErrorLines(t *testing.T) {
	many := func(n int, f string) []string {
		var out []string
		for i := 1; i <= n; i++ {
			out = append(out, fmt.Sprintf(f, i))
		}
		return out
	}
	cases := []struct {
		name string
		in   []string
		want []string
	}{
		{"traceback to the end",
			[]string{"2026-12-01 INFO loading", "Traceback (most recent call last):", `  File "x.py", line 1, in <module>`, "ModuleNotFoundError: No module named 'torch'", ""},
			[]string{"Traceback (most recent call last):", `  File "x.py", line 1, in <module>`, "ModuleNotFoundError: No module named 'torch'"}},
		{"click usage error",
			[]string{"Usage: dbgpt start worker [OPTIONS]", "Try 'dbgpt start worker --help' for help.", "", "Error: No such option: --max_context_sise"},
			[]string{"Error: No such option: --max_context_sise"}},
		{"error and exception lines",
			[]string{"INFO start", "KeyError: 'text2vec-x'", "INFO more", "raised an Exception here"},
			[]string{"KeyError: 'text2vec-x'", "raised an Exception here"}},
		{"nothing error-like: the last lines", many(25, "line %d"), many(25, "line %d")[5:]},
		{"empty", nil, nil},
	}
	for _, c := range cases {
		if got := ErrorLines(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	long := append([]string{"Traceback (most recent call last):"}, many(60, "  frame %d")...)
	if got := ErrorLines(long); len(got) != 40 || got[39] != "  frame 60" {
		t.Errorf("long traceback: %d lines, last %q", len(got), strings.Join(got[len(got)-1:], ""))
	}
}
