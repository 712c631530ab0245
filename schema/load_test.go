package schema

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hactl/hactl/internal/defaults"
)

func mustDecode(t *testing.T, src string, opts LoadOptions) *Cluster {
	t.Helper()
	c, diags, _ := Decode(filepath.Join(t.TempDir(), "cluster.hcl"), []byte(src), opts)
	if diags.HasErrors() {
		t.Fatalf("unexpected errors: %s", diags.Error())
	}
	return c
}

func exampleFiles(t *testing.T) []string {
	files, err := filepath.Glob("../examples/*/cluster.hcl")
	if err != nil || len(files) < 3 {
		t.Fatalf("examples: %v %v", files, err)
	}
	return files
}

func TestExamplesValidate(t *testing.T) {
	for _, f := range exampleFiles(t) {
		t.Run(filepath.Base(filepath.Dir(f)), func(t *testing.T) {
			// As hactl validate: variables may be unset.
			_, diags, _ := LoadDiagnostics(f, LoadOptions{AllowUnsetVariables: true})
			if len(diags) > 0 {
				t.Errorf("validate: %s", diags.Error())
			}
			// As plan/apply, with the password given.
			c, err := Load(f, LoadOptions{Environ: []string{"HACTL_VAR_registry_password=s3cret", "HACTL_VAR_openai_api_key=sk-test"}})
			if err != nil {
				t.Fatal(err)
			}
			if c.Registry.Type == RegistryMySQL && c.Registry.Password.Reveal() != "s3cret" {
				t.Errorf("password = %q", c.Registry.Password.Reveal())
			}
		})
	}
}

func TestExamplesAndStartersFormatted(t *testing.T) {
	files := exampleFiles(t)
	more, _ := filepath.Glob("starters/*.hcl")
	for _, f := range append(files, more...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, diags := Format(f, src)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", f, diags.Error())
		}
		if string(out) != string(src) {
			t.Errorf("%s is not formatted:\n%s", f, UnifiedDiff(f, f, src, out))
		}
	}
}

func TestStartersValidate(t *testing.T) {
	for name, src := range map[string]string{"ha": StarterHA, "single": StarterSingle} {
		_, diags, _ := Decode(name+".hcl", []byte(src), LoadOptions{AllowUnsetVariables: true})
		if len(diags) > 0 {
			t.Errorf("%s: %s", name, diags.Error())
		}
	}
}

// The HA example must be exactly the guide's topology.
func TestHAExampleTopology(t *testing.T) {
	c, err := Load("../examples/ha-three-servers/cluster.hcl", LoadOptions{Vars: []string{"registry_password=pw"}, Environ: []string{"HOME=/home/op"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Generation != GenerationFlags || c.Version != "0.6.3" {
		t.Errorf("generation %q version %q", c.Generation, c.Version)
	}
	if got := c.ControllerURLs(); !slices.Equal(got, []string{"http://192.168.1.11:8000", "http://192.168.1.12:8000"}) {
		t.Errorf("controller URLs %v", got)
	}
	r := c.Registry
	if r.Type != RegistryMySQL || r.Database != "dbgpt" || r.Port != 3306 || !r.CreateDatabase {
		t.Errorf("registry %+v", r)
	}
	type w struct {
		name, server, model, typ, path string
		port                           int
	}
	var got []w
	for _, x := range c.Workers {
		got = append(got, w{x.Name, x.Server.Name, x.Model.Name, x.Model.WorkerType, x.Model.Path, x.Port})
	}
	want := []w{
		{"glm-4-9b-chat", "server3", "glm-4-9b-chat", "llm", "/app/models/glm-4-9b-chat", 8001},
		{"text2vec", "server3", "text2vec", "text2vec", "/app/models/text2vec-large-chinese", 8003},
	}
	if !slices.Equal(got, want) {
		t.Errorf("workers %+v", got)
	}
	ws := c.Webserver
	if ws.Server.Name != "server3" || !ws.Light || !ws.RemoteEmbedding || ws.Port != 5670 ||
		ws.DefaultLLM != c.ModelByName("glm-4-9b-chat") || ws.DefaultEmbedding != c.ModelByName("text2vec") {
		t.Errorf("webserver %+v", ws)
	}
	s := c.ServerByName("server1")
	if s.SSH.KeyFile != "/home/op/.ssh/id_ed25519" || s.SSH.KnownHostsFile != "/home/op/.ssh/known_hosts" ||
		s.SSH.Port != 22 || s.SSH.User != "root" || s.DeployDir != "/opt/hactl/dbgpt-ha" || s.SSH.UseAgent {
		t.Errorf("server1 %+v", s)
	}
	if !slices.Contains(c.Secrets(), "pw") {
		t.Errorf("Secrets() lacks the password")
	}
}

func TestQuickstartIsLocal(t *testing.T) {
	c, err := Load("../examples/quickstart/cluster.hcl", LoadOptions{Vars: []string{"dbgpt_command=/usr/local/bin/dbgpt-sim"}})
	if err != nil {
		t.Fatal(err)
	}
	s := c.Servers[0]
	if s.Transport != TransportLocal || s.Address != "127.0.0.1" || s.DeployDir != "/tmp/hactl-quickstart/deploy" || s.DBGPTCommand != "/usr/local/bin/dbgpt-sim" {
		t.Errorf("server %+v", s)
	}
	if c.Registry.Type != RegistrySQLite || c.Registry.Path != "/tmp/hactl-quickstart/registry.db" {
		t.Errorf("registry %+v", c.Registry)
	}
	if len(c.Controllers) != 2 {
		t.Errorf("%d controllers", len(c.Controllers))
	}
}

const defaultsSrc = `
cluster {
  name = "demo"
}

server "a" {
  address = "10.0.0.1"
}

server "here" {
  transport  = "local"
  deploy_dir = "state"
}

model "m" {
  type = "llm"
  path = "/models/m/"
}

controller "c" {
  server = server.a
}

worker "w" {
  server = server.here
  model  = model.m
}

webserver {
  server = server.a
}

apiserver {
  server = server.a
}
`

func TestDefaults(t *testing.T) {
	c, diags, _ := Decode("/work/x/cluster.hcl", []byte(defaultsSrc), LoadOptions{Environ: []string{"HOME=/root"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if c.Version != defaults.DBGPTVersion || c.Generation != GenerationFlags {
		t.Errorf("version %s %s", c.Version, c.Generation)
	}
	a := c.ServerByName("a")
	want := SSHSettings{Port: 22, User: "root", UseAgent: true, HostKeyPolicy: HostKeyStrict, KnownHostsFile: "/root/.ssh/known_hosts",
		ConnectTimeout: 10 * time.Second, CommandTimeout: 60 * time.Second}
	if a.SSH != want || a.DeployDir != "/opt/hactl/demo" || a.DBGPTCommand != "dbgpt" || a.Transport != TransportSSH {
		t.Errorf("server a: %+v", a)
	}
	here := c.ServerByName("here")
	if here.Address != "127.0.0.1" || here.DeployDir != "/work/x/state" {
		t.Errorf("server here: %+v", here)
	}
	ctl := c.Controllers[0]
	if ctl.Port != 8000 || ctl.Host != "0.0.0.0" || ctl.HeartbeatIntervalSecs != 20 || ctl.HeartbeatTimeoutSecs != 60 || ctl.LogLevel != "INFO" {
		t.Errorf("controller %+v", ctl)
	}
	if w := c.Workers[0]; w.Port != 8001 || w.HeartbeatIntervalSecs != 20 || w.Model.Path != "/models/m" || w.RegistryModelName() != "m@llm" {
		t.Errorf("worker %+v", w)
	}
	if ws := c.Webserver; ws.Port != 5670 || !ws.Light || ws.Name != "webserver" {
		t.Errorf("webserver %+v", ws)
	}
	if as := c.APIServer; as.Port != 8100 || as.APIKeys == nil {
		t.Errorf("apiserver %+v", as)
	}
	if c.Registry == nil || c.Registry.Type != RegistryEmbedded {
		t.Errorf("registry %+v", c.Registry)
	}
	if cp := c.Compose; cp.Project != "demo" || cp.DatabaseImage != "mysql:8.0" || !cp.ManagedDatabase ||
		cp.PublishAddress != "127.0.0.1" || !slices.Equal(cp.Publish, []string{"webserver", "apiserver"}) || cp.Access != "auto" ||
		!cp.Publishes(RoleWebserver) || !cp.Publishes(RoleAPIServer) || cp.Publishes(RoleController) {
		t.Errorf("compose %+v", cp)
	}
}

const varsSrc = `
variable "port" {
  type    = number
  default = 8000
}

variable "extra" {
  type    = list(string)
  default = []
}

variable "key" {
  type      = string
  sensitive = true
}

cluster {
  name = "v"
}

server "a" {
  address = "10.0.0.1"
}

controller "c" {
  server = server.a
  port   = var.port
  env    = { TOKEN = var.key }
}

model "m" {
  type = "llm"
  path = "/m"
}

worker "w" {
  server     = server.a
  model      = model.m
  extra_args = var.extra
}

apiserver {
  server   = server.a
  port     = 9100
  api_keys = [var.key]
}
`

// Terraform's order: default < environment < var-files in order < -var in order.
func TestVariablePrecedence(t *testing.T) {
	dir := t.TempDir()
	f1 := filepath.Join(dir, "one.hcl")
	f2 := filepath.Join(dir, "two.hcl")
	os.WriteFile(f1, []byte("port = 8100\nkey = \"from-file\"\n"), 0o600)
	os.WriteFile(f2, []byte("port = 8200\nextra = [\"--a\", \"b\"]\n"), 0o600)
	base := LoadOptions{Environ: []string{"HACTL_VAR_key=k"}}
	cases := []struct {
		name string
		opts LoadOptions
		port int
	}{
		{"default", base, 8000},
		{"environment", LoadOptions{Environ: []string{"HACTL_VAR_key=k", "HACTL_VAR_port=8050"}}, 8050},
		{"var-file over environment", LoadOptions{Environ: []string{"HACTL_VAR_key=k", "HACTL_VAR_port=8050"}, VarFiles: []string{f1}}, 8100},
		{"later var-file wins", LoadOptions{Environ: base.Environ, VarFiles: []string{f1, f2}}, 8200},
		{"-var over var-file", LoadOptions{Environ: base.Environ, VarFiles: []string{f2}, Vars: []string{"port=8300"}}, 8300},
		{"later -var wins", LoadOptions{Environ: base.Environ, Vars: []string{"port=8300", "port=8400"}}, 8400},
	}
	for _, tc := range cases {
		c := mustDecode(t, varsSrc, tc.opts)
		if c.Controllers[0].Port != tc.port {
			t.Errorf("%s: port %d, want %d", tc.name, c.Controllers[0].Port, tc.port)
		}
	}
	c := mustDecode(t, varsSrc, LoadOptions{Environ: base.Environ, VarFiles: []string{f2}, Vars: []string{`extra=["--x"]`}})
	if !slices.Equal(c.Workers[0].ExtraArgs, []string{"--x"}) {
		t.Errorf("extra_args %v", c.Workers[0].ExtraArgs)
	}
	c = mustDecode(t, varsSrc, LoadOptions{VarFiles: []string{f1}})
	if c.APIServer.APIKeys[0].Reveal() != "from-file" || c.Controllers[0].Env["TOKEN"] != "from-file" {
		t.Errorf("key not taken from the var-file")
	}
	if !slices.Contains(c.Secrets(), "from-file") {
		t.Errorf("Secrets() = %v lacks the sensitive variable", c.Secrets())
	}
}

func TestVariableErrors(t *testing.T) {
	cases := []struct {
		opts LoadOptions
		want string
	}{
		{LoadOptions{}, `Variable "key" has no default and no value was given`},
		{LoadOptions{Vars: []string{"key=k", "prot=1"}}, `declares no variable "prot". Did you mean "port"?`},
		{LoadOptions{Vars: []string{"key=k", "port"}}, `is not of the form NAME=VALUE`},
		{LoadOptions{Vars: []string{"key=k", "port=eighty"}}, `does not suit variable "port" of type number`},
		{LoadOptions{Vars: []string{"key=k", "extra=[1,"}}, `is not a valid HCL expression`},
		{LoadOptions{Vars: []string{"key=a\x01b"}}, `contains the control character U+0001`},
		{LoadOptions{Vars: []string{"key=k"}, VarFiles: []string{"/nonexistent/x.hcl"}}, `/nonexistent/x.hcl`},
	}
	for _, tc := range cases {
		_, err := func() (*Cluster, error) {
			c, diags, files := Decode("c.hcl", []byte(varsSrc), tc.opts)
			if diags.HasErrors() {
				return nil, &DiagnosticsError{diags, files}
			}
			return c, nil
		}()
		var de *DiagnosticsError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to contain %q", tc.opts, err, tc.want)
		}
	}
}

func TestDiagnosticsErrorRendersSnippet(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cluster.hcl")
	os.WriteFile(p, []byte("cluster {\n  name = \"x\"\n}\n\nserver \"s\" {\n  address = \"10.0.0.1\"\n}\n\ncontroller \"c\" {\n  server = server.z\n}\n"), 0o644)
	_, err := Load(p, LoadOptions{})
	var de *DiagnosticsError
	if !errors.As(err, &de) {
		t.Fatalf("error %T %v", err, err)
	}
	msg := err.Error()
	for _, want := range []string{"Error: Reference to undeclared server", "on " + p + " line 10, in controller \"c\":", "10:   server = server.z", "Did you mean server.s?"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "\x1b[") {
		t.Errorf("message has colour codes")
	}
}

const funcsSrc = `
cluster {
  name = lower("FUNCS")
}

locals {
  base  = "/srv/${var.name}"
  ports = { ctl = 8000 + 10 }
}

variable "name" {
  default = "m"
}

server "a" {
  address = trimspace(file("addr.txt"))
  user    = env("OPERATOR")
}

model "m" {
  type   = "llm"
  path   = "${local.base}/weights"
  params = { max_length = 4096, trust = true }
}

controller "c" {
  server = server.a
  port   = local.ports.ctl
}

worker "w" {
  server = server.a
  model  = model["m"]
  env    = { MODEL_DIR = model.m.path, HOST = server.a.address }
}
`

func TestFunctionsAndReferences(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "addr.txt"), []byte("10.1.2.3\n"), 0o644)
	c, diags, _ := Decode(filepath.Join(dir, "cluster.hcl"), []byte(funcsSrc), LoadOptions{Environ: []string{"OPERATOR=ops"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if c.Name != "funcs" || c.Servers[0].Address != "10.1.2.3" || c.Servers[0].SSH.User != "ops" || c.Controllers[0].Port != 8010 {
		t.Errorf("cluster %+v server %+v", c, c.Servers[0])
	}
	m := c.Models[0]
	if m.Path != "/srv/m/weights" || m.Params["max_length"] != "4096" || m.Params["trust"] != "true" {
		t.Errorf("model %+v", m)
	}
	w := c.Workers[0]
	if w.Model != m || w.Server != c.Servers[0] || w.Env["MODEL_DIR"] != "/srv/m/weights" || w.Env["HOST"] != "10.1.2.3" {
		t.Errorf("worker %+v", w)
	}
	// Every element keeps its source range.
	if w.DeclRange.Start.Line != 31 || c.Servers[0].DeclRange.Start.Line != 15 {
		t.Errorf("ranges %v %v", w.DeclRange, c.Servers[0].DeclRange)
	}
}

func TestGeneration(t *testing.T) {
	for v, want := range map[string]Generation{
		"0.5.9": GenerationFlags, "0.5.10": GenerationFlags, "0.6.0": GenerationFlags, "0.6.3": GenerationFlags, "v0.6.3": GenerationFlags,
		"0.7.0": GenerationTOML, "0.7.4": GenerationTOML, "0.8.1": GenerationTOML, "1.0.0": GenerationTOML, "0.7.0rc1": GenerationTOML,
		"0.5.8": "", "0.4.4": "", "latest": "", "": "", "0.6.x": "", "06.3": "",
	} {
		if got := GenerationOf(v); got != want {
			t.Errorf("GenerationOf(%q) = %q, want %q", v, got, want)
		}
	}
}

func TestValidateWithoutVariableValues(t *testing.T) {
	src := strings.Replace(varsSrc, "port   = var.port", "port   = var.nodefault", 1) + `
variable "nodefault" {
  type = number
}

controller "c2" {
  server = server.a
  port   = 8000
}

registry "sqlite" {
  path = "/r.db"
}
`
	// The unknown port must not be taken as the default 8000 (no false clash).
	_, diags, _ := Decode("c.hcl", []byte(src), LoadOptions{AllowUnsetVariables: true})
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			t.Errorf("unexpected %s", describe(d))
		}
	}
	_, diags, files := Decode("c.hcl", []byte(src), LoadOptions{})
	msg := (&DiagnosticsError{diags, files}).Error()
	if !strings.Contains(msg, `Variable "key" has no default`) || !strings.Contains(msg, `Variable "nodefault" has no default`) {
		t.Errorf("diags %s", msg)
	}
}

func TestDiagnosticsJSON(t *testing.T) {
	_, diags, _ := Decode("c.hcl", []byte("cluster {\n  name = 1.5\n  nam = 2\n}\n"), LoadOptions{})
	res := DiagnosticsJSON(diags)
	if res.Valid || res.ErrorCount < 2 || res.Diagnostics[0].Range == nil {
		t.Fatalf("%+v", res)
	}
	found := false
	for _, d := range res.Diagnostics {
		if d.Summary == "Unsupported argument" && d.Range.Start.Line == 3 && d.Range.Start.Column == 3 && d.Range.Filename == "c.hcl" {
			found = true
		}
	}
	if !found {
		t.Errorf("%+v", res.Diagnostics)
	}
}

func TestWarnings(t *testing.T) {
	head := "cluster {\n  name = \"w\"\n}\n\nserver \"a\" {\n  address = \"10.0.0.1\"\n}\n\nserver \"b\" {\n  address = \"10.0.0.2\"\n}\n\n"
	cases := []struct {
		name, src string
		want      []string
	}{
		{"clean", head + "controller \"c\" {\n  server = server.a\n}\n\ncontroller \"d\" {\n  server = server.b\n}\n\nregistry \"mysql\" {\n  host     = \"10.0.0.9\"\n  database = \"x\"\n  user     = \"x\"\n  password = var.pw\n}\n\nvariable \"pw\" {\n  default   = \"p\"\n  sensitive = true\n}\n", nil},
		{"unused", head + "controller \"c\" {\n  server = server.a\n}\n\nmodel \"m\" {\n  type = \"llm\"\n  path = \"/m\"\n}\n", []string{"Model not served", "Server not used"}},
		{"literal password", head + "controller \"c\" {\n  server = server.a\n}\n\ncontroller \"d\" {\n  server = server.b\n}\n\nregistry \"mysql\" {\n  host     = \"10.0.0.9\"\n  database = \"x\"\n  user     = \"x\"\n  password = \"letmein\"\n}\n", []string{"Password written in the cluster file"}},
		{"no password", head + "controller \"c\" {\n  server = server.a\n}\n\ncontroller \"d\" {\n  server = server.b\n}\n\nregistry \"mysql\" {\n  host     = \"10.0.0.9\"\n  database = \"x\"\n  user     = \"x\"\n}\n", []string{"Registry without password"}},
		{"loopback bind", head + "controller \"c\" {\n  server = server.a\n  host   = \"127.0.0.1\"\n}\n\nmodel \"m\" {\n  type = \"llm\"\n  path = \"/m\"\n}\n\nworker \"w\" {\n  server = server.b\n  model  = model.m\n}\n", []string{"Unreachable from other servers"}},
		{"timeout below the worker manager's beat", head + "controller \"c\" {\n  server            = server.a\n  heartbeat_interval = 2\n  heartbeat_timeout  = 6\n}\n\nmodel \"m\" {\n  type = \"llm\"\n  path = \"/m\"\n}\n\nworker \"w\" {\n  server             = server.b\n  model              = model.m\n  heartbeat_interval = 2\n}\n", []string{"Heartbeat timeout shorter than the worker manager's beat"}},
		{"apiserver without llm", head + "controller \"c\" {\n  server = server.a\n}\n\napiserver {\n  server = server.b\n}\n", []string{"API server without an LLM"}},
		{"webserver not light", head + "controller \"c\" {\n  server = server.a\n}\n\ncontroller \"d\" {\n  server = server.a\n  port   = 8010\n}\n\nregistry \"sqlite\" {\n  path = \"/r.db\"\n}\n\nwebserver {\n  server           = server.b\n  light            = false\n  remote_embedding = true\n}\n", []string{"No embedding worker", "Webserver not light"}},
	}
	for _, tc := range cases {
		_, diags, _ := Decode("w.hcl", []byte(tc.src), LoadOptions{})
		var got []string
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				t.Errorf("%s: unexpected error %s", tc.name, describe(d))
			} else {
				got = append(got, d.Summary)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: warnings %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestIPv6Addresses(t *testing.T) {
	src := "cluster {\n  name = \"v6\"\n}\n\nserver \"a\" {\n  address = \"fd00::1\"\n}\n\ncontroller \"c\" {\n  server = server.a\n}\n"
	c := mustDecode(t, src, LoadOptions{})
	if got := c.Controllers[0].URL(); got != "http://[fd00::1]:8000" {
		t.Errorf("URL %s", got)
	}
}

func TestAnyTypedVariableFromFlag(t *testing.T) {
	src := "variable \"v\" {\n  type = any\n}\n\ncluster {\n  name = \"My.Cluster\"\n}\n\nserver \"a\" {\n  address = var.v\n}\n\ncontroller \"c\" {\n  server = server.a\n}\n"
	c := mustDecode(t, src, LoadOptions{Vars: []string{"v=host1"}})
	if c.Servers[0].Address != "host1" || c.Compose.Project != "my-cluster" {
		t.Errorf("address %q project %q", c.Servers[0].Address, c.Compose.Project)
	}
}

// A literal password is warned about, and the warning's snippet masks it.
func TestSnippetsMaskSecrets(t *testing.T) {
	src := "cluster {\n  name = \"s\"\n}\n\nserver \"a\" {\n  address = \"10.0.0.1\"\n}\n\nregistry \"mysql\" {\n  host     = \"10.0.0.9\"\n  database = \"d\"\n  user     = \"u\"\n  password = \"letmein\"\n}\n\ncontroller \"c\" {\n  server = server.a\n  port   = 0\n}\n"
	_, diags, files := Decode("s.hcl", []byte(src), LoadOptions{})
	msg := (&DiagnosticsError{diags, files}).Error()
	if strings.Contains(msg, "letmein") || !strings.Contains(msg, `password = "*******"`) || !strings.Contains(msg, "Port out of range") {
		t.Errorf("message:\n%s", msg)
	}
}

func TestSensitiveList(t *testing.T) {
	src := "variable \"keys\" {\n  type      = list(string)\n  sensitive = true\n  default   = [\"key-1\", \"key-2\"]\n}\n\ncluster {\n  name = \"x\"\n}\n\nserver \"a\" {\n  address = \"10.0.0.1\"\n}\n\ncontroller \"c\" {\n  server = server.a\n  env    = { K = join(\",\", var.keys) }\n}\n\napiserver {\n  server   = server.a\n  api_keys = var.keys\n}\n"
	c := mustDecode(t, src, LoadOptions{})
	if len(c.APIServer.APIKeys) != 2 || c.APIServer.APIKeys[1].Reveal() != "key-2" || c.Controllers[0].Env["K"] != "key-1,key-2" {
		t.Errorf("apiserver %+v env %v", c.APIServer, c.Controllers[0].Env)
	}
	for _, want := range []string{"key-1", "key-2", "key-1,key-2"} {
		if !slices.Contains(c.Secrets(), want) {
			t.Errorf("Secrets() lacks %q", want)
		}
	}
}
