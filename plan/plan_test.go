package plan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const testPassword = "hunter2-registry"

func testCluster(t testing.TB) *schema.Cluster {
	t.Helper()
	s1 := &schema.Server{Name: "server1", Address: "10.0.0.1", DeployDir: "/opt/hactl/ha", DBGPTCommand: "dbgpt"}
	s2 := &schema.Server{Name: "server2", Address: "10.0.0.2", DeployDir: "/opt/hactl/ha", DBGPTCommand: "dbgpt"}
	s3 := &schema.Server{Name: "server3", Address: "10.0.0.3", DeployDir: "/opt/hactl/ha", DBGPTCommand: "dbgpt"}
	llm := &schema.Model{Name: "glm-4-9b-chat", WorkerType: schema.WorkerTypeLLM, Path: "/models/glm"}
	emb := &schema.Model{Name: "text2vec", WorkerType: schema.WorkerTypeText2Vec, Path: "/models/text2vec"}
	return &schema.Cluster{
		Name: "ha", Generation: schema.GenerationFlags, Version: "0.6.3",
		Servers:  []*schema.Server{s1, s2, s3},
		Models:   []*schema.Model{llm, emb},
		Registry: &schema.Registry{Type: schema.RegistryMySQL, Host: "10.0.0.9", Port: 3306, Database: "dbgpt", User: "root", Password: schema.NewSecret(testPassword), CreateDatabase: true},
		Controllers: []*schema.Controller{
			{Name: "ctrl1", Server: s1, Host: "0.0.0.0", Port: 8000, HeartbeatIntervalSecs: 20, HeartbeatTimeoutSecs: 60},
			{Name: "ctrl2", Server: s2, Host: "0.0.0.0", Port: 8000, HeartbeatIntervalSecs: 20, HeartbeatTimeoutSecs: 60},
		},
		Workers: []*schema.Worker{
			{Name: "llm", Server: s3, Model: llm, Host: "0.0.0.0", Port: 8001, HeartbeatIntervalSecs: 20},
			{Name: "embedding", Server: s3, Model: emb, Host: "0.0.0.0", Port: 8003, HeartbeatIntervalSecs: 20},
		},
		Webserver: &schema.Webserver{Name: "webserver", Server: s1, Host: "0.0.0.0", Port: 5670, Light: true, DefaultLLM: llm, DefaultEmbedding: emb},
		Compose:   &schema.Compose{},
	}
}

func desired(t testing.TB, c *schema.Cluster) []*Component {
	t.Helper()
	d, err := Desired(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// deployed is what a provider would observe after applying comps.
func deployed(comps []*Component) []Observed {
	var out []Observed
	for _, c := range comps {
		out = append(out, Observed{Address: c.Address, Role: c.Role, Server: c.Server.Name, Port: c.Port,
			Hash: c.Hash, Attributes: c.Attributes, Running: true, PID: 100})
	}
	return out
}

// regAbsent: the MySQL server answers, without the database.
func regAbsent() *RegistryState {
	return &RegistryState{Type: schema.RegistryMySQL, Where: "mysql root@10.0.0.9:3306/dbgpt (from server1)", Reachable: true}
}

// regPresent: database and complete registry table present.
func regPresent() *RegistryState {
	s := regAbsent()
	s.DatabaseExists, s.TableExists = true, true
	return s
}

func actions(p *Plan) string {
	var s []string
	for _, ch := range p.Changes {
		s = append(s, string(ch.Action)+" "+ch.Address)
	}
	return strings.Join(s, ", ")
}

func TestDesiredOrderAndAddresses(t *testing.T) {
	d := desired(t, testCluster(t))
	var got []string
	for _, c := range d {
		got = append(got, c.Address)
		if !strings.HasPrefix(c.Hash, "sha256:") {
			t.Errorf("%s: hash %q", c.Address, c.Hash)
		}
	}
	want := "controller.ctrl1 controller.ctrl2 worker.llm worker.embedding webserver"
	if strings.Join(got, " ") != want {
		t.Errorf("addresses = %v, want %s", got, want)
	}
	if d[0].Level != 1 || d[2].Level != 2 || d[4].Level != 3 {
		t.Errorf("levels wrong: %d %d %d", d[0].Level, d[2].Level, d[4].Level)
	}
	if d[0].Attributes["registry_password"] != Sensitive {
		t.Errorf("registry_password attribute = %q", d[0].Attributes["registry_password"])
	}
}

func TestHashSeesSecretsButDoesNotShowThem(t *testing.T) {
	c := testCluster(t)
	a := desired(t, c)
	c.Registry.Password = schema.NewSecret("another-password")
	b := desired(t, c)
	if a[0].Hash == b[0].Hash {
		t.Error("a password change does not change the controller's hash")
	}
	if a[2].Hash != b[2].Hash {
		t.Error("a password change changed a worker's hash")
	}
	for _, comp := range a {
		for k, v := range comp.Attributes {
			if strings.Contains(v, testPassword) {
				t.Errorf("%s: attribute %s shows the password", comp.Address, k)
			}
		}
		if strings.Contains(comp.Hash, testPassword) {
			t.Error("hash contains the password")
		}
	}
	p := Diff(c, b, deployed(a), regPresent())
	if actions(p) != "update controller.ctrl1, update controller.ctrl2" {
		t.Fatalf("actions = %s", actions(p))
	}
	var buf bytes.Buffer
	Renderer{W: &buf}.Text(p)
	if !strings.Contains(buf.String(), "a sensitive or derived setting changed") {
		t.Errorf("password change not explained:\n%s", buf.String())
	}
}

func TestDiff(t *testing.T) {
	c := testCluster(t)
	base := desired(t, c)

	t.Run("everything new", func(t *testing.T) {
		p := Diff(c, base, nil, regAbsent())
		if s := p.Summary(); s != (Summary{Add: 6}) {
			t.Errorf("summary = %+v", s)
		}
		want := "create registry, create controller.ctrl1, create controller.ctrl2, create worker.llm, create worker.embedding, create webserver"
		if actions(p) != want {
			t.Errorf("actions = %s, want %s", actions(p), want)
		}
		reg := p.Changes[0]
		if reg.Level != LevelRegistry || reg.Note != "database dbgpt and table dbgpt_cluster_registry_instance will be created" ||
			reg.After["password"] != Sensitive || reg.After["host"] != "10.0.0.9" || reg.After["port"] != "3306" {
			t.Errorf("registry change = %+v", reg)
		}
	})
	t.Run("database present, table absent", func(t *testing.T) {
		reg := regAbsent()
		reg.DatabaseExists = true
		p := Diff(c, base, deployed(base), reg)
		if actions(p) != "create registry" || p.Summary() != (Summary{Add: 1}) ||
			p.Changes[0].Note != "table dbgpt_cluster_registry_instance will be created in database dbgpt" {
			t.Errorf("actions = %s, note %q", actions(p), p.Changes[0].Note)
		}
	})
	t.Run("no changes", func(t *testing.T) {
		p := Diff(c, base, deployed(base), regPresent())
		if !p.Empty() {
			t.Errorf("want no changes, got %s", actions(p))
		}
	})
	t.Run("registry unreachable is not counted", func(t *testing.T) {
		reg := &RegistryState{Type: schema.RegistryMySQL, Where: "mysql root@10.0.0.9:3306/dbgpt", Err: "connection refused"}
		p := Diff(c, base, nil, reg)
		if p.Summary() != (Summary{Add: 5}) || p.Changes[0].Address == RegistryAddress {
			t.Errorf("unknown registry counted: %s", actions(p))
		}
		var buf bytes.Buffer
		Renderer{W: &buf}.Text(p)
		if !strings.Contains(buf.String(), "# registry (mysql root@10.0.0.9:3306/dbgpt) could not be checked: connection refused") {
			t.Errorf("unknown registry not shown:\n%s", buf.String())
		}
		buf.Reset()
		Renderer{W: &buf}.Text(Diff(c, base, deployed(base), reg))
		if !strings.HasPrefix(strings.TrimSpace(buf.String()), NoChanges) || !strings.Contains(buf.String(), "Warning: registry") {
			t.Errorf("no-change plan with an unknown registry:\n%s", buf.String())
		}
	})
	t.Run("embedded registry is no resource", func(t *testing.T) {
		c2 := testCluster(t)
		c2.Registry = &schema.Registry{Type: schema.RegistryEmbedded}
		p := Diff(c2, desired(t, c2), nil, &RegistryState{Type: schema.RegistryEmbedded})
		if p.Summary() != (Summary{Add: 5}) {
			t.Errorf("summary = %+v", p.Summary())
		}
	})
	t.Run("sqlite file absent", func(t *testing.T) {
		c2 := testCluster(t)
		c2.Registry = &schema.Registry{Type: schema.RegistrySQLite, Path: "/var/lib/dbgpt/registry.db"}
		p := Diff(c2, desired(t, c2), nil, &RegistryState{Type: schema.RegistrySQLite, Reachable: true})
		reg := p.Changes[0]
		if reg.Address != RegistryAddress || reg.Server != "server1" || reg.After["path"] != "/var/lib/dbgpt/registry.db" ||
			reg.Note != "file /var/lib/dbgpt/registry.db and table dbgpt_cluster_registry_instance will be created" {
			t.Errorf("sqlite registry change = %+v", reg)
		}
	})
	t.Run("foreign table is refused", func(t *testing.T) {
		reg := regPresent()
		reg.MissingColumns = []string{"model_name", "last_heartbeat"}
		err := CheckRegistry(reg)
		if err == nil || !strings.Contains(err.Error(), "lacks the columns model_name, last_heartbeat") || !strings.Contains(err.Error(), "will not alter it") {
			t.Errorf("CheckRegistry = %v", err)
		}
		if CheckRegistry(regPresent()) != nil || CheckRegistry(regAbsent()) != nil {
			t.Error("CheckRegistry refuses a good registry")
		}
	})
	t.Run("port change is an update", func(t *testing.T) {
		c2 := testCluster(t)
		c2.Workers[0].Port = 8002
		p := Diff(c2, desired(t, c2), deployed(base), regPresent())
		if actions(p) != "update worker.llm" {
			t.Fatalf("actions = %s", actions(p))
		}
		ch := p.Changes[0]
		if ch.Before["port"] != "8001" || ch.After["port"] != "8002" {
			t.Errorf("port attrs %q -> %q", ch.Before["port"], ch.After["port"])
		}
		if s := p.Summary(); s != (Summary{Change: 1}) {
			t.Errorf("summary = %+v", s)
		}
	})
	t.Run("not running is a repair", func(t *testing.T) {
		obs := deployed(base)
		obs[1].Running = false
		p := Diff(c, base, obs, regPresent())
		if actions(p) != "update controller.ctrl2" || p.Changes[0].Reason != "not running" {
			t.Fatalf("actions = %s reason %q", actions(p), p.Changes[0].Reason)
		}
	})
	t.Run("server change is a replace", func(t *testing.T) {
		c2 := testCluster(t)
		c2.Workers[1].Server = c2.Servers[1]
		p := Diff(c2, desired(t, c2), deployed(base), regPresent())
		if actions(p) != "replace worker.embedding" {
			t.Fatalf("actions = %s", actions(p))
		}
		ch := p.Changes[0]
		if ch.Server != "server2" || len(ch.OldServers) != 1 || ch.OldServers[0] != "server3" {
			t.Errorf("servers %s from %v", ch.Server, ch.OldServers)
		}
		if s := p.Summary(); s != (Summary{Add: 1, Destroy: 1}) {
			t.Errorf("summary = %+v", s)
		}
	})
	t.Run("removed worker is destroyed, frontends before workers before controllers", func(t *testing.T) {
		c2 := testCluster(t)
		c2.Workers = c2.Workers[:1]
		c2.Webserver = nil
		c2.Controllers = c2.Controllers[:1]
		c2.Webserver = nil
		p := Diff(c2, desired(t, c2), deployed(base), regPresent())
		want := "update worker.llm, destroy webserver, destroy worker.embedding, destroy controller.ctrl2"
		if actions(p) != want {
			t.Fatalf("actions = %s, want %s", actions(p), want)
		}
	})
	t.Run("stray copy on another server is destroyed", func(t *testing.T) {
		obs := deployed(base)
		stray := obs[2]
		stray.Server = "server1"
		obs = append(obs, stray)
		p := Diff(c, base, obs, regPresent())
		if actions(p) != "destroy worker.llm" || p.Changes[0].Server != "server1" {
			t.Fatalf("actions = %s", actions(p))
		}
	})
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./plan -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestRenderText(t *testing.T) {
	c := testCluster(t)
	base := desired(t, c)

	var buf bytes.Buffer
	Renderer{W: &buf}.Text(Diff(c, base, nil, regAbsent()))
	golden(t, "plan-create.golden", buf.String())
	if !strings.Contains(buf.String(), "Plan: 6 to add, 0 to change, 0 to destroy.") {
		t.Error("closing line missing")
	}

	c2 := testCluster(t)
	c2.Workers[0].Port = 8002
	c2.Workers[1].Server = c2.Servers[1]
	c2.Webserver = nil
	buf.Reset()
	Renderer{W: &buf}.Text(Diff(c2, desired(t, c2), deployed(base), regPresent()))
	golden(t, "plan-mixed.golden", buf.String())

	buf.Reset()
	Renderer{W: &buf}.Text(Diff(c, base, deployed(base), regPresent()))
	if strings.TrimSpace(buf.String()) != NoChanges {
		t.Errorf("no-change output = %q", buf.String())
	}
	if strings.Contains(buf.String(), "\x1b[") {
		t.Error("colour codes with Color=false")
	}
	buf.Reset()
	Renderer{W: &buf, Color: true}.Text(Diff(c, base, nil, regAbsent()))
	if !strings.Contains(buf.String(), "\x1b[32m+") {
		t.Error("no green + with Color=true")
	}
}

func TestRenderJSON(t *testing.T) {
	c := testCluster(t)
	base := desired(t, c)
	c2 := testCluster(t)
	c2.Workers[0].Port = 8002
	var buf bytes.Buffer
	if err := (Renderer{W: &buf}).JSON(Diff(c2, desired(t, c2), deployed(base), regPresent())); err != nil {
		t.Fatal(err)
	}
	var types []string
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		types = append(types, m["type"].(string))
		if m["type"] == "planned_change" {
			ch := m["change"].(map[string]any)
			attrs := ch["attributes"].(map[string]any)
			port := attrs["port"].(map[string]any)
			if port["old"] != "8001" || port["new"] != "8002" || len(attrs) != 2 {
				t.Errorf("attributes = %v (want port and address only)", attrs)
			}
		}
		if m["type"] == "change_summary" {
			s := m["changes"].(map[string]any)
			if s["change"] != 1.0 || s["add"] != 0.0 || s["operation"] != "plan" {
				t.Errorf("summary = %v", s)
			}
		}
	}
	if strings.Join(types, ",") != "planned_change,change_summary" {
		t.Errorf("types = %v", types)
	}

	// From nothing: the registry is a planned_change of its own, counted.
	buf.Reset()
	if err := (Renderer{W: &buf}).JSON(Diff(c, base, nil, regAbsent())); err != nil {
		t.Fatal(err)
	}
	sc = bufio.NewScanner(&buf)
	var first, last map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = m
		}
		last = m
	}
	ch := first["change"].(map[string]any)
	res := ch["resource"].(map[string]any)
	attrs := ch["attributes"].(map[string]any)
	if first["type"] != "planned_change" || res["addr"] != "registry" || ch["action"] != "create" ||
		attrs["password"].(map[string]any)["new"] != Sensitive || !strings.Contains(ch["note"].(string), "table dbgpt_cluster_registry_instance") {
		t.Errorf("registry planned_change = %v", first)
	}
	if s := last["changes"].(map[string]any); s["add"] != 6.0 {
		t.Errorf("summary = %v", s)
	}
}

func TestPlanFileRoundTripAndRefusal(t *testing.T) {
	dir := t.TempDir()
	clusterFile := filepath.Join(dir, "cluster.hcl")
	if err := os.WriteFile(clusterFile, []byte("# cluster\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := testCluster(t)
	base := desired(t, c)
	obs := deployed(base)
	obs[2].Running = false
	p := Diff(c, base, obs, regPresent())
	f, err := NewFile(c.Name, clusterFile, p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tfplan")
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode %v, want 0600", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(testPassword)) {
		t.Fatal("plan file holds the password")
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Plan.Changes) != 1 || back.Plan.Changes[0].Address != "worker.llm" || back.Plan.Changes[0].Action != Update {
		t.Fatalf("round trip lost the changes: %+v", back.Plan.Changes)
	}

	// Same file, same cluster: accepted.
	if err := back.Check(path, Diff(c, desired(t, c), obs, regPresent())); err != nil {
		t.Fatalf("unchanged plan refused: %v", err)
	}
	// The cluster changed: the worker came back on its own.
	obs2 := append([]Observed(nil), obs...)
	obs2[2].Running = true
	err = back.Check(path, Diff(c, desired(t, c), obs2, regPresent()))
	var stale *StaleError
	if !errors.As(err, &stale) || !strings.Contains(err.Error(), "worker.llm on server3 started running") {
		t.Fatalf("drift not refused clearly: %v", err)
	}
	// The registry table vanished since.
	reg := regPresent()
	reg.TableExists = false
	err = back.Check(path, Diff(c, desired(t, c), obs, reg))
	if !errors.As(err, &stale) || !strings.Contains(err.Error(), "the registry changed since the plan was made: table present then, table absent now") ||
		strings.Contains(err.Error(), "the cluster changed") {
		t.Fatalf("registry drift not refused clearly: %v", err)
	}
	// A variable changed (same file bytes, different settings).
	c3 := testCluster(t)
	c3.Registry.Password = schema.NewSecret("changed")
	err = back.Check(path, Diff(c3, desired(t, c3), obs, regPresent()))
	if err == nil || !strings.Contains(err.Error(), "controller.ctrl1's settings differ") {
		t.Fatalf("settings change not refused: %v", err)
	}
	// The cluster file changed.
	if err := os.WriteFile(clusterFile, []byte("# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = back.Check(path, Diff(c, desired(t, c), obs, regPresent()))
	if err == nil || !strings.Contains(err.Error(), "cluster file") {
		t.Fatalf("edited file not refused: %v", err)
	}
}

func TestNoSecretInPlanOutput(t *testing.T) {
	c := testCluster(t)
	c.APIServer = &schema.APIServer{Name: "apiserver", Server: c.Servers[1], Host: "0.0.0.0", Port: 8100,
		APIKeys: []schema.Secret{schema.NewSecret("sk-very-secret")}}
	c.Controllers[0].Env = map[string]string{"TOKEN": "sk-very-secret"}
	old := desired(t, c)
	c.Registry.Password = schema.NewSecret("new-" + testPassword)
	p := Diff(c, desired(t, c), deployed(old[:1]), regPresent())
	var text, js bytes.Buffer
	Renderer{W: &text, Color: true}.Text(p)
	if err := (Renderer{W: &js}).JSON(p); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{text.String(), js.String()} {
		for _, s := range []string{testPassword, "sk-very-secret"} {
			if strings.Contains(out, s) {
				t.Errorf("plan output shows a secret:\n%s", out)
			}
		}
	}
	if !strings.Contains(text.String(), "api_keys") || !strings.Contains(text.String(), "(sensitive)") {
		t.Errorf("sensitive attributes not shown as (sensitive):\n%s", text.String())
	}
}
