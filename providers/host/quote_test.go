package host

import (
	"os/exec"
	"testing"
)

// hostile are values a cluster file could carry to break out of a command.
var hostile = []string{
	"",
	"plain",
	"with space",
	"it's",
	`"double"`,
	"$(touch /tmp/hactl-pwned)",
	"`touch /tmp/hactl-pwned`",
	"a;touch /tmp/hactl-pwned",
	"a && b || c",
	"line1\nline2",
	"$HOME ${PATH} $1 $@ $$",
	"*",
	"~root",
	"back\\slash\\",
	"'''",
	"a'b'c\"d\"",
	"-n",
	"FOO=bar",
	"tab\there",
	"#comment",
	"glob[ab]?",
	"{a,b}",
	"é ü 日本",
	"\x01\x7f",
}

func TestQuoteShape(t *testing.T) {
	for in, want := range map[string]string{
		"":         "''",
		"abc":      "abc",
		"/opt/x-1": "/opt/x-1",
		"a b":      "'a b'",
		"it's":     `'it'\''s'`,
		"FOO=bar":  "'FOO=bar'",
		"~":        "'~'",
		"$(x)":     "'$(x)'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestQuoteRoundTrip has a real POSIX shell read every hostile value back.
func TestQuoteRoundTrip(t *testing.T) {
	for _, v := range hostile {
		out, err := exec.Command("sh", "-c", "printf %s "+Quote(v)).Output()
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if string(out) != v {
			t.Errorf("sh read %q back as %q", v, out)
		}
	}
	// Several words stay several words.
	out, err := exec.Command("sh", "-c", `for a in `+Join(hostile...)+`; do printf '<%s>' "$a"; done`).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for _, v := range hostile {
		want += "<" + v + ">"
	}
	if string(out) != want {
		t.Errorf("Join: got %q\nwant %q", out, want)
	}
}

func FuzzQuote(f *testing.F) {
	for _, v := range hostile {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, r := range v {
			if r == 0 {
				return // not representable in an argument
			}
		}
		out, err := exec.Command("sh", "-c", "printf %s "+Quote(v)).Output()
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if string(out) != v {
			t.Errorf("sh read %q back as %q", v, out)
		}
	})
}
