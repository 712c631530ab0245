package plan

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", -time.Second: "0s", 80 * time.Second: "1m20s", 30 * time.Minute: "30m", 2 * time.Hour: "2h",
		90 * time.Minute: "1h30m", time.Hour + 5*time.Second: "1h0m5s", 1400 * time.Millisecond: "1s",
	} {
		if got := ShortDuration(d); got != want {
			t.Errorf("%s: %q, want %q", d, got, want)
		}
	}
}

// A starting component is a note, not a change: the plan still counts the
// other changes, and only those.
func TestStartingIsANoteNotAChange(t *testing.T) {
	p := &Plan{
		Unchanged: []*Change{{Address: "worker.llm", Role: "worker", Name: "llm", Server: "server2"}},
		Changes:   []*Change{{Address: "webserver", Role: "webserver", Name: "webserver", Server: "server1", Action: Update, Reason: "settings changed"}},
	}
	if p.MarkStarting(Starting{Address: "worker.other"}) {
		t.Error("marked a component that is not unchanged")
	}
	if !p.MarkStarting(Starting{Address: "worker.llm", Server: "server2", Age: 80 * time.Second, Timeout: 30 * time.Minute, Reason: "port 8001 does not answer"}) || !p.Waits() {
		t.Fatal("not marked")
	}
	var out bytes.Buffer
	Renderer{W: &out}.Text(p)
	text := out.String()
	note := "Note: worker.llm is still starting (1m20s of 30m): it does not serve yet (port 8001 does not answer); apply waits for it, it does not restart it"
	if !strings.Contains(text, note) || !strings.Contains(text, "Plan: 0 to add, 1 to change, 0 to destroy.") || strings.Contains(text, "worker.llm will") {
		t.Errorf("plan text:\n%s", text)
	}
	if i, j := strings.Index(text, "Note:"), strings.Index(text, "Plan:"); i > j {
		t.Errorf("note after the summary:\n%s", text)
	}
	out.Reset()
	if err := (Renderer{W: &out}).JSON(p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"type":"component_starting"`) || !strings.Contains(out.String(), `"age_seconds":80,"timeout_seconds":1800`) ||
		strings.Contains(out.String(), `"started_at"`) {
		t.Errorf("plan JSON:\n%s", out.String())
	}
}
