package compose

import (
	"strings"
	"testing"

	"github.com/hactl/hactl/schema"
)

func TestServiceNames(t *testing.T) {
	for _, tc := range []struct{ role, name, want string }{
		{"controller", "ctrl1", "controller-ctrl1"},
		{"controller", "controller1", "controller1"}, // no "controller-controller1"
		{"controller", "Controller_A", "controller-a"},
		{"worker", "Qwen2.5 7B", "worker-qwen2-5-7b"},
		{"worker", "x.", "worker-x"}, // no trailing -
		{"webserver", "", "webserver"},
		{"webserver", "webserver", "webserver"},
	} {
		if got := serviceName(tc.role, tc.name); got != tc.want {
			t.Errorf("serviceName(%q, %q) = %q, want %q", tc.role, tc.name, got, tc.want)
		}
		if !hostnameRe.MatchString(serviceName(tc.role, tc.name)) {
			t.Errorf("serviceName(%q, %q) is not a host name", tc.role, tc.name)
		}
	}
	for addr, want := range map[string]string{
		"controller.ctrl1": "controller-ctrl1",
		"worker.LLM":       "worker-llm",
		"webserver":        "webserver",
		"apiserver":        "apiserver",
	} {
		if got := ServiceForAddress(addr); got != want {
			t.Errorf("ServiceForAddress(%q) = %q, want %q", addr, got, want)
		}
	}
	if ControllerService(&schema.Controller{Name: "c1"}) != ServiceForAddress("controller.c1") ||
		WorkerService(&schema.Worker{Name: "w_1"}) != ServiceForAddress("worker.w_1") ||
		WebserverService() != ServiceForAddress("webserver") || APIServerService() != ServiceForAddress("apiserver") {
		t.Error("the service of a component and of its plan address differ")
	}
}

func TestProjectName(t *testing.T) {
	for _, tc := range []struct {
		name    string
		compose *schema.Compose
		want    string
	}{
		{"ha-demo", nil, "ha-demo"},
		{"HA Demo.v2!", nil, "hademov2"},
		{"_-lead", nil, "lead"},
		{"file-name", &schema.Compose{Project: "My_Proj"}, "my_proj"},
		{"file-name", &schema.Compose{}, "file-name"},
		{"!!!", nil, ""},
	} {
		if got := ProjectName(&schema.Cluster{Name: tc.name, Compose: tc.compose}); got != tc.want {
			t.Errorf("ProjectName(%q, %+v) = %q, want %q", tc.name, tc.compose, got, tc.want)
		}
	}
}

func TestManaged(t *testing.T) {
	mysql := &schema.Registry{Type: schema.RegistryMySQL}
	for _, tc := range []struct {
		c    *schema.Cluster
		want bool
	}{
		{&schema.Cluster{Registry: mysql, Compose: &schema.Compose{ManagedDatabase: true}}, true},
		{&schema.Cluster{Registry: mysql, Compose: &schema.Compose{}}, false},
		{&schema.Cluster{Registry: mysql}, false},
		{&schema.Cluster{Compose: &schema.Compose{ManagedDatabase: true}}, false},
		{&schema.Cluster{Registry: &schema.Registry{Type: schema.RegistrySQLite}, Compose: &schema.Compose{ManagedDatabase: true}}, false},
	} {
		if got := Managed(tc.c); got != tc.want {
			t.Errorf("Managed(registry %+v, compose %+v) = %v", tc.c.Registry, tc.c.Compose, got)
		}
	}
}

func TestDatabaseService(t *testing.T) {
	c := haCluster()
	c.APIServer = &schema.APIServer{Name: "apiserver", Server: c.Servers[0], Port: 8100}
	for host, want := range map[string]string{
		"DB":               "db",
		"mysql-1":          "mysql-1",
		"10.0.0.9":         DefaultDatabaseService,
		"db.example.com":   DefaultDatabaseService, // not a single label
		"-db":              DefaultDatabaseService,
		"webserver":        DefaultDatabaseService, // a component's service
		"apiserver":        DefaultDatabaseService,
		"worker-llm":       DefaultDatabaseService,
		"controller-ctrl2": DefaultDatabaseService,
	} {
		c.Registry.Host = host
		if got := DatabaseService(c); got != want {
			t.Errorf("DatabaseService(host %q) = %q, want %q", host, got, want)
		}
	}
	if got := DatabaseService(&schema.Cluster{}); got != DefaultDatabaseService {
		t.Errorf("DatabaseService without a registry = %q", got)
	}
}

func TestAdaptServers(t *testing.T) {
	orig := haCluster()
	orig.APIServer = &schema.APIServer{Name: "apiserver", Server: orig.Servers[1], Host: "127.0.0.1", Port: 8100}
	orig.Servers[1].Env = map[string]string{"CUDA_VISIBLE_DEVICES": "1"}
	c, err := Adapt(orig)
	if err != nil {
		t.Fatal(err)
	}
	if !IsAdapted(c) || IsAdapted(orig) {
		t.Fatalf("IsAdapted: adapted %v, original %v", IsAdapted(c), IsAdapted(orig))
	}
	var names []string
	for _, s := range c.Servers {
		names = append(names, s.Name)
		if s.Address != s.Name || s.Transport != TransportCompose || s.DeployDir != ContainerDir {
			t.Errorf("server %+v", s)
		}
	}
	if got := strings.Join(names, " "); got != "controller-ctrl1 controller-ctrl2 worker-llm worker-text2vec webserver apiserver" {
		t.Errorf("servers = %s", got)
	}
	if s := c.Webserver.Server; s.Name != "webserver" || s.DBGPTCommand != "dbgpt (image example/dbgpt:0.6.3)" {
		t.Errorf("webserver server %+v: no models_dir outside workers", s)
	}
	if c.APIServer.Server.Name != "apiserver" || c.APIServer.Host != "0.0.0.0" || orig.APIServer.Host != "127.0.0.1" {
		t.Errorf("apiserver %+v (original host %s)", c.APIServer, orig.APIServer.Host)
	}
	// A server's env (the defaults' and its own) reaches each of its
	// components' containers.
	for _, ctl := range c.Controllers {
		want := ""
		if ctl.Name == "ctrl2" {
			want = "1"
		}
		if got := ctl.Server.Env["CUDA_VISIBLE_DEVICES"]; got != want || c.APIServer.Server.Env["CUDA_VISIBLE_DEVICES"] != "1" {
			t.Errorf("%s: env %v, apiserver env %v", ctl.Name, ctl.Server.Env, c.APIServer.Server.Env)
		}
	}
	for _, w := range c.Workers {
		if w.Host != "0.0.0.0" || w.Server.Name != WorkerService(w) {
			t.Errorf("worker %s on %s host %s", w.Name, w.Server.Name, w.Host)
		}
	}
	if c.Registry == orig.Registry {
		t.Error("the registry is shared with the input")
	}
	// A server list mixing transports is not adapted.
	mixed := &schema.Cluster{Servers: []*schema.Server{{Transport: TransportCompose}, {Transport: schema.TransportSSH}}}
	if IsAdapted(mixed) {
		t.Error("a mixed server list counts as adapted")
	}
}

func TestAdaptExternalRegistryAndNoComposeBlock(t *testing.T) {
	orig := haCluster()
	orig.Compose.ManagedDatabase = false
	orig.Registry.Host, orig.Registry.Port = "mysql.example.net", 3307
	c, err := Adapt(orig)
	if err != nil {
		t.Fatal(err)
	}
	if c.Registry.Host != "mysql.example.net" || c.Registry.Port != 3307 {
		t.Errorf("external registry moved to %s:%d", c.Registry.Host, c.Registry.Port)
	}
	orig.Compose = nil
	c, err = Adapt(orig)
	if err != nil {
		t.Fatal(err)
	}
	if c.Compose == nil || !c.Compose.ManagedDatabase || orig.Compose != nil {
		t.Errorf("compose block of the adapted cluster = %+v (original %+v)", c.Compose, orig.Compose)
	}
	if got := c.Workers[0].Server.DBGPTCommand; got != "dbgpt (image )" {
		t.Errorf("worker command without a compose block = %q", got)
	}
}

func TestAdaptRefusesCollisions(t *testing.T) {
	for name, mutate := range map[string]func(*schema.Cluster){
		"controllers": func(c *schema.Cluster) { c.Controllers[0].Name, c.Controllers[1].Name = "ctrl_1", "ctrl-1" },
		"workers":     func(c *schema.Cluster) { c.Workers[0].Name, c.Workers[1].Name = "LLM", "llm" },
	} {
		c := haCluster()
		mutate(c)
		_, err := Adapt(c)
		if err == nil || !strings.Contains(err.Error(), "rename one") {
			t.Errorf("%s: err = %v", name, err)
		}
		if _, err := Export(c, BuildOptions{}); err == nil {
			t.Errorf("%s: Export accepted the collision", name)
		}
		if _, err := New(c, Options{WorkDir: t.TempDir()}); err == nil {
			t.Errorf("%s: New accepted the collision", name)
		}
	}
}
