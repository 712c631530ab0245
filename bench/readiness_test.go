package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"path"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/test/e2e/testcluster"
)

// directDialer dials from this machine: the benchmark's own checks need
// no SSH tunnel (the test hosts are reachable).
type directDialer struct{}

func (directDialer) DialContext(ctx context.Context, _ *schema.Server, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// byHand starts a cluster's processes without hactl, as the physical
// limit of an apply: level by level (controllers, workers, webserver),
// every process of a level at once with the very start.sh hactl wrote
// (same command, flags and environment, but no supervisor), each level
// timed from its start commands until every process of it passes the
// same check hactl's gates use, polled every 10 ms from this machine.
type byHand struct {
	tb      testing.TB
	tc      *testcluster.Cluster
	cluster *schema.Cluster
	hc      *health.Client
}

func newByHand(tb testing.TB, tc *testcluster.Cluster, file, password string) *byHand {
	c, err := schema.Load(file, schema.LoadOptions{Environ: []string{"HACTL_VAR_registry_password=" + password, "HOME=" + os.Getenv("HOME")}})
	if err != nil {
		tb.Fatal(err)
	}
	return &byHand{tb: tb, tc: tc, cluster: c, hc: health.NewClient(directDialer{}, c, 5*time.Second)}
}

type handComponent struct {
	server *schema.Server
	dir    string
	check  func(context.Context) error
}

func (h *byHand) levels() [][]handComponent {
	c := h.cluster
	dir := func(s *schema.Server, address string) string { return path.Join(s.DeployDir, c.Name, address) }
	var ctls, wks, fronts []handComponent
	for _, ctl := range c.Controllers {
		ctl := ctl
		ctls = append(ctls, handComponent{ctl.Server, dir(ctl.Server, "controller."+ctl.Name),
			func(ctx context.Context) error { return health.CheckController(ctx, h.hc, ctl) }})
	}
	for _, w := range c.Workers {
		w := w
		wks = append(wks, handComponent{w.Server, dir(w.Server, "worker."+w.Name),
			func(ctx context.Context) error { return health.CheckWorker(ctx, h.hc, c, w) }})
	}
	if ws := c.Webserver; ws != nil {
		fronts = append(fronts, handComponent{ws.Server, dir(ws.Server, "webserver"),
			func(ctx context.Context) error { return health.CheckWebserver(ctx, h.hc, c) }})
	}
	return [][]handComponent{ctls, wks, fronts}
}

func (h *byHand) hostOf(s *schema.Server) string {
	for _, name := range h.tc.Servers() {
		if h.tc.IP(name) == s.Address {
			return name
		}
	}
	h.tb.Fatalf("no test host has address %s", s.Address)
	return ""
}

// stop ends every process of the cluster (hactl's supervisors first, so
// nothing restarts them; processes started by hand by their pid file) and
// empties the registry table, so that no row of an earlier process makes
// a worker look registered.
func (h *byHand) stop() {
	var wg sync.WaitGroup
	for _, level := range h.levels() {
		for _, comp := range level {
			wg.Add(1)
			go func() {
				defer wg.Done()
				script := fmt.Sprintf(`cd %q || exit 0
for f in supervisor.pid child.pid; do
	p=$(cat $f 2>/dev/null) && [ -n "$p" ] && kill "$p" 2>/dev/null
done
for f in supervisor.pid child.pid; do
	p=$(cat $f 2>/dev/null) || continue
	i=0; while [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done
	kill -9 "$p" 2>/dev/null
	rm -f $f
done
exit 0`, comp.dir)
				if out, err := h.tc.SSH(h.hostOf(comp.server), script, nil); err != nil {
					h.tb.Errorf("stopping %s: %v\n%s", comp.dir, err, out)
				}
			}()
		}
	}
	wg.Wait()
	if _, err := h.tc.DB().Exec("DELETE FROM dbgpt_cluster_registry_instance"); err != nil {
		h.tb.Fatalf("emptying the registry: %v", err)
	}
}

// measure starts the cluster by hand n times (stopping it before each and
// after the last) and adds each run's readiness to sum and each level's
// to levels (controllers, workers, webserver).
func (h *byHand) measure(ctx context.Context, n int, sum *series, levels ...*series) {
	for i := 0; i < n; i++ {
		h.stop()
		took := h.start(ctx)
		var all time.Duration
		for l, d := range took {
			levels[l].addDuration(d)
			all += d
		}
		sum.addDuration(all)
	}
	h.stop()
}

// start runs every level by hand and returns each level's readiness time.
func (h *byHand) start(ctx context.Context) []time.Duration {
	var took []time.Duration
	for _, level := range h.levels() {
		began := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, len(level))
		for _, comp := range level {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := fmt.Sprintf("cd %q || exit 1\nHACTL_DIR=%q setsid sh ./start.sh >> log 2>&1 < /dev/null &", comp.dir, comp.dir)
				if out, err := h.tc.SSH(h.hostOf(comp.server), cmd, nil); err != nil {
					errs <- fmt.Errorf("starting %s: %v\n%s", comp.dir, err, out)
					return
				}
				deadline := time.Now().Add(2 * time.Minute)
				for {
					err := comp.check(ctx)
					if err == nil {
						return
					}
					if time.Now().After(deadline) {
						errs <- fmt.Errorf("%s not ready after 2 minutes: %v", comp.dir, err)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			h.tb.Fatal(err)
		}
		took = append(took, time.Since(began))
	}
	return took
}
