package dbgpt

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/hactl/hactl/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	testPassword = "s3cr3t-pa$$word"
	testAPIKey1  = "sk-key-one"
	testAPIKey2  = "sk-key-two"
)

// testCluster is the guide's topology: two controllers on server1/server2
// sharing a MySQL registry, two workers on server3, webserver and apiserver.
func testCluster(gen schema.Generation, regType string) *schema.Cluster {
	s1 := &schema.Server{Name: "server1", Address: "10.0.0.1", Transport: schema.TransportSSH, DeployDir: "/opt/hactl/ha", DBGPTCommand: "dbgpt"}
	s2 := &schema.Server{Name: "server2", Address: "10.0.0.2", Transport: schema.TransportSSH, DeployDir: "/opt/hactl/ha", DBGPTCommand: "dbgpt"}
	s3 := &schema.Server{Name: "server3", Address: "10.0.0.3", Transport: schema.TransportSSH, DeployDir: "/opt/hactl/ha", DBGPTCommand: "dbgpt"}
	llm := &schema.Model{Name: "glm-4-9b-chat", WorkerType: schema.WorkerTypeLLM, Path: "/models/glm-4-9b-chat", Provider: "hf",
		Params: map[string]string{"trust_remote_code": "true", "max_context_size": "8192", "temperature": "0.7", "quantization": "int8 \"q\"", "proxy_api_key": testAPIKey1}}
	emb := &schema.Model{Name: "text2vec", WorkerType: schema.WorkerTypeText2Vec, Path: "/models/text2vec-large-chinese"}
	version := "0.6.3"
	if gen == schema.GenerationTOML {
		version = "0.7.0"
	}
	c := &schema.Cluster{
		Name: "ha", Generation: gen, Version: version,
		Servers: []*schema.Server{s1, s2, s3},
		Models:  []*schema.Model{llm, emb},
		Controllers: []*schema.Controller{
			{Name: "ctrl1", Server: s1, Host: "0.0.0.0", Port: 8000, HeartbeatIntervalSecs: 20, HeartbeatTimeoutSecs: 60, LogLevel: "INFO"},
			{Name: "ctrl2", Server: s2, Host: "0.0.0.0", Port: 8000, HeartbeatIntervalSecs: 20, HeartbeatTimeoutSecs: 60, LogLevel: "INFO",
				Env: map[string]string{"TZ": "UTC", "LEAKY": "x" + testPassword}},
		},
		Workers: []*schema.Worker{
			{Name: "llm", Server: s3, Model: llm, Host: "0.0.0.0", Port: 8001, Device: "cpu", HeartbeatIntervalSecs: 20, LimitConcurrency: 5, PromptTemplate: "glm4"},
			{Name: "embedding", Server: s3, Model: emb, Host: "0.0.0.0", Port: 8003, HeartbeatIntervalSecs: 20},
		},
		Webserver: &schema.Webserver{Name: "webserver", Server: s1, Host: "0.0.0.0", Port: 5670, Light: true, RemoteEmbedding: true, DefaultLLM: llm, DefaultEmbedding: emb},
		APIServer: &schema.APIServer{Name: "apiserver", Server: s2, Host: "0.0.0.0", Port: 8100,
			APIKeys: []schema.Secret{schema.NewSecret(testAPIKey1), schema.NewSecret(testAPIKey2)}},
		Compose: &schema.Compose{},
	}
	switch regType {
	case schema.RegistryMySQL:
		c.Registry = &schema.Registry{Type: schema.RegistryMySQL, Host: "10.0.0.9", Port: 3306, Database: "dbgpt", User: "dbgpt", Password: schema.NewSecret(testPassword), PoolSize: 10}
	case schema.RegistrySQLite:
		c.Registry = &schema.Registry{Type: schema.RegistrySQLite, Path: "/var/lib/hactl/registry.db"}
	default:
		c.Registry = &schema.Registry{Type: schema.RegistryEmbedded}
	}
	if gen == schema.GenerationFlags {
		c.Workers[1].ExtraArgs = []string{"--model_alias", "text2vec"}
	}
	return c
}

// dump renders a Launch for a golden file, showing secret values only as
// the names that carry them.
func dump(l Launch) string {
	var b strings.Builder
	b.WriteString("args:\n")
	for _, a := range l.Args {
		fmt.Fprintf(&b, "  %q\n", a)
	}
	b.WriteString("env:\n")
	for _, k := range slices.Sorted(maps.Keys(l.Env)) {
		fmt.Fprintf(&b, "  %s=%q\n", k, l.Env[k])
	}
	b.WriteString("secret_env:\n")
	for _, k := range slices.Sorted(maps.Keys(l.SecretEnv)) {
		fmt.Fprintf(&b, "  %s=(sensitive)\n", k)
	}
	names := make([]string, 0, len(l.Files))
	for n := range l.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "file %s (secret=%v):\n%s", n, l.Files[n].Secret, l.Files[n].Content)
	}
	return b.String()
}

// proxyCluster is the guide's compose variant: a proxy LLM and a proxy
// embedding model, the key from a sensitive variable, server env.
func proxyCluster(gen schema.Generation) *schema.Cluster {
	c := testCluster(gen, schema.RegistryMySQL)
	s3 := c.Servers[2]
	s3.Env = map[string]string{"PYTHONPATH": "/opt/lib", "TZ": "Europe/Paris"}
	s3.DBGPTArgv = []string{"/opt/venv/bin/python", "-m", "dbgpt.cli.cli_scripts"}
	llm := &schema.Model{Name: "gpt-4o", WorkerType: schema.WorkerTypeLLM, Provider: schema.ProviderOpenAI,
		APIBase: "https://llm.example.com/v1", APIKey: schema.NewSecret(testProxyKey), Backend: "gpt-4o-mini",
		Params: map[string]string{"context_length": "8192"}}
	if gen == schema.GenerationFlags {
		llm.Params = map[string]string{"max_context_size": "8192"}
	}
	embName := "text-embedding-3-small"
	if gen == schema.GenerationFlags {
		embName = "proxy_openai"
	}
	emb := &schema.Model{Name: embName, WorkerType: schema.WorkerTypeText2Vec, Provider: schema.ProviderOpenAI,
		APIKey: schema.NewSecret(testProxyKey), Backend: "text-embedding-3-small"}
	c.Models = []*schema.Model{llm, emb}
	c.Workers[0].Model, c.Workers[0].Device, c.Workers[0].PromptTemplate, c.Workers[0].LimitConcurrency = llm, "", "", 0
	c.Workers[0].Env = map[string]string{"TZ": "UTC"}
	c.Workers[0].LogLevel, c.Workers[1].LogLevel, c.Webserver.LogLevel = "DEBUG", "INFO", "WARNING"
	c.Workers[1].Model, c.Workers[1].ExtraArgs = emb, nil
	c.Webserver.DefaultLLM, c.Webserver.DefaultEmbedding = llm, emb
	if gen == schema.GenerationFlags {
		c.Webserver.ExtraArgs = []string{"--disable_alembic_upgrade"}
	}
	return c
}

const testProxyKey = "sk-proxy-key"

func TestRenderProxyGolden(t *testing.T) {
	for _, gen := range []schema.Generation{schema.GenerationFlags, schema.GenerationTOML} {
		c := proxyCluster(gen)
		for _, cp := range []struct{ role, name string }{
			{schema.RoleWorker, "llm"}, {schema.RoleWorker, "embedding"}, {schema.RoleWebserver, "webserver"},
		} {
			name := fmt.Sprintf("proxy-%s-%s-%s.golden", gen, cp.role, cp.name)
			t.Run(name, func(t *testing.T) {
				l, err := Render(c, cp.role, cp.name)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, name, dump(l))
				if cp.role == schema.RoleWorker {
					found := false
					for _, v := range l.SecretEnv {
						found = found || v == testProxyKey
					}
					if !found {
						t.Errorf("the API key is not in SecretEnv %v", slices.Sorted(maps.Keys(l.SecretEnv)))
					}
				}
				for _, a := range l.Args {
					if strings.Contains(a, testProxyKey) {
						t.Errorf("the API key is on the command line: %q", l.Args)
					}
				}
				for n, f := range l.Files {
					if strings.Contains(string(f.Content), testProxyKey) {
						t.Errorf("the API key is in %s", n)
					}
				}
			})
		}
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "settings", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/dbgpt -run TestRender -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	for _, gen := range []schema.Generation{schema.GenerationFlags, schema.GenerationTOML} {
		for _, reg := range []string{schema.RegistryMySQL, schema.RegistrySQLite, schema.RegistryEmbedded} {
			c := testCluster(gen, reg)
			comps := []struct{ role, name string }{
				{schema.RoleController, "ctrl1"}, {schema.RoleController, "ctrl2"},
				{schema.RoleWorker, "llm"}, {schema.RoleWorker, "embedding"},
				{schema.RoleWebserver, "webserver"}, {schema.RoleAPIServer, "apiserver"},
			}
			for _, cp := range comps {
				if reg != schema.RegistryMySQL && cp.role != schema.RoleController {
					continue // only the controller depends on the registry type
				}
				name := fmt.Sprintf("%s-%s-%s-%s.golden", gen, reg, cp.role, cp.name)
				t.Run(name, func(t *testing.T) {
					l, err := Render(c, cp.role, cp.name)
					if err != nil {
						t.Fatal(err)
					}
					got := dump(l)
					path := filepath.Join("testdata", "settings", name)
					if *update {
						if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
							t.Fatal(err)
						}
					}
					want, err := os.ReadFile(path)
					if err != nil {
						t.Fatalf("%v (run go test ./internal/dbgpt -run TestRenderGolden -update)", err)
					}
					if got != string(want) {
						t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
					}
				})
			}
		}
	}
}

// TestNoSecretOutsideSecretEnv checks every role of both generations: no
// secret value in Args, Env or any file, and every secret reachable through
// SecretEnv.
func TestNoSecretOutsideSecretEnv(t *testing.T) {
	for _, gen := range []schema.Generation{schema.GenerationFlags, schema.GenerationTOML} {
		c := testCluster(gen, schema.RegistryMySQL)
		var all []Launch
		for _, ctl := range c.Controllers {
			l, err := RenderController(c, ctl)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, l)
			if gen == schema.GenerationFlags && l.SecretEnv[EnvControllerRegistryPassword] != testPassword {
				t.Errorf("controller %s: password not in SecretEnv %s", ctl.Name, EnvControllerRegistryPassword)
			}
			if gen == schema.GenerationTOML && l.SecretEnv[EnvTOMLRegistryPassword] != testPassword {
				t.Errorf("controller %s: password not in SecretEnv %s", ctl.Name, EnvTOMLRegistryPassword)
			}
		}
		for _, w := range c.Workers {
			l, err := RenderWorker(c, w)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, l)
		}
		ws, _ := RenderWebserver(c)
		as, _ := RenderAPIServer(c)
		all = append(all, ws, as)
		if !strings.Contains(as.SecretEnv[keyEnv(gen)], testAPIKey2) {
			t.Errorf("%s: api keys not in SecretEnv: %v", gen, slices.Sorted(maps.Keys(as.SecretEnv)))
		}
		for _, l := range all {
			for _, secret := range []string{testPassword, testAPIKey1, testAPIKey2} {
				for _, a := range l.Args {
					if strings.Contains(a, secret) {
						t.Errorf("%s: secret in args %q", gen, l.Args)
					}
				}
				for k, v := range l.Env {
					if strings.Contains(v, secret) {
						t.Errorf("%s: secret in env %s", gen, k)
					}
				}
				for n, f := range l.Files {
					if strings.Contains(string(f.Content), secret) {
						t.Errorf("%s: secret in file %s", gen, n)
					}
				}
			}
		}
	}
}

func keyEnv(gen schema.Generation) string {
	if gen == schema.GenerationTOML {
		return EnvTOMLAPIKeys
	}
	return EnvAPIServerAPIKeys
}

// TestTOMLParses reads every rendered file back with a TOML parser and checks
// types: booleans are booleans, numbers are numbers, one model table.
func TestTOMLParses(t *testing.T) {
	c := testCluster(schema.GenerationTOML, schema.RegistryMySQL)
	w, err := RenderWorker(c, c.Workers[0])
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if _, err := toml.Decode(string(w.Files[TOMLFile].Content), &doc); err != nil {
		t.Fatalf("worker TOML does not parse: %v\n%s", err, w.Files[TOMLFile].Content)
	}
	models := doc["models"].(map[string]any)
	if len(models) != 1 {
		t.Fatalf("want exactly one model kind, got %v", models)
	}
	llms := models["llms"].([]map[string]any)
	if len(llms) != 1 {
		t.Fatalf("want exactly one model table, got %d", len(llms))
	}
	m := llms[0]
	if v, ok := m["trust_remote_code"].(bool); !ok || !v {
		t.Errorf("trust_remote_code = %#v, want TOML boolean true", m["trust_remote_code"])
	}
	if v, ok := m["max_context_size"].(int64); !ok || v != 8192 {
		t.Errorf("max_context_size = %#v, want integer", m["max_context_size"])
	}
	if v, ok := m["temperature"].(float64); !ok || v != 0.7 {
		t.Errorf("temperature = %#v, want float", m["temperature"])
	}
	if v := m["quantization"]; v != `int8 "q"` {
		t.Errorf("quantization = %#v, want the string with its quotes", v)
	}
	if v := m["proxy_api_key"]; v != "${env:HACTL_MODEL_PROXY_API_KEY}" {
		t.Errorf("proxy_api_key = %#v, want an env reference", v)
	}
	svc := doc["service"].(map[string]any)["model"].(map[string]any)["worker"].(map[string]any)
	if svc["worker_register_host"] != "10.0.0.3" || svc["controller_addr"] != "http://10.0.0.1:8000,http://10.0.0.2:8000" {
		t.Errorf("worker service table = %v", svc)
	}

	ws, _ := RenderWebserver(c)
	doc = nil
	if _, err := toml.Decode(string(ws.Files[TOMLFile].Content), &doc); err != nil {
		t.Fatal(err)
	}
	web := doc["service"].(map[string]any)["web"].(map[string]any)
	if v, ok := web["light"].(bool); !ok || !v {
		t.Errorf("light = %#v, want TOML boolean", web["light"])
	}
	if v, ok := web["remote_embedding"].(bool); !ok || !v {
		t.Errorf("remote_embedding = %#v, want TOML boolean", web["remote_embedding"])
	}
	for _, role := range []string{schema.RoleController, schema.RoleAPIServer} {
		name := map[string]string{schema.RoleController: "ctrl1", schema.RoleAPIServer: "apiserver"}[role]
		l, err := Render(c, role, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := toml.Decode(string(l.Files[TOMLFile].Content), &doc); err != nil {
			t.Errorf("%s TOML does not parse: %v", role, err)
		}
		if strings.Join(l.Args, " ") != "start "+role+" -c "+ComponentDir+"/dbgpt.toml" {
			t.Errorf("%s args = %q", role, l.Args)
		}
	}
}

func TestTOMLValueTypes(t *testing.T) {
	cases := map[string]string{
		"true": "true", "false": "false", "42": "42", "-3": "-3", "0.5": "0.5", "1e3": "1e3",
		"0123": `"0123"`, "1.": `"1."`, "True": `"True"`, "nan": `"nan"`, "0x10": `"0x10"`,
		"a\\b\n": `"a\\b\n"`, "99999999999999999999": `"99999999999999999999"`,
	}
	for in, want := range cases {
		if got := tomlValue(in); got != want {
			t.Errorf("tomlValue(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestExtraArgsRejected(t *testing.T) {
	c := testCluster(schema.GenerationTOML, schema.RegistryMySQL)
	c.Workers[0].ExtraArgs = []string{"--x", "y"}
	if _, err := RenderWorker(c, c.Workers[0]); err == nil || !strings.Contains(err.Error(), "extra_args") {
		t.Errorf("TOML generation with extra_args: err = %v", err)
	}
	c = testCluster(schema.GenerationFlags, schema.RegistryMySQL)
	c.Workers[0].ExtraArgs = []string{"--api_key", testPassword}
	if _, err := RenderWorker(c, c.Workers[0]); err == nil || !strings.Contains(err.Error(), "sensitive") {
		t.Errorf("secret in extra_args: err = %v", err)
	}
}

// DB-GPT 0.7 falls back to ${env:DBGPT_DB_PASSWORD} when the key is missing:
// a registry without a password still gets the key, empty.
func TestTOMLRegistryPasswordAlwaysWritten(t *testing.T) {
	c := testCluster(schema.GenerationTOML, schema.RegistryMySQL)
	c.Registry.Password = schema.Secret{}
	l, err := RenderController(c, c.Controllers[0])
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Service struct {
			Model struct {
				Controller struct {
					Registry struct{ Database map[string]any }
				}
			}
		}
	}
	if _, err := toml.Decode(string(l.Files[TOMLFile].Content), &doc); err != nil {
		t.Fatal(err)
	}
	if pw, ok := doc.Service.Model.Controller.Registry.Database["password"]; !ok || pw != "" {
		t.Errorf("password = %#v (present %v), want the empty string", pw, ok)
	}
}

// A component's environment is its server's env under its own; a
// sensitive value of either goes to SecretEnv only.
func TestServerEnvMerged(t *testing.T) {
	for _, gen := range []schema.Generation{schema.GenerationFlags, schema.GenerationTOML} {
		c := testCluster(gen, schema.RegistryMySQL)
		s1 := c.Servers[0]
		s1.Env = map[string]string{"PYTHONPATH": "/srv", "TZ": "Asia/Tokyo", "DB": "pw:" + testPassword}
		c.Webserver.Env = map[string]string{"TZ": "UTC"}
		l, err := RenderWebserver(c)
		if err != nil {
			t.Fatal(err)
		}
		if l.Env["PYTHONPATH"] != "/srv" || l.Env["TZ"] != "UTC" || l.Env[EnvLogDir] != ComponentDir+"/logs" {
			t.Errorf("%s: env %v", gen, l.Env)
		}
		if _, leaked := l.Env["DB"]; leaked || l.SecretEnv["DB"] != "pw:"+testPassword {
			t.Errorf("%s: the sensitive server env value is not only in SecretEnv: env %v", gen, l.Env)
		}
	}
}

func TestFrontendExtraArgs(t *testing.T) {
	c := testCluster(schema.GenerationFlags, schema.RegistryMySQL)
	c.APIServer.ExtraArgs = []string{"--x", "y"}
	l, err := RenderAPIServer(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(l.Args[len(l.Args)-2:], " "); got != "--x y" {
		t.Errorf("args end %q", got)
	}
	c.APIServer.ExtraArgs = []string{"--api_keys", testAPIKey1}
	if _, err := RenderAPIServer(c); err == nil || !strings.Contains(err.Error(), "sensitive") {
		t.Errorf("secret in extra_args: err = %v", err)
	}
}

// Launch.In makes every ComponentDir path absolute where the component lives.
func TestComponentDirResolved(t *testing.T) {
	c := testCluster(schema.GenerationTOML, schema.RegistryMySQL)
	l, err := RenderWebserver(c)
	if err != nil {
		t.Fatal(err)
	}
	in := l.In("/opt/hactl/ha/webserver")
	if in.Args[len(in.Args)-1] != "/opt/hactl/ha/webserver/dbgpt.toml" || in.Env[EnvLogDir] != "/opt/hactl/ha/webserver/logs" ||
		!strings.Contains(string(in.Files[TOMLFile].Content), `path = "/opt/hactl/ha/webserver/data/dbgpt-meta.db"`) {
		t.Errorf("In: args %q env %v file:\n%s", in.Args, in.Env, in.Files[TOMLFile].Content)
	}
}

// TestWebserverMetaDatabaseRegistry: meta_database = "registry" points the
// webserver's metadata database at the registry's MySQL database (0.6:
// LOCAL_DB_* environment; 0.7: [service.web.database] type mysql), the
// password only through SecretEnv.
func TestWebserverMetaDatabaseRegistry(t *testing.T) {
	for _, gen := range []schema.Generation{schema.GenerationFlags, schema.GenerationTOML} {
		c := testCluster(gen, schema.RegistryMySQL)
		c.Webserver.MetaDatabase = schema.MetaDatabaseRegistry
		l, err := RenderWebserver(c)
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, fmt.Sprintf("%s-mysql-webserver-meta-registry.golden", gen), dump(l))
		want := EnvLocalDBPassword
		if gen == schema.GenerationTOML {
			want = EnvTOMLRegistryPassword
		}
		if l.SecretEnv[want] != testPassword {
			t.Errorf("%s: the password is not in SecretEnv %s", gen, want)
		}
		for k, v := range l.Env {
			if strings.Contains(v, testPassword) {
				t.Errorf("%s: the password is in env %s", gen, k)
			}
		}
		for n, f := range l.Files {
			if strings.Contains(string(f.Content), testPassword) {
				t.Errorf("%s: the password is in %s", gen, n)
			}
		}
	}
}
