package engine

import (
	"strings"
	"testing"

	"github.com/hactl/hactl/providers"
)

func TestFindComponent(t *testing.T) {
	obs := []providers.Observed{
		{Address: "controller.ctrl1"}, {Address: "controller.ctrl2"},
		{Address: "worker.llm"}, {Address: "webserver"}, {Address: "worker.ctrl2"},
	}
	for _, tc := range []struct{ arg, want, err string }{
		{"controller.ctrl1", "controller.ctrl1", ""},
		{"ctrl1", "controller.ctrl1", ""},
		{"llm", "worker.llm", ""},
		{"webserver", "webserver", ""},
		{"ctrl2", "", `component "ctrl2" is ambiguous: say controller.ctrl2 or worker.ctrl2`},
		{"nosuch", "", `component "nosuch" is not deployed; deployed: controller.ctrl1, controller.ctrl2, webserver, worker.ctrl2, worker.llm`},
	} {
		o, err := findComponent(obs, tc.arg)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s: error %v, want %q", tc.arg, err, tc.err)
			}
			continue
		}
		if err != nil || o.Address != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.arg, o.Address, err, tc.want)
		}
	}
	if _, err := findComponent(nil, "x"); err == nil || !strings.Contains(err.Error(), "no component is deployed") {
		t.Errorf("nothing deployed: %v", err)
	}
}

func TestRedact(t *testing.T) {
	got := Redact("dsn root:s3cret@db pw=s3cret-long key=abc", []string{"s3cret", "s3cret-long", ""})
	if want := "dsn root:(sensitive)@db pw=(sensitive) key=abc"; got != want {
		t.Errorf("redact: %q, want %q", got, want)
	}
}

// A secret split across writes is still redacted: nothing of a line is
// passed on before its end; an overlong line is cut, but never inside a
// secret.
func TestRedactWriter(t *testing.T) {
	secrets := []string{"s3cret", "s3cret-long"}
	var out strings.Builder
	rw := NewRedactWriter(&out, secrets)
	for _, chunk := range []string{"pw=s3", "cret ok\nkey=s3cret-", "long\nlast s3c", "ret"} {
		if _, err := rw.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "s3") {
			t.Fatalf("a piece of a secret passed on after %q: %q", chunk, out.String())
		}
	}
	if got, want := out.String(), "pw=(sensitive) ok\nkey=(sensitive)\n"; got != want {
		t.Errorf("before Flush: %q, want %q", got, want)
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "pw=(sensitive) ok\nkey=(sensitive)\nlast (sensitive)"; got != want {
		t.Errorf("after Flush: %q, want %q", got, want)
	}

	// A line longer than maxHeld, written in two pieces split inside a
	// secret at every place.
	const secret = "s3cret-long"
	for k := 1; k < len(secret); k++ {
		out.Reset()
		rw = NewRedactWriter(&out, secrets)
		long := strings.Repeat("x", maxHeld+10) + secret + strings.Repeat("y", 100)
		split := maxHeld + 10 + k
		rw.Write([]byte(long[:split]))
		if out.Len() == 0 {
			t.Fatalf("k %d: nothing of an overlong line passed on", k)
		}
		rw.Write([]byte(long[split:] + "\n"))
		if strings.Contains(out.String(), "s3") || strings.Count(out.String(), "(sensitive)") != 1 {
			t.Errorf("k %d: secret not redacted whole in an overlong line", k)
		}
	}
}
