package ssh

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hactl/hactl/schema"
)

// UTCOffset tells the server's local time zone offset east of UTC, as its
// processes see it: DB-GPT writes last_heartbeat in the controller's local
// time without a zone, so health reads those values with this offset.
func (p *Provider) UTCOffset(ctx context.Context, s *schema.Server) (time.Duration, error) {
	out, err := p.host(s).Run(ctx, "date +%z", nil)
	if err != nil {
		return 0, err
	}
	return parseUTCOffset(string(out))
}

// parseUTCOffset reads date's +%z output: "+0800", "-0530".
func parseUTCOffset(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse("-0700", s)
	if err != nil {
		return 0, fmt.Errorf("unexpected time zone offset %q from date +%%z", s)
	}
	_, secs := t.Zone()
	return time.Duration(secs) * time.Second, nil
}
