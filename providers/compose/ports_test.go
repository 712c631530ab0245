package compose

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/schema"
)

// publishedHA is the HA cluster publishing its webserver and controllers
// (the second controller on its own port) on addr.
func publishedHA(t *testing.T, addr string) (*schema.Cluster, *Project) {
	t.Helper()
	c := adaptedHA(t, func(c *schema.Cluster) {
		c.Compose.Publish = []string{"webserver", "controllers"}
		c.Compose.PublishAddress = addr
		c.Controllers[1].Port = 8002
	})
	p, err := Build(c, fakeComponents(c), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

func TestBuildPublishesPorts(t *testing.T) {
	_, p := publishedHA(t, "127.0.0.1")
	want := map[string]string{"webserver": "5670", "controller-ctrl1": "8000", "controller-ctrl2": "8002"}
	for svc, s := range p.Compose.Services {
		port, published := want[svc]
		if !published {
			if len(s.Ports) != 0 {
				t.Errorf("%s publishes %+v", svc, s.Ports)
			}
			continue
		}
		if len(s.Ports) != 1 || s.Ports[0].HostIP != "127.0.0.1" || s.Ports[0].Published != port ||
			s.Ports[0].Target != uint32(atoi(port)) || s.Ports[0].Protocol != "tcp" {
			t.Errorf("%s ports %+v, want 127.0.0.1:%s", svc, s.Ports, port)
		}
	}
	y, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"- 127.0.0.1:5670:5670\n", "- 127.0.0.1:8000:8000\n", "- 127.0.0.1:8002:8002\n"} {
		if !strings.Contains(string(y), line) {
			t.Errorf("YAML lacks %q:\n%s", line, y)
		}
	}
	if strings.Contains(string(y), "host_ip") || strings.Contains(string(y), "mode: ingress") {
		t.Errorf("YAML has the long port syntax:\n%s", y)
	}
}

func TestBuildPublishesNothingByRequest(t *testing.T) {
	c := adaptedHA(t, func(c *schema.Cluster) { c.Compose.Publish = []string{} })
	p, err := Build(c, fakeComponents(c), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	y, _ := p.YAML()
	if strings.Contains(string(y), "ports:") {
		t.Errorf("ports with publish = []:\n%s", y)
	}
}

func TestBuildRefusesOneHostPortTwice(t *testing.T) {
	c := adaptedHA(t, func(c *schema.Cluster) { c.Compose.Publish = []string{"controllers"} })
	_, err := Build(c, fakeComponents(c), BuildOptions{})
	if err == nil || !strings.Contains(err.Error(), "controller.ctrl1 and controller.ctrl2 would both be published on host port 8000") {
		t.Fatalf("err = %v", err)
	}
}

// Both compose generations read the short syntax hactl writes: compose-go
// (compose v2's loader) and, where installed, docker-compose v1.29.
func TestPublishedPortsLoadBack(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "0.0.0.0", "::1"} {
		t.Run(addr, func(t *testing.T) {
			_, p := publishedHA(t, addr)
			file := filepath.Join(t.TempDir(), ComposeFile)
			if err := p.Write(file); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			details, err := loader.LoadConfigFiles(ctx, []string{file}, filepath.Dir(file))
			if err != nil {
				t.Fatal(err)
			}
			proj, err := loader.LoadWithContext(ctx, *details, func(o *loader.Options) { o.SetProjectName("ha-demo", true) })
			if err != nil {
				t.Fatalf("compose-go loader: %v", err)
			}
			ws := proj.Services["webserver"]
			want := types.ServicePortConfig{Mode: "ingress", HostIP: addr, Target: 5670, Published: "5670", Protocol: "tcp"}
			if len(ws.Ports) != 1 || !reflect.DeepEqual(ws.Ports[0], want) {
				t.Errorf("compose-go reads %+v, want %+v", ws.Ports, want)
			}
			bin, err := exec.LookPath("docker-compose")
			if err != nil {
				t.Skip("docker-compose not installed")
			}
			cmd := exec.Command(bin, "-f", file, "config")
			cmd.Dir = filepath.Dir(file)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("docker-compose config: %v\n%s", err, out)
			}
			// v1 prints the short syntax back (an IPv6 address unbracketed).
			for _, w := range []string{"- " + addr + ":5670:5670/tcp\n", "- " + addr + ":8002:8002/tcp\n"} {
				if !strings.Contains(string(out), w) {
					t.Errorf("docker-compose config lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// What is published is part of the published components' settings hash:
// publishing the webserver (or moving it to another address) is a planned
// change of the webserver only.
func TestPublishedInComponentHash(t *testing.T) {
	hashes := func(publish []string, addr string) map[string]string {
		c := haCluster()
		c.Compose.Publish, c.Compose.PublishAddress = publish, addr
		a, err := Adapt(c)
		if err != nil {
			t.Fatal(err)
		}
		comps, err := plan.Desired(a)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, comp := range comps {
			out[comp.Address] = comp.Hash
		}
		return out
	}
	none, ws, wsAll := hashes(nil, "127.0.0.1"), hashes([]string{"webserver"}, "127.0.0.1"), hashes([]string{"webserver"}, "0.0.0.0")
	for addr, h := range none {
		changed := addr == "webserver"
		if (ws[addr] != h) != changed || (wsAll[addr] != ws[addr]) != changed {
			t.Errorf("%s: hash changed %v/%v, want %v", addr, ws[addr] != h, wsAll[addr] != ws[addr], changed)
		}
	}
	c := haCluster()
	c.Compose.Publish, c.Compose.PublishAddress = []string{"webserver"}, "::1"
	a, _ := Adapt(c)
	if got := a.Webserver.Server.DBGPTCommand; got != "dbgpt (image example/dbgpt:0.6.3, published on [::1]:5670)" {
		t.Errorf("webserver dbgpt command = %q", got)
	}
}

// Pre-flight refuses a published host port something else listens on,
// naming the component and the port, and accepts a free one.
func TestPortProblems(t *testing.T) {
	fakeDockerOn(t, fakeState{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, busy, _ := net.SplitHostPort(ln.Addr().String())
	port := atoi(busy)
	p := newHA(t, func(c *schema.Cluster) {
		c.Webserver.Port = port
		c.Compose.Publish, c.Compose.PublishAddress = []string{"webserver"}, "127.0.0.1"
	})
	ctx := fakeCtx(t)
	probs := p.portProblems(ctx, []*plan.Component{desired(t, p, "webserver"), desired(t, p, "controller.ctrl1")})
	if len(probs) != 1 || probs[0].Component != "webserver" ||
		!strings.Contains(probs[0].What, "host port "+busy+" on 127.0.0.1") || !strings.Contains(probs[0].What, "already in use") {
		t.Fatalf("problems %+v", probs)
	}
	ln.Close()
	if probs := p.portProblems(ctx, []*plan.Component{desired(t, p, "webserver")}); len(probs) != 0 {
		t.Errorf("free port: %+v", probs)
	}
}

func TestURL(t *testing.T) {
	p := newHA(t, func(c *schema.Cluster) {
		c.Compose.Publish, c.Compose.PublishAddress = []string{"webserver", "controllers"}, "127.0.0.1"
		c.Controllers[1].Port = 8002
	})
	for addr, want := range map[string]string{"webserver": "http://127.0.0.1:5670", "controller.ctrl2": "http://127.0.0.1:8002",
		"worker.llm": "", "apiserver": "", "controller.nope": ""} {
		if got := p.URL(addr); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
	t.Setenv("DOCKER_HOST", "")
	for addr, want := range map[string]string{"0.0.0.0": "http://127.0.0.1:5670", "::": "http://[::1]:5670", "::1": "http://[::1]:5670", "10.1.2.3": "http://10.1.2.3:5670"} {
		p := newHA(t, func(c *schema.Cluster) { c.Compose.Publish, c.Compose.PublishAddress = []string{"webserver"}, addr })
		if got := p.URL("webserver"); got != want {
			t.Errorf("publish_address %s: %q, want %q", addr, got, want)
		}
	}
	p = newHA(t, nil) // haCluster publishes nothing
	if got := p.URL("webserver"); got != "" {
		t.Errorf("unpublished: %q", got)
	}
}
