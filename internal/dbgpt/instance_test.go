package dbgpt

import (
	"encoding/json"
	"testing"
	"time"
)

func TestInstanceJSON(t *testing.T) {
	in := `{"model_name":"glm-4-9b-chat@llm","host":"127.0.0.1","port":8001,"weight":1.0,"check_healthy":true,"healthy":true,"enabled":true,"prompt_template":null,"last_heartbeat":"2026-11-26T14:21:31"}`
	var i Instance
	if err := json.Unmarshal([]byte(in), &i); err != nil {
		t.Fatal(err)
	}
	if i.LastHeartbeat == nil || !i.LastHeartbeat.Equal(time.Date(2026, 11, 26, 14, 21, 31, 0, time.Local)) {
		t.Fatalf("last_heartbeat %v", i.LastHeartbeat)
	}
	out, _ := json.Marshal(i)
	want := `{"model_name":"glm-4-9b-chat@llm","host":"127.0.0.1","port":8001,"weight":1,"check_healthy":true,"healthy":true,"enabled":true,"prompt_template":null,"last_heartbeat":"2026-11-26T14:21:31"}`
	if string(out) != want {
		t.Errorf("round trip:\n got %s\nwant %s", out, want)
	}
	name, typ := i.Split()
	if name != "glm-4-9b-chat" || typ != "llm" {
		t.Errorf("Split = %q %q", name, typ)
	}
	if n, ty := SplitModelName("plain"); n != "plain" || ty != "" {
		t.Errorf("SplitModelName(plain) = %q %q", n, ty)
	}
	micro := Time{time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.Local)}
	if micro.String() != "2026-01-02T03:04:05.123456" {
		t.Errorf("micro = %s", micro)
	}
	for _, s := range []string{"2026-11-26T14:21:31Z", "2026-11-26 14:21:31.5", "2026-11-26T14:21:31.123456+02:00"} {
		if _, err := ParseTime(s); err != nil {
			t.Errorf("ParseTime(%q): %v", s, err)
		}
	}
	if _, err := ParseTime("yesterday"); err == nil {
		t.Error("ParseTime accepted garbage")
	}
}
