package upstream

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Picker tracks the health of a list of controller URLs.
type Picker struct {
	URLs     []string
	Interval time.Duration // between probe rounds (DB-GPT: 5 s)
	Timeout  time.Duration // of one probe (DB-GPT: 10 s)
	NoneWait time.Duration // wait when none is healthy (DB-GPT: 2 s)

	mu      sync.Mutex
	healthy map[string]bool
}

// SplitAddrs splits a comma-separated controller_addr list.
func SplitAddrs(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimRight(strings.TrimSpace(p), "/"); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// New returns a picker with DB-GPT's timings, the probe interval overridable.
func New(urls []string, interval time.Duration) *Picker {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	return &Picker{URLs: urls, Interval: interval, Timeout: 10 * time.Second, NoneWait: 2 * time.Second, healthy: map[string]bool{}}
}

// Start probes once now and then every Interval until ctx ends.
func (p *Picker) Start(ctx context.Context) {
	p.ProbeAll(ctx)
	go func() {
		t := time.NewTicker(p.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.ProbeAll(ctx)
			}
		}
	}()
}

// ProbeAll checks every URL concurrently and records the results.
func (p *Picker) ProbeAll(ctx context.Context) {
	var wg sync.WaitGroup
	res := make([]bool, len(p.URLs))
	for i, u := range p.URLs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = p.probe(ctx, u)
		}()
	}
	wg.Wait()
	p.mu.Lock()
	for i, u := range p.URLs {
		p.healthy[u] = res[i]
	}
	p.mu.Unlock()
}

func (p *Picker) probe(ctx context.Context, u string) bool {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"/api/health", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (p *Picker) firstHealthy() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.URLs {
		if p.healthy[u] {
			return u
		}
	}
	return ""
}

// Pick returns the URL to use for the next request.
func (p *Picker) Pick(ctx context.Context) string {
	if u := p.firstHealthy(); u != "" {
		return u
	}
	select {
	case <-ctx.Done():
	case <-time.After(p.NoneWait):
	}
	if len(p.URLs) == 0 {
		return ""
	}
	return p.URLs[0]
}
