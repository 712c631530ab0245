package compose

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/test/images"
)

// staysExited checks, every 100 ms until the deadline, that the
// component's container stays exited: its restart policy (unless-stopped)
// does not start it again.
func staysExited(t *testing.T, ctx context.Context, p *Provider, address string, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		cs, err := containers(ctx, LabelProject+"="+p.project, LabelComponent+"="+address)
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range cs {
			if ct.State.Running || ct.State.Restarting || ct.State.Status != "exited" {
				t.Fatalf("%s is %s (restarts %d) after it was taken down", address, ct.State.Status, ct.RestartCount)
			}
		}
	}
}

func observedAt(t *testing.T, ctx context.Context, p *Provider, address string) providers.Observed {
	t.Helper()
	obs, err := p.Observe(ctx, p.Cluster())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range obs {
		if o.Address == address {
			return o
		}
	}
	t.Fatalf("%s not observed: %+v", address, obs)
	return providers.Observed{}
}

// TestDrillFaults on Docker: a dbgpt-sim controller with the managed
// database. docker kill and docker stop leave it down (the restart policy
// does not bring it back), docker start brings the same container back
// with its restart count; the database stopped, the controller's
// heartbeat checker dies and Observe reports the defect; RegistryUp waits
// until the database accepts connections; a Deploy (apply's replace)
// restarts the controller, whose new checker lives.
func TestDrillFaults(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "dbgpt-sim")
	build := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", bin, "../../cmd/dbgpt-sim")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build dbgpt-sim: %v\n%s", err, out)
	}
	imgs, err := images.Ensure(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := images.EnsureSim(ctx, bin, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	c := registryOnly(t, imgs.DB)
	c.Compose.DBGPTImage = sim
	s1 := &schema.Server{Name: "server1", Address: "10.0.0.1", Transport: schema.TransportSSH}
	c.Servers = []*schema.Server{s1}
	c.Controllers = []*schema.Controller{{Name: "ctrl1", Server: s1, Host: "0.0.0.0", Port: 8000,
		HeartbeatIntervalSecs: 1, HeartbeatTimeoutSecs: 3}}
	p, err := New(c, Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer ccancel()
		if err := p.Teardown(cctx, true); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})
	want, err := plan.Desired(p.Cluster())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Registry(c).Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	ctl := want[0]
	if err := p.Deploy(ctx, ctl); err != nil {
		t.Fatal(err)
	}
	o := observedAt(t, ctx, p, ctl.Address)
	if !o.Running || o.Defect != "" {
		t.Fatalf("after deploy: %+v", o)
	}

	for _, mode := range []providers.FaultMode{providers.FaultKill, providers.FaultStop} {
		before := observedAt(t, ctx, p, ctl.Address)
		start := time.Now()
		if err := p.Down(ctx, before, mode); err != nil {
			t.Fatal(err)
		}
		t.Logf("down (%s): %v", mode, time.Since(start).Round(time.Millisecond))
		staysExited(t, ctx, p, ctl.Address, 5*time.Second)
		start = time.Now()
		if err := p.Up(ctx, before); err != nil {
			t.Fatal(err)
		}
		t.Logf("up: %v", time.Since(start).Round(time.Millisecond))
		after := observedAt(t, ctx, p, ctl.Address)
		if !after.Running || after.PID == before.PID || after.Restarts != before.Restarts || !after.StartedAt.After(before.StartedAt) {
			t.Errorf("after up: %+v (before %+v)", after, before)
		}
		logs, _ := p.Logs(ctx, after, 1000)
		if !strings.Contains(logs, "drill: down ("+string(mode)+")") || !strings.Contains(logs, "drill: up") {
			t.Errorf("the drill's lines are not in the log:\n%s", logs)
		}
	}

	// The database stops: the checker's next pass fails and its thread dies.
	start := time.Now()
	if err := p.RegistryDown(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("registry down: %v", time.Since(start).Round(time.Millisecond))
	deadline := time.Now().Add(time.Minute)
	for o = observedAt(t, ctx, p, ctl.Address); o.Defect == ""; o = observedAt(t, ctx, p, ctl.Address) {
		if time.Now().After(deadline) {
			logs, _ := p.Logs(ctx, o, 30)
			t.Fatalf("no defect observed within a minute: %+v\n%s", o, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("defect: %s", o.Defect)
	if !strings.HasPrefix(o.Defect, "its heartbeat checker thread died (sqlalchemy.exc.OperationalError: ") {
		t.Errorf("defect %q", o.Defect)
	}
	start = time.Now()
	if err := p.RegistryUp(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("registry up (accepting connections): %v", time.Since(start).Round(time.Millisecond))
	if st, err := p.Registry(c).State(ctx); err != nil || !st.Reachable || !st.TableExists {
		t.Errorf("registry after up: %+v %v", st, err)
	}
	// Still dead with the database back: plan replaces the controller.
	o = observedAt(t, ctx, p, ctl.Address)
	pl := plan.Diff(p.Cluster(), want, []plan.Observed{o}, nil)
	if len(pl.Changes) != 1 || pl.Changes[0].Action != plan.Replace || pl.Changes[0].Reason != o.Defect {
		t.Fatalf("plan: %+v (observed %+v)", pl.Changes, o)
	}
	// apply carries out the replace: the same container restarts (compose
	// up alone would leave it), nothing is removed, the defect goes.
	res, err := apply.Apply(ctx, p, p.Cluster(), pl, apply.Options{SkipPreflight: true})
	if err != nil {
		t.Fatal(err)
	}
	after := observedAt(t, ctx, p, ctl.Address)
	if !after.Running || after.Defect != "" || !after.StartedAt.After(o.StartedAt) {
		t.Errorf("after apply (%+v): %+v", res, after)
	}
	if pl := plan.Diff(p.Cluster(), want, []plan.Observed{after}, nil); !pl.Empty() {
		t.Errorf("plan after apply: %+v", pl.Changes)
	}
}
