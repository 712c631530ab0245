package upstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestPickFirstHealthyInOrder(t *testing.T) {
	var downA atomic.Bool
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if downA.Load() {
			w.WriteHeader(500)
		}
	}))
	defer a.Close()
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer b.Close()
	dead := httptest.NewServer(nil)
	dead.Close()

	if got := SplitAddrs(" http://x:1/, ,http://y:2"); len(got) != 2 || got[0] != "http://x:1" || got[1] != "http://y:2" {
		t.Errorf("SplitAddrs = %q", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := New([]string{dead.URL, a.URL, b.URL}, 50*time.Millisecond)
	p.Start(ctx)
	if got := p.Pick(ctx); got != a.URL {
		t.Errorf("Pick = %s, want the first healthy %s", got, a.URL)
	}
	downA.Store(true)
	deadline := time.Now().Add(time.Minute) // generous: the probes run every 50 ms
	for p.Pick(ctx) != b.URL && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := p.Pick(ctx); got != b.URL {
		t.Errorf("a minute after a failed: Pick = %s, want %s", got, b.URL)
	}

	// None healthy: wait NoneWait, then the first URL.
	none := New([]string{dead.URL, "http://127.0.0.1:1"}, time.Hour)
	none.NoneWait = 200 * time.Millisecond
	none.Start(ctx)
	start := time.Now()
	if got := none.Pick(ctx); got != dead.URL || time.Since(start) < 200*time.Millisecond {
		t.Errorf("none healthy: Pick = %s after %s", got, time.Since(start))
	}
}
