package schema

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"
)

// decodeFull decodes a testdata/full file keeping the decoder, to look at the
// arguments it read.
func decodeFull(t *testing.T, path string) (*decoder, *Cluster) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder(path, LoadOptions{}, hclparse.NewParser())
	c := d.decode(src)
	if d.diags.HasErrors() {
		t.Fatal(d.diags.Error())
	}
	return d, c
}

// TestEveryArgumentDecoded fails when spec.go lists an argument (so the
// reference documents it and the parser accepts it) that the decoder never
// reads.
func TestEveryArgumentDecoded(t *testing.T) {
	seen := map[string]map[string]bool{}
	for _, path := range []string{"testdata/full/flags.hcl", "testdata/full/toml.hcl"} {
		d, _ := decodeFull(t, path)
		for obj, attrs := range d.ranges {
			var typ string
			switch obj.(type) {
			case *Cluster:
				typ = "cluster"
			case *variable:
				typ = "variable"
			case *Server:
				typ = "server"
			case *JumpHost:
				typ = "jump"
			case *Registry:
				typ = "registry"
			case *Model:
				typ = "model"
			case *Controller:
				typ = "controller"
			case *Worker:
				typ = "worker"
			case *Webserver:
				typ = "webserver"
			case *APIServer:
				typ = "apiserver"
			case *Compose:
				typ = "compose"
			default:
				t.Fatalf("unexpected %T", obj)
			}
			if seen[typ] == nil {
				seen[typ] = map[string]bool{}
			}
			for a := range attrs {
				seen[typ][a] = true
			}
		}
	}
	// defaults arguments are read through the servers.
	seen["defaults"] = seen["server"]
	check := func(b *blockSpec) {
		for _, a := range b.Attrs {
			if !seen[b.Type][a.Name] {
				t.Errorf("%s.%s is in spec.go but was not decoded", b.Type, a.Name)
			}
		}
	}
	for _, b := range topSpecs {
		if b.Any {
			continue
		}
		check(b)
	}
	check(jumpSpec)
}

func TestFullValues(t *testing.T) {
	_, c := decodeFull(t, "testdata/full/flags.hcl")
	s1, s2 := c.ServerByName("s1"), c.ServerByName("s2")
	if s1.SSH.User != "ops" || s1.SSH.Port != 22 || s1.SSH.UseAgent || s1.SSH.HostKeyPolicy != "strict" || s1.SSH.Sudo ||
		s1.DeployDir != "/opt/s1" || s1.SSH.ConnectTimeout != 3*time.Second || s1.SSH.Jump.Address != "10.0.0.253" ||
		s1.SSH.Jump.Port != 22 || s1.SSH.Jump.User != "ops" || s1.SSH.Jump.KeyFile != "/keys/s1" {
		t.Errorf("s1 %+v jump %+v", s1, s1.SSH.Jump)
	}
	// s2 takes everything from defaults.
	if s2.SSH.User != "deploy" || s2.SSH.Port != 2222 || s2.SSH.KeyFile != "/keys/id" || !s2.SSH.UseAgent || s2.SSH.HostKeyPolicy != "accept-new" ||
		!s2.SSH.Sudo || s2.DeployDir != "/srv/hactl" || s2.DBGPTCommand != "/usr/local/bin/dbgpt" || s2.SSH.CommandTimeout != 2*time.Minute ||
		s2.SSH.KnownHostsFile != "/keys/known_hosts" || s2.SSH.Jump == nil || s2.SSH.Jump.Port != 2200 || s2.SSH.Jump.User != "jumper" {
		t.Errorf("s2 %+v jump %+v", s2, s2.SSH.Jump)
	}
	if !slices.Equal(s1.DBGPTArgv, []string{"/opt/venv/bin/python", "-m", "dbgpt.cli.cli_scripts"}) || !slices.Equal(s2.DBGPTArgv, []string{"/usr/local/bin/dbgpt"}) {
		t.Errorf("argv s1 %q s2 %q", s1.DBGPTArgv, s2.DBGPTArgv)
	}
	if s1.Env["SHARED"] != "s1" || s1.Env["PYTHONPATH"] != "/opt/lib" || s1.Env["KEY"] != "secret" || s2.Env["SHARED"] != "defaults" || len(s2.Env) != 2 {
		t.Errorf("env s1 %v s2 %v", s1.Env, s2.Env)
	}
	if s1.RunAs != "ops" || s2.RunAs != "dbgpt" || s1.LogMaxSize != 1<<20 || s2.LogMaxSize != 1<<20 || c.ServerByName("s3") != nil && c.ServerByName("s3").LogMaxSize != DefaultLogMaxSize {
		t.Errorf("run_as s1 %q s2 %q, log_max_size s1 %d s2 %d", s1.RunAs, s2.RunAs, s1.LogMaxSize, s2.LogMaxSize)
	}
	gpt := c.ModelByName("gpt-4o")
	if gpt.Provider != "proxy/openai" || gpt.APIBase != "https://api.example.com/v1" || gpt.APIKey.Reveal() != "secret" || gpt.Backend != "gpt-4o-mini" ||
		gpt.StartTimeout != 90*time.Second || gpt.Path != "" || c.ModelByName("llm").Provider != ProviderHF {
		t.Errorf("models %+v %+v", gpt, c.ModelByName("llm"))
	}
	if !slices.Equal(c.Webserver.ExtraArgs, []string{"--disable_alembic_upgrade"}) || !slices.Equal(c.APIServer.ExtraArgs, []string{"--x", "y"}) {
		t.Errorf("extra_args webserver %q apiserver %q", c.Webserver.ExtraArgs, c.APIServer.ExtraArgs)
	}
	r := c.Registry
	if r.Port != 3307 || r.Database != "reg" || r.User != "reg_user" || r.Password.Reveal() != "secret" || r.PoolSize != 5 || r.MaxOverflow != 10 {
		t.Errorf("registry %+v", r)
	}
	w := c.Workers[0]
	if w.Device != "cuda" || w.LimitConcurrency != 4 || w.PromptTemplate != "glm" || w.LogLevel != "WARNING" ||
		!slices.Equal(w.ExtraArgs, []string{"--max_gpu_memory", "20Gib"}) || w.Env["CUDA_VISIBLE_DEVICES"] != "0" {
		t.Errorf("worker %+v", w)
	}
	ctl := c.Controllers[0]
	if ctl.Host != "10.0.0.1" || ctl.HeartbeatIntervalSecs != 10 || ctl.HeartbeatTimeoutSecs != 30 || ctl.LogLevel != "DEBUG" {
		t.Errorf("controller %+v", ctl)
	}
	cp := c.Compose
	if cp.Project != "fullproj" || cp.DatabaseImage != "mariadb:11" || cp.DatabaseVolume != "regdata" || cp.RootPassword.Reveal() != "secret" || cp.ModelsDir != "/models" ||
		!slices.Equal(cp.Publish, []string{"webserver", "controllers"}) || cp.PublishAddress != "0.0.0.0" || cp.Access != "exec" ||
		!cp.Publishes(RoleController) || cp.Publishes(RoleAPIServer) {
		t.Errorf("compose %+v", cp)
	}
	if c.APIServer.APIKeys[0].Reveal() != "secret" || c.Webserver.Port != 5000 || c.Webserver.RemoteRerank {
		t.Errorf("apiserver %+v webserver %+v", c.APIServer, c.Webserver)
	}
	for _, sec := range c.Secrets() {
		if sec != "secret" {
			t.Errorf("unexpected secret %q", sec)
		}
	}

	_, c7 := decodeFull(t, "testdata/full/toml.hcl")
	if c7.Generation != GenerationTOML || c7.Models[0].Provider != "proxy/openai" || c7.Models[0].Path != "" || c7.Registry.Path != "/tmp/full7/registry.db" {
		t.Errorf("toml cluster %+v model %+v", c7, c7.Models[0])
	}
}
