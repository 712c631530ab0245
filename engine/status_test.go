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
