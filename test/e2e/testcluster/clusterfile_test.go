package testcluster

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hactl/hactl/schema"
)

// TestHAClusterFile checks the generated file is a valid cluster file of the
// guide's topology in both generations (no Docker needed).
func TestHAClusterFile(t *testing.T) {
	for _, v := range []string{"0.6.3", "0.7.0"} {
		p := HAParams{Version: v, Servers: map[string]string{Server1: "10.0.0.11", Server2: "10.0.0.12", Server3: "10.0.0.13"},
			KeyFile: "/k/id", KnownHostsFile: "/k/known_hosts", DBHost: "10.0.0.14", DBPort: DBPort, DBUser: DBUser,
			HeartbeatInterval: 2, HeartbeatTimeout: 6}
		src := HAClusterFile(p)
		c, diags, _ := schema.Decode("cluster.hcl", src, schema.LoadOptions{Environ: []string{"HACTL_VAR_registry_password=pw"}})
		if diags.HasErrors() {
			t.Fatalf("%s: %s\n%s", v, diags.Error(), src)
		}
		if c == nil {
			t.Fatalf("%s: no cluster", v)
		}
		want := map[string]schema.Generation{"0.6.3": schema.GenerationFlags, "0.7.0": schema.GenerationTOML}[v]
		if c.Version != v || c.Generation != want {
			t.Errorf("decoded dbgpt_version %q generation %q, want %q %q", c.Version, c.Generation, v, want)
		}
		var ctls []string
		for _, ctl := range c.Controllers {
			ctls = append(ctls, ctl.Name+"@"+ctl.Server.Name)
			if ctl.HeartbeatIntervalSecs != 2 || ctl.HeartbeatTimeoutSecs != 6 {
				t.Errorf("%s: controller %s heartbeat %d/%d, want 2/6", v, ctl.Name, ctl.HeartbeatIntervalSecs, ctl.HeartbeatTimeoutSecs)
			}
		}
		var workers []string
		for _, w := range c.Workers {
			workers = append(workers, w.Name+"@"+w.Server.Name)
		}
		if got := strings.Join(ctls, " "); got != "controller1@server1 controller2@server2" {
			t.Errorf("%s: controllers %s", v, got)
		}
		if got := strings.Join(workers, " "); got != "glm-4-9b-chat@server3 text2vec@server3" {
			t.Errorf("%s: workers %s", v, got)
		}
		if r := c.Registry; r.Type != schema.RegistryMySQL || r.Host != "10.0.0.14" || r.Port != DBPort || r.Password.Reveal() != "pw" {
			t.Errorf("%s: registry %+v", v, r)
		}
		if ws := c.Webserver; ws == nil || ws.Server.Name != Server3 || ws.DefaultLLM == nil || ws.DefaultLLM.Name != "glm-4-9b-chat" {
			t.Errorf("%s: webserver %+v", v, ws)
		}
	}
}

// The knobs the e2e scenarios turn: a moved text2vec worker, the glm worker
// removed, connect and command timeouts.
func TestHAClusterFileOptions(t *testing.T) {
	p := HAParams{Version: "0.6.3", Servers: map[string]string{Server1: "10.0.0.11", Server2: "10.0.0.12", Server3: "10.0.0.13"},
		KeyFile: "/k/id", KnownHostsFile: "/k/known_hosts", DBHost: "10.0.0.14", DBPort: DBPort, DBUser: DBUser,
		Text2VecPort: 8004, WithoutGLM: true, NoDefaultModels: true, ConnectTimeout: "3s", CommandTimeout: "20s"}
	src := HAClusterFile(p)
	c, diags, _ := schema.Decode("cluster.hcl", src, schema.LoadOptions{Environ: []string{"HACTL_VAR_registry_password=pw"}})
	if diags.HasErrors() || c == nil {
		t.Fatalf("%s\n%s", diags.Error(), src)
	}
	if len(c.Workers) != 1 || c.Workers[0].Name != "text2vec" || c.Workers[0].Port != 8004 {
		t.Errorf("workers: %+v", c.Workers)
	}
	if c.Webserver.DefaultLLM != nil || c.Webserver.DefaultEmbedding != nil {
		t.Errorf("webserver defaults set: %+v", c.Webserver)
	}
	if got := c.Servers[0].SSH.ConnectTimeout.String(); got != "3s" {
		t.Errorf("connect timeout %s", got)
	}
	if got := c.Servers[0].SSH.CommandTimeout.String(); got != "20s" {
		t.Errorf("command timeout %s", got)
	}
}

// The issue-10 knobs: a non-root user with sudo, per-server users, a jump
// host in defaults; run_as and log_max_size are rendered as written.
func TestHAClusterFileUsersAndJump(t *testing.T) {
	p := HAParams{Version: "0.6.3", Servers: map[string]string{Server1: "10.0.0.11", Server2: "10.0.0.12", Server3: "10.0.0.13"},
		KeyFile: "/k/id", KnownHostsFile: "/k/known_hosts", DBHost: "10.0.0.14", DBPort: DBPort, DBUser: DBUser,
		User: DeployUser, Sudo: true, ServerUsers: map[string]string{Server1: NoSudoUser, Server2: NoSudoUser},
		Jump: &JumpParams{Address: "10.0.0.15", User: User}, ServerEnv: map[string]map[string]string{Server3: {"B": "2", "A": "1"}}}
	src := HAClusterFile(p)
	c, diags, _ := schema.Decode("cluster.hcl", src, schema.LoadOptions{Environ: []string{"HACTL_VAR_registry_password=pw"}})
	if diags.HasErrors() || c == nil {
		t.Fatalf("%s\n%s", diags.Error(), src)
	}
	want := map[string]string{Server1: NoSudoUser, Server2: NoSudoUser, Server3: DeployUser}
	for _, s := range c.Servers {
		if s.SSH.User != want[s.Name] || !s.SSH.Sudo {
			t.Errorf("%s: user %q sudo %v, want %q with sudo", s.Name, s.SSH.User, s.SSH.Sudo, want[s.Name])
		}
		if wantEnv := p.ServerEnv[s.Name]; fmt.Sprint(s.Env) != fmt.Sprint(wantEnv) && len(s.Env)+len(wantEnv) > 0 {
			t.Errorf("%s: env %v, want %v", s.Name, s.Env, wantEnv)
		}
		if j := s.SSH.Jump; j == nil || j.Address != "10.0.0.15" || j.User != User || j.Port != 22 || j.KeyFile != "/k/id" {
			t.Errorf("%s: jump %+v", s.Name, j)
		}
	}

	p = HAParams{Version: "0.6.3", Servers: p.Servers, RunAs: ServiceUser, LogMaxSize: "256KiB"}
	src = HAClusterFile(p)
	for _, line := range []string{`user             = "root"`, `run_as           = "dbgpt"`, `log_max_size     = "256KiB"`} {
		if !strings.Contains(string(src), line) {
			t.Errorf("no %s in\n%s", line, src)
		}
	}
	if strings.Contains(string(src), "jump") || strings.Contains(string(src), "sudo") {
		t.Errorf("jump or sudo without being asked:\n%s", src)
	}
}
