package testcluster

import (
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
		if got := schema.GenerationOf(v); got != want {
			t.Errorf("generation of %s = %s", v, got)
		}
	}
}

// The knobs the e2e scenarios turn: a moved text2vec worker, the glm worker
// removed, a connect timeout.
func TestHAClusterFileOptions(t *testing.T) {
	p := HAParams{Version: "0.6.3", Servers: map[string]string{Server1: "10.0.0.11", Server2: "10.0.0.12", Server3: "10.0.0.13"},
		KeyFile: "/k/id", KnownHostsFile: "/k/known_hosts", DBHost: "10.0.0.14", DBPort: DBPort, DBUser: DBUser,
		Text2VecPort: 8004, WithoutGLM: true, NoDefaultModels: true, ConnectTimeout: "3s"}
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
}
