package views

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/registry"
	"github.com/hactl/hactl/schema"
)

// A cluster and a provider that deploys instantly, for running the real
// executor through a view.

func testCluster() *schema.Cluster {
	s1 := &schema.Server{Name: "server1", Address: "10.0.0.1", DeployDir: "/opt/hactl/t", DBGPTCommand: "dbgpt"}
	s2 := &schema.Server{Name: "server2", Address: "10.0.0.2", DeployDir: "/opt/hactl/t", DBGPTCommand: "dbgpt"}
	llm := &schema.Model{Name: "glm", WorkerType: schema.WorkerTypeLLM, Path: "/m/glm"}
	return &schema.Cluster{
		Name: "t", Generation: schema.GenerationFlags, Version: "0.6.3",
		Servers:  []*schema.Server{s1, s2},
		Models:   []*schema.Model{llm},
		Registry: &schema.Registry{Type: schema.RegistrySQLite, Path: "/tmp/r.db"},
		Controllers: []*schema.Controller{
			{Name: "c1", Server: s1, Host: "0.0.0.0", Port: 8000, HeartbeatIntervalSecs: 20, HeartbeatTimeoutSecs: 60},
			{Name: "c2", Server: s2, Host: "0.0.0.0", Port: 8000, HeartbeatIntervalSecs: 20, HeartbeatTimeoutSecs: 60},
		},
		Workers: []*schema.Worker{
			{Name: "llm1", Server: s2, Model: llm, Host: "0.0.0.0", Port: 8001, HeartbeatIntervalSecs: 20},
		},
		Webserver: &schema.Webserver{Name: "webserver", Server: s1, Host: "0.0.0.0", Port: 5670, Light: true},
		Compose:   &schema.Compose{},
	}
}

type fakeProvider struct {
	mu       sync.Mutex
	deployed map[string]bool
	failOn   string
	regFile  string
}

func newFake(t *testing.T) *fakeProvider {
	return &fakeProvider{deployed: map[string]bool{}, regFile: filepath.Join(t.TempDir(), "registry.db")}
}

func (f *fakeProvider) Preflight(context.Context, *schema.Cluster, []*plan.Component) []providers.Problem {
	return nil
}
func (f *fakeProvider) Observe(context.Context, *schema.Cluster) ([]providers.Observed, error) {
	return nil, nil
}
func (f *fakeProvider) Deploy(_ context.Context, comp *plan.Component) error {
	if comp.Address == f.failOn {
		return errors.New("boom")
	}
	f.mu.Lock()
	f.deployed[comp.Address] = true
	f.mu.Unlock()
	return nil
}
func (f *fakeProvider) Remove(context.Context, providers.Observed) error { return nil }
func (f *fakeProvider) DialContext(context.Context, *schema.Server, string, string) (net.Conn, error) {
	return nil, errors.New("fake: no network")
}

// Registry is a real SQLite registry file in the test's directory.
func (f *fakeProvider) Registry(c *schema.Cluster) *registry.DB {
	return registry.New(c, fakeAccess{f.regFile})
}

type fakeAccess struct{ file string }

func (fakeAccess) Places() []registry.Place { return nil }
func (a fakeAccess) SQLiteFile() (registry.File, error) {
	return registry.LocalFile("server1", a.file), nil
}
func (f *fakeProvider) Logs(context.Context, providers.Observed, int) (string, error) {
	return "line 1\nfatal: model path missing", nil
}
func (f *fakeProvider) Close() error { return nil }

// Check implements apply.Checker: deployed means healthy.
func (f *fakeProvider) Check(_ context.Context, comp *plan.Component) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.deployed[comp.Address] {
		return errors.New(comp.Address + " does not answer")
	}
	return nil
}

func regAbsent() *plan.RegistryState {
	return &plan.RegistryState{Type: schema.RegistrySQLite, Where: "sqlite /tmp/r.db on server1", Reachable: true}
}

func observe(d []*plan.Component) []plan.Observed {
	var out []plan.Observed
	for _, c := range d {
		out = append(out, plan.Observed{Address: c.Address, Role: c.Role, Server: c.Server.Name, Port: c.Port,
			Hash: c.Hash, Attributes: c.Attributes, Running: true})
	}
	return out
}
