package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// EnvChatty makes every server process write uvicorn-style access log lines
// to stdout at this many bytes per second ("200KiB", "1MiB", "4096"): the
// stand-in for a chatty DB-GPT, whose uvicorn logs every health probe.
const EnvChatty = "DBGPT_SIM_CHATTY"

// parseRate reads a byte count with an optional unit: K/KiB/KB, M/MiB/MB
// (all binary: this is a knob, not an interface).
func parseRate(s string) (int64, error) {
	v := strings.TrimSpace(s)
	mult := int64(1)
	low := strings.ToLower(v)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"kb", 1 << 10}, {"k", 1 << 10}, {"mib", 1 << 20}, {"mb", 1 << 20}, {"m", 1 << 20}, {"b", 1}} {
		if strings.HasSuffix(low, u.suffix) {
			v, mult = strings.TrimSpace(v[:len(v)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q is not a byte rate like \"200KiB\"", EnvChatty, s)
	}
	return n * mult, nil
}

// chatter writes access log lines to w at rate bytes per second, in ten
// bursts a second, until ctx ends.
func chatter(ctx context.Context, w io.Writer, rate int64) {
	const tick = 100 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	n := 0
	var owed int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		owed += rate / 10
		var b strings.Builder
		for int64(b.Len()) < owed {
			n++
			fmt.Fprintf(&b, "INFO:     127.0.0.1:%d - \"GET /api/health HTTP/1.1\" 200 OK (probe %d)\n", 40000+n%20000, n)
		}
		owed -= int64(b.Len())
		if _, err := io.WriteString(w, b.String()); err != nil {
			return
		}
	}
}
