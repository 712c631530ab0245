package ssh

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hactl/hactl/schema"
)

// A second supervisor of a component (left by two runs at once) carries
// the component's HACTL_DIR: the next Deploy stops it with the first, so
// one supervisor is left, and Remove leaves none.
func TestDeployStopsASecondSupervisor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := testEnv{transport: schema.TransportLocal}.server(t, "server1", fakeCommand(t, "0.6.3"))
	c := &schema.Cluster{Name: "test", Servers: []*schema.Server{s}}
	p := newTestProvider(t, c)
	comp := controllerComp(s, freePort(t), "h1")
	if err := p.Deploy(ctx, comp); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(s.DeployDir, c.Name, "controller.ctrl1")
	second := exec.Command("setsid", "sh", "./run.sh")
	second.Dir = dir
	second.Env = append(os.Environ(), envMarker+"="+dir)
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	go second.Wait()
	waitUntil(t, "the second supervisor to run", func() bool { return alive(second.Process.Pid) })

	comp.Hash = "h2"
	if err := p.Deploy(ctx, comp); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for alive(second.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the second supervisor %d survived the deploy", second.Process.Pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	obs, err := p.Observe(ctx, c)
	if err != nil || len(obs) != 1 || !obs[0].Running {
		t.Fatalf("after the deploy: %+v %v", obs, err)
	}
	if err := p.Remove(ctx, obs[0]); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(dir, ""); len(left) > 0 {
		t.Errorf("processes left after Remove: %v", left)
	}
}
