package ssh

import (
	"testing"
	"time"

	"github.com/hactl/hactl/internal/health"
)

// health reads heartbeat times in each server's own zone through this.
var _ health.ZoneReader = (*Provider)(nil)

func TestParseUTCOffset(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"+0000\n": 0,
		"+0800":   8 * time.Hour,
		"-0530\n": -(5*time.Hour + 30*time.Minute),
	} {
		got, err := parseUTCOffset(in)
		if err != nil || got != want {
			t.Errorf("parseUTCOffset(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "UTC", "+08", "0800x"} {
		if _, err := parseUTCOffset(bad); err == nil {
			t.Errorf("parseUTCOffset(%q): no error", bad)
		}
	}
}
