package ssh

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/schema"
)

// A component in the old layout (<deploy_dir>/<address>, here made by
// moving a running one there) is observed with the reason it must move,
// its log is read there, and Remove stops it and deletes its directory;
// another cluster's old-layout directory is neither observed nor removed.
func TestOldLayoutObservedAndRemoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := testEnv{transport: schema.TransportLocal}.server(t, "server1", fakeCommand(t, "0.6.3"))
	c := &schema.Cluster{Name: "test", Servers: []*schema.Server{s}}
	p := newTestProvider(t, c)
	port := freePort(t)
	comp := controllerComp(s, port, "h1")
	if err := p.Deploy(ctx, comp); err != nil {
		t.Fatal(err)
	}
	get(t, p, s, port, "/api/health") // it serves, and has logged so
	newDir, oldDir := filepath.Join(s.DeployDir, "test", "controller.ctrl1"), filepath.Join(s.DeployDir, "controller.ctrl1")
	if err := os.Rename(newDir, oldDir); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(s.DeployDir, "controller.c9")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "manifest.json"), []byte(`{"cluster":"else","address":"controller.c9"}`), 0o644)

	obs, err := p.Observe(ctx, c)
	if err != nil || len(obs) != 1 || !obs[0].Running || !strings.Contains(obs[0].Relocate, "old directory layout "+oldDir) {
		t.Fatalf("observed %+v %v", obs, err)
	}
	if logs, err := p.Logs(ctx, obs[0], 5); err != nil || !strings.Contains(logs, "fake") {
		t.Errorf("log of the old layout: %q %v", logs, err)
	}
	if err := p.Remove(ctx, obs[0]); err != nil {
		t.Fatal(err)
	}
	if alive(obs[0].PID) {
		t.Errorf("pid %d survived Remove", obs[0].PID)
	}
	if _, err := os.Stat(oldDir); !os.IsNotExist(err) {
		t.Errorf("%s left: %v", oldDir, err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another cluster's directory: %v", err)
	}
}
