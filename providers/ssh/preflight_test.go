package ssh

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers/host/sshdtest"
	"github.com/hactl/hactl/schema"
)

// TestPreflightReportsEverything builds a cluster with one fault of each
// kind and expects every one reported, each naming its server.
func TestPreflightReportsEverything(t *testing.T) {
	t.Parallel()
	d := sshdtest.Start(t)
	ctx := context.Background()
	sshEnv := testEnv{schema.TransportSSH, d}
	s1 := sshEnv.server(t, "server1", fakeCommand(t, "0.7.0")) // wrong generation
	s2 := sshEnv.server(t, "server2", "dbgpt")
	s2.SSH.Port = 1 // unreachable
	s3 := testEnv{schema.TransportLocal, nil}.server(t, "server3", "/nonexistent/dbgpt")
	s3.DeployDir = "/etc/passwd/hactl" // under a file: cannot be created

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	model := &schema.Model{Name: "glm", WorkerType: "llm", Path: "/nonexistent/models/glm it's"}
	c := &schema.Cluster{Name: "test", Generation: schema.GenerationFlags, Version: "0.6.3",
		Servers:     []*schema.Server{s1, s2, s3},
		Controllers: []*schema.Controller{{Name: "ctrl1", Server: s1, Port: busyPort}},
		Workers:     []*schema.Worker{{Name: "llm", Server: s1, Model: model, Port: freePort(t)}},
		Registry:    &schema.Registry{Type: schema.RegistryMySQL, Host: "127.0.0.1", Port: 1, Database: "dbgpt", User: "u", Password: schema.NewSecret("pw")},
	}
	want := []*plan.Component{
		{Address: "controller.ctrl1", Role: schema.RoleController, Name: "ctrl1", Server: s1, Port: busyPort},
		{Address: "worker.llm", Role: schema.RoleWorker, Name: "llm", Server: s1, Port: c.Workers[0].Port},
		{Address: "webserver", Role: schema.RoleWebserver, Name: "webserver", Server: s3, Port: freePort(t)},
	}
	p := newTestProvider(t, c)
	probs := p.Preflight(ctx, c, want)
	var all []string
	for _, pr := range probs {
		all = append(all, pr.Error())
	}
	text := strings.Join(all, "\n")
	t.Logf("problems:\n%s", text)
	for _, w := range []string{
		"server server1: controller.ctrl1: port " + fmt.Sprint(busyPort) + " is already in use by a process hactl did not deploy",
		"server server1: worker.llm: model path /nonexistent/models/glm it's does not exist",
		"server server1: " + s1.DBGPTCommand + " is DB-GPT 0.7.0, of the 0.7 generation, but the cluster file declares version 0.6.3",
		"server server1: registry 127.0.0.1:1 not reachable from server1",
		"server server2: not reachable: cannot reach server server2 at 127.0.0.1:1",
		"server server3: the dbgpt command \"/nonexistent/dbgpt\" is not found",
		"server server3: deploy directory /etc/passwd/hactl cannot be created",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q", w)
		}
	}
	if len(probs) != 7 {
		t.Errorf("%d problems, want 7", len(probs))
	}
	for _, pr := range probs {
		if pr.Fix == "" {
			t.Errorf("no fix for %q", pr.What)
		}
	}
}

// TestPreflightOwnPort: a port held by the component hactl deployed there is
// fine; the same port wanted by another component is not.
func TestPreflightOwnPort(t *testing.T) {
	t.Parallel()
	for _, e := range transports(t) {
		t.Run(e.transport, func(t *testing.T) {
			ctx := context.Background()
			s := e.server(t, "server1", fakeCommand(t, "0.6.3"))
			c := &schema.Cluster{Name: "test", Generation: schema.GenerationFlags, Version: "0.6.3", Servers: []*schema.Server{s}}
			p := newTestProvider(t, c)
			port := freePort(t)
			comp := controllerComp(s, port, "h")
			if probs := p.Preflight(ctx, c, []*plan.Component{comp}); len(probs) != 0 {
				t.Fatalf("before deploy: %v", probs)
			}
			if err := p.Deploy(ctx, comp); err != nil {
				t.Fatal(err)
			}
			defer func() {
				obs, _ := p.Observe(ctx, c)
				for _, o := range obs {
					p.Remove(ctx, o)
				}
			}()
			if probs := p.Preflight(ctx, c, []*plan.Component{comp}); len(probs) != 0 {
				t.Fatalf("own port reported: %v", probs)
			}
			other := controllerComp(s, port, "h")
			other.Address, other.Name = "controller.ctrl2", "ctrl2"
			probs := p.Preflight(ctx, c, []*plan.Component{comp, other})
			if len(probs) != 1 || !strings.Contains(probs[0].Error(), "controller.ctrl2: port") || !strings.Contains(probs[0].Error(), "in use by hactl's controller.ctrl1") {
				t.Fatalf("got %v", probs)
			}
		})
	}
}

// TestPreflightGenerationFromHelp: without package metadata `dbgpt
// --version` fails and the shape of `start controller --help` decides.
func TestPreflightGenerationFromHelp(t *testing.T) {
	for _, tc := range []struct {
		fake string
		gen  schema.Generation
		ok   bool
	}{
		{"nometa-0.6.3", schema.GenerationFlags, true},
		{"nometa-0.7.0", schema.GenerationFlags, false},
		{"nometa-0.7.0", schema.GenerationTOML, true},
	} {
		s := testEnv{schema.TransportLocal, nil}.server(t, "server1", fakeCommand(t, tc.fake))
		c := &schema.Cluster{Name: "test", Generation: tc.gen, Version: string(tc.gen) + ".0", Servers: []*schema.Server{s}}
		p := newTestProvider(t, c)
		comp := controllerComp(s, freePort(t), "h")
		probs := p.Preflight(context.Background(), c, []*plan.Component{comp})
		if tc.ok && len(probs) != 0 {
			t.Errorf("%s as %s: %v", tc.fake, tc.gen, probs)
		}
		if !tc.ok && (len(probs) != 1 || !strings.Contains(probs[0].What, "TOML generation (start controller --help lists -c, --config)")) {
			t.Errorf("%s as %s: want a generation mismatch, got %v", tc.fake, tc.gen, probs)
		}
	}
}
