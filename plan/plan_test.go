package plan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
	if d[0].Attributes["registry.password"] != Sensitive {
		t.Errorf("registry.password attribute = %q", d[0].Attributes["registry.password"])
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
		want := "update worker.llm, delete webserver, delete worker.embedding, delete controller.ctrl2"
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
		if actions(p) != "delete worker.llm" || p.Changes[0].Server != "server1" {
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

// jsonLines decodes plan --json output, one object a line.
func jsonLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// planned returns the planned_change objects' change by resource addr.
func planned(lines []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, m := range lines {
		if m["type"] == "planned_change" {
			ch := m["change"].(map[string]any)
			out[ch["resource"].(map[string]any)["addr"].(string)] = ch
		}
	}
	return out
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
	for _, m := range jsonLines(t, buf.Bytes()) {
		types = append(types, m["type"].(string))
		if m["type"] == "planned_change" {
			ch := m["change"].(map[string]any)
			attrs := ch["attributes"].(map[string]any)
			port := attrs["port"].(map[string]any)
			// Numbers are JSON numbers (float64 once decoded), not strings.
			if port["old"] != 8001.0 || port["new"] != 8002.0 || len(attrs) != 2 {
				t.Errorf("attributes = %#v (want port and address only, port as numbers)", attrs)
			}
			if a := attrs["address"].(map[string]any); a["new"] != "10.0.0.3:8002" {
				t.Errorf("address = %#v", a)
			}
			if ch["action"] != "update" || m["@message"] != "worker.llm: Plan to update" {
				t.Errorf("planned_change = %v", m)
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
	lines := jsonLines(t, buf.Bytes())
	first, last := lines[0], lines[len(lines)-1]
	ch := first["change"].(map[string]any)
	res := ch["resource"].(map[string]any)
	attrs := ch["attributes"].(map[string]any)
	if first["type"] != "planned_change" || res["addr"] != "registry" || ch["action"] != "create" ||
		attrs["password"].(map[string]any)["new"] != Sensitive || attrs["port"].(map[string]any)["new"] != 3306.0 ||
		!strings.Contains(ch["note"].(string), "table dbgpt_cluster_registry_instance") {
		t.Errorf("registry planned_change = %v", first)
	}
	if s := last["changes"].(map[string]any); s["add"] != 6.0 {
		t.Errorf("summary = %v", s)
	}
	ws := planned(lines)["webserver"]["attributes"].(map[string]any)
	for k, want := range map[string]any{"light": true, "remote_rerank": false, "port": 5670.0, "host": "0.0.0.0"} {
		a := ws[k].(map[string]any)
		if a["new"] != want || a["old"] != nil {
			t.Errorf("webserver %s = %#v, want new %#v (%T), old null", k, a, want, want)
		}
	}
	ctl := planned(lines)["controller.ctrl1"]["attributes"].(map[string]any)
	for k, want := range map[string]any{"heartbeat_timeout": 60.0, "registry.port": 3306.0, "registry.password": Sensitive} {
		if got := ctl[k].(map[string]any)["new"]; got != want {
			t.Errorf("controller %s = %#v, want %#v", k, got, want)
		}
	}

	// Terraform's action names: a destroy is "delete", a replace "replace".
	c3 := testCluster(t)
	c3.Workers[1].Server = c3.Servers[1]
	c3.Webserver = nil
	buf.Reset()
	if err := (Renderer{W: &buf}).JSON(Diff(c3, desired(t, c3), deployed(base), regPresent())); err != nil {
		t.Fatal(err)
	}
	lines = jsonLines(t, buf.Bytes())
	got := planned(lines)
	if got["webserver"]["action"] != "delete" || got["worker.embedding"]["action"] != "replace" {
		t.Errorf("actions: webserver %v, worker.embedding %v", got["webserver"]["action"], got["worker.embedding"]["action"])
	}
	gone := got["webserver"]["attributes"].(map[string]any)["light"].(map[string]any)
	if gone["old"] != true || gone["new"] != nil {
		t.Errorf("deleted webserver's light = %#v", gone)
	}
	for _, m := range lines {
		if m["type"] == "planned_change" && m["change"].(map[string]any)["resource"].(map[string]any)["addr"] == "webserver" &&
			m["@message"] != "webserver: Plan to delete" {
			t.Errorf("message = %v", m["@message"])
		}
	}
}

// TestHashUnchangedByDisplayNames pins the settings hashes of the test
// cluster as they were before the attributes took the cluster file's names:
// the hash must not cover the shown attributes, or every cluster deployed
// by an older hactl would plan an update of everything. (A change of what
// internal/dbgpt renders changes these for real, and then they are updated.)
func TestHashUnchangedByDisplayNames(t *testing.T) {
	want := map[string]string{
		"controller.ctrl1": "sha256:27747053be8b4b57a13c584ba29b5cbf09dacfb2caae95ce900bb673b44c2d7a",
		"controller.ctrl2": "sha256:735e39612acd0a78168087cc9110d02761e5e22f0790aa5de091682bb8c6672a",
		"worker.llm":       "sha256:fa92bc4719c01f1bba5add9ade1705cb367db7b968dfcb06176cf9033c2ea044",
		"worker.embedding": "sha256:4604a1a8f70ca947d4179acc25d2fca7cb099c6355267e785ae4ec5697346164",
		"webserver":        "sha256:c9328a78d2568739a5a480df45bd06e93685ac1a9f1188d1a2720097b58ab8f3",
	}
	d := desired(t, testCluster(t))
	if len(d) != len(want) {
		t.Fatalf("%d components", len(d))
	}
	for _, comp := range d {
		if comp.Hash != want[comp.Address] {
			t.Errorf("%s: hash %s, was %s", comp.Address, comp.Hash, want[comp.Address])
		}
		// The shown attributes are not hashed.
		before := hashComponent(comp)
		comp.Attributes = map[string]string{"renamed": "x"}
		if hashComponent(comp) != before {
			t.Errorf("%s: the hash covers the shown attributes", comp.Address)
		}
	}
}

// legacyAttrs are the attributes a manifest written before the file's
// spelling holds for test cluster component i (copied from that release's
// plan-create.golden).
func legacyAttrs(i int) map[string]string {
	switch i {
	case 0:
		return map[string]string{"address": "10.0.0.1:8000", "dbgpt_command": "dbgpt", "dbgpt_version": "0.6.3",
			"heartbeat_interval_secs": "20", "heartbeat_timeout_secs": "60", "host": "0.0.0.0", "port": "8000",
			"registry_database": "dbgpt", "registry_host": "10.0.0.9:3306", "registry_password": Sensitive,
			"registry_type": "mysql", "registry_user": "root", "server": "server1"}
	case 2:
		return map[string]string{"address": "10.0.0.3:8001", "controller_addr": "http://10.0.0.1:8000,http://10.0.0.2:8000",
			"dbgpt_command": "dbgpt", "dbgpt_version": "0.6.3", "heartbeat_interval": "20", "host": "0.0.0.0",
			"model": "glm-4-9b-chat@llm", "model_path": "/models/glm", "port": "8001", "server": "server3",
			"worker_register_host": "10.0.0.3", "param.temperature": "0.5"}
	}
	return nil
}

func TestOlderManifestNames(t *testing.T) {
	c := testCluster(t)
	c.Models[0].Params = map[string]string{"temperature": "0.5"}
	base := desired(t, c)
	obs := deployed(base)
	obs[0].Attributes = legacyAttrs(0)
	obs[2].Attributes = legacyAttrs(2)
	for i, comp := range base {
		if i != 0 && i != 2 {
			continue
		}
		if got := currentNames(obs[i].Attributes); !maps.Equal(got, comp.Attributes) {
			t.Errorf("%s: older manifest read as %v,\nwant %v", comp.Address, got, comp.Attributes)
		}
	}
	if p := Diff(c, base, obs, regPresent()); !p.Empty() {
		t.Fatalf("deployed by an older hactl, unchanged: %s", actions(p))
	}

	// A change shows only what changed, not every renamed name.
	c.Controllers[0].HeartbeatTimeoutSecs = 90
	c.Workers[0].Port = 8011
	p := Diff(c, desired(t, c), obs, regPresent())
	if actions(p) != "update controller.ctrl1, update worker.llm" {
		t.Fatalf("actions = %s", actions(p))
	}
	want := map[string]int{"controller.ctrl1": 1, "worker.llm": 2} // heartbeat_timeout; port and address
	for _, ch := range p.Changes {
		if n := changedAttrs(ch); n != want[ch.Address] {
			t.Errorf("%s: %d attributes change, want %d: %v -> %v", ch.Address, n, want[ch.Address], ch.Before, ch.After)
		}
	}
	var buf bytes.Buffer
	Renderer{W: &buf}.Text(p)
	if !strings.Contains(buf.String(), "~ heartbeat_timeout  = 60 -> 90\n") {
		t.Errorf("older manifest's heartbeat_timeout_secs not compared as heartbeat_timeout:\n%s", buf.String())
	}
	if obs[0].Attributes["registry_host"] != "10.0.0.9:3306" {
		t.Error("currentNames changed the observed manifest")
	}
}

// TestAttributeKinds: every attribute a full cluster shows parses as its
// kind, and the file's numbers and booleans are not strings.
func TestAttributeKinds(t *testing.T) {
	c := testCluster(t)
	c.Registry.PoolSize, c.Registry.MaxOverflow = 5, 10
	c.Workers[0].LimitConcurrency = 4
	c.Models[0].Params = map[string]string{"max_length": "4096"}
	c.APIServer = &schema.APIServer{Name: "apiserver", Server: c.Servers[1], Host: "0.0.0.0", Port: 8100}
	seen := map[Kind]map[string]bool{KindNumber: {}, KindBool: {}}
	for _, comp := range desired(t, c) {
		for k, v := range comp.Attributes {
			switch KindOf(k) {
			case KindNumber:
				if _, err := strconv.Atoi(v); err != nil {
					t.Errorf("%s: number %s = %q", comp.Address, k, v)
				}
				seen[KindNumber][k] = true
			case KindBool:
				if _, err := strconv.ParseBool(v); err != nil {
					t.Errorf("%s: bool %s = %q", comp.Address, k, v)
				}
				seen[KindBool][k] = true
			}
		}
	}
	for _, k := range []string{"port", "heartbeat_interval", "heartbeat_timeout", "limit_model_concurrency",
		"registry.port", "registry.pool_size", "registry.max_overflow"} {
		if !seen[KindNumber][k] {
			t.Errorf("%s not shown as a number", k)
		}
	}
	for _, k := range []string{"light", "remote_embedding", "remote_rerank"} {
		if !seen[KindBool][k] {
			t.Errorf("%s not shown as a bool", k)
		}
	}
	// A model parameter is a string in the file (map(string)): quoted.
	if KindOf("model.params.max_length") != KindString || value("model.params.max_length", "4096") != `"4096"` {
		t.Error("a model parameter is not shown as the string it is")
	}
	if value("port", "80x") != `"80x"` || value("light", Sensitive) != Sensitive {
		t.Error("an unparsable or sensitive value is not shown safely")
	}
}

func TestRenderTextTerraformSymbols(t *testing.T) {
	c := testCluster(t)
	base := desired(t, c)
	c2 := testCluster(t)
	c2.Workers[1].Server = c2.Servers[1]
	var buf bytes.Buffer
	Renderer{W: &buf}.Text(Diff(c2, desired(t, c2), deployed(base), regPresent()))
	out := buf.String()
	for _, s := range []string{
		"+/- create replacement and then destroy\n",
		"  # worker.embedding must be replaced (server changed)\n+/- worker \"embedding\" {\n",
		"Plan: 1 to add, 0 to change, 1 to destroy.\n",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %q in:\n%s", s, out)
		}
	}
	if strings.Contains(out, "-/+") {
		t.Errorf("destroy-then-create symbol for a create-before-destroy replace:\n%s", out)
	}
	buf.Reset()
	Renderer{W: &buf, Color: true}.Text(Diff(c2, desired(t, c2), deployed(base), regPresent()))
	if !strings.Contains(buf.String(), "\x1b[32m+\x1b[0m/\x1b[31m-\x1b[0m worker") {
		t.Errorf("+/- not green then red:\n%q", buf.String())
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

	// A plan file of an older format ("destroy" actions, older attribute
	// names) is refused, saying what to do.
	oldPath := filepath.Join(dir, "tfplan-v2")
	if err := os.WriteFile(oldPath, bytes.Replace(raw, []byte(`"format_version": 3`), []byte(`"format_version": 2`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(oldPath); err == nil || !strings.Contains(err.Error(), "plan file of an older hactl (format 2, this hactl reads 3); run `hactl plan -out "+oldPath+"` again") {
		t.Errorf("older plan file: %v", err)
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

// A proxy model's settings are shown as the file names them (the key only
// as sensitive), the server's env merged under the component's, and the
// frontends' extra_args.
func TestDesiredProxyAttributes(t *testing.T) {
	c := testCluster(t)
	s3 := c.Servers[2]
	s3.Env = map[string]string{"PYTHONPATH": "/opt/lib", "TZ": "Asia/Tokyo"}
	gpt := &schema.Model{Name: "gpt-4o", WorkerType: schema.WorkerTypeLLM, Provider: schema.ProviderOpenAI,
		APIBase: "https://llm.example.com/v1", APIKey: schema.NewSecret("sk-proxy-secret"), Backend: "gpt-4o-mini", StartTimeout: 2 * time.Minute}
	c.Models[0] = gpt
	c.Workers[0].Model = gpt
	c.Workers[0].Env = map[string]string{"TZ": "UTC"}
	c.Webserver.DefaultLLM = gpt
	c.Webserver.ExtraArgs = []string{"--disable_alembic_upgrade"}
	d := desired(t, c)
	w, ws := d[2], d[4]
	want := map[string]string{
		"model.provider": "proxy/openai", "model.api_base": "https://llm.example.com/v1", "model.api_key": Sensitive,
		"model.backend": "gpt-4o-mini", "env.PYTHONPATH": "/opt/lib", "env.TZ": "UTC",
	}
	for k, v := range want {
		if w.Attributes[k] != v {
			t.Errorf("worker.llm %s = %q, want %q", k, w.Attributes[k], v)
		}
	}
	if _, ok := w.Attributes["model.path"]; ok {
		t.Errorf("a proxy shows a path: %v", w.Attributes)
	}
	for k, v := range w.Attributes {
		if strings.Contains(v, "sk-proxy-secret") {
			t.Errorf("the key is shown in %s", k)
		}
	}
	if ws.Attributes["extra_args"] != "--disable_alembic_upgrade" {
		t.Errorf("webserver extra_args = %q", ws.Attributes["extra_args"])
	}
	if w.StartTimeout != 2*time.Minute || d[0].StartTimeout != 0 || ws.StartTimeout != 0 {
		t.Errorf("start timeouts: worker %v controller %v webserver %v", w.StartTimeout, d[0].StartTimeout, ws.StartTimeout)
	}
	if d[3].Attributes["model.provider"] != "" || d[3].Attributes["model.path"] != "/models/text2vec" {
		t.Errorf("worker.embedding %v", d[3].Attributes)
	}
}

// Changing only a model's start_timeout restarts nothing: the plan has no
// change.
func TestStartTimeoutChangeRestartsNothing(t *testing.T) {
	c := testCluster(t)
	before := desired(t, c)
	c.Models[0].StartTimeout = 30 * time.Minute
	after := desired(t, c)
	if after[2].StartTimeout != 30*time.Minute || after[2].Hash != before[2].Hash {
		t.Fatalf("worker.llm: timeout %v, hash changed %v", after[2].StartTimeout, after[2].Hash != before[2].Hash)
	}
	p := Diff(c, after, deployed(before), regPresent())
	if len(p.Changes) != 0 {
		t.Errorf("changes %s", actions(p))
	}
}

// A server env change reaches every component on the server as a change.
func TestServerEnvChangeUpdates(t *testing.T) {
	c := testCluster(t)
	before := desired(t, c)
	c.Servers[2].Env = map[string]string{"CUDA_VISIBLE_DEVICES": "1"}
	p := Diff(c, desired(t, c), deployed(before), regPresent())
	if got := actions(p); got != "update worker.llm, update worker.embedding" {
		t.Errorf("changes %s", got)
	}
}

// TestHashRunAsLogMaxSize: run_as and log_max_size restart a component
// when set, and leave the hash of one that sets neither as it was.
func TestHashRunAsLogMaxSize(t *testing.T) {
	c := testCluster(t)
	base := desired(t, c)[0].Hash
	s := c.Controllers[0].Server
	s.RunAs = "dbgpt"
	withUser := desired(t, c)[0].Hash
	s.RunAs = ""
	s.LogMaxSize = schema.DefaultLogMaxSize
	if got := desired(t, c)[0].Hash; got != base {
		t.Errorf("the default log_max_size changed the hash")
	}
	s.LogMaxSize = 1 << 20
	withSize := desired(t, c)[0].Hash
	if withUser == base || withSize == base || withUser == withSize {
		t.Errorf("hashes: base %s, run_as %s, log_max_size %s", base, withUser, withSize)
	}
}
