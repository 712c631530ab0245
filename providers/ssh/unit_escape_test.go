package ssh

import (
	"strings"
	"testing"
	"time"
)

// systemdValue undoes what systemd does to a unit value: "%%" is '%', any
// other '%' is a specifier (expanded: the test fails); in ExecStart "$$" is
// '$', any other '$' expands a variable, and a double-quoted word takes
// C-style escapes.
func systemdValue(t *testing.T, key, v string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '%' && i+1 < len(v) && v[i+1] == '%':
			b.WriteByte('%')
			i++
		case v[i] == '%':
			t.Fatalf("%s: %q has an unescaped specifier", key, v)
		case key == "ExecStart" && v[i] == '$' && i+1 < len(v) && v[i+1] == '$':
			b.WriteByte('$')
			i++
		case key == "ExecStart" && v[i] == '$':
			t.Fatalf("%s: %q has an unescaped $", key, v)
		default:
			b.WriteByte(v[i])
		}
	}
	out := b.String()
	if key != "ExecStart" {
		return out
	}
	word, ok := strings.CutPrefix(out, "/bin/sh ")
	if !ok || len(word) < 2 || word[0] != '"' || word[len(word)-1] != '"' {
		t.Fatalf("ExecStart %q is not /bin/sh \"...\"", out)
	}
	var w strings.Builder
	inner := word[1 : len(word)-1]
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\\' && i+1 < len(inner) {
			i++
		} else if inner[i] == '"' {
			t.Fatalf("ExecStart %q: unescaped quote", out)
		}
		w.WriteByte(inner[i])
	}
	return w.String()
}

func TestUnitFileEscapesHostileValues(t *testing.T) {
	for _, dir := range []string{
		"/srv/100%n/$HOME/${USER}",
		`/srv/a "quoted" dir/%%/$$`,
		"/srv/%i%u%h/$(id)/`id`",
	} {
		u := string(unitFile("c%n", "worker.w$x", dir, 15*time.Second, "", ""))
		got := map[string]string{}
		for _, line := range strings.Split(u, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
				got[k] = systemdValue(t, k, v)
			}
		}
		for k, want := range map[string]string{
			"WorkingDirectory": dir,
			"ExecStart":        dir + "/start.sh",
			"StandardOutput":   "append:" + dir + "/log",
			"StandardError":    "append:" + dir + "/log",
			"Description":      "hactl c%n worker.w$x",
		} {
			if got[k] != want {
				t.Errorf("%s = %q after systemd's unescaping, want %q\n%s", k, got[k], want, u)
			}
		}
	}
}
