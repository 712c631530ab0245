package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	testRootPassword = "root-Secret'pw$1"
	testServiceSalt  = "hactl-secrets-v1|registry|ha"
)

// dbSettings are a managed database's settings as a provider would digest
// them.
func dbSettings(image, volume, rootPassword string) ServiceSettings {
	return NewServiceSettings(testServiceSalt,
		map[string]string{"database_image": image, "database_volume": volume, "database": "dbgpt"},
		map[string]string{"root_password": rootPassword})
}

// regService: a complete registry whose database service has have and the
// file wants want.
func regService(want ServiceSettings, have *ServiceSettings) *RegistryState {
	s := regPresent()
	s.Service = &ServiceState{Name: "registry-db", Want: want, Have: have}
	return s
}

func TestServiceSettingsDigestNoSecret(t *testing.T) {
	s := dbSettings("mysql:8.0", "v", testRootPassword)
	if s.Attributes["root_password"] != Sensitive || s.Digests["root_password"] == "" || !strings.HasPrefix(s.Hash, "sha256:") {
		t.Fatalf("settings = %+v", s)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	all := string(b) + s.Digests["root_password"] + s.Hash
	if strings.Contains(all, testRootPassword) || strings.Contains(all, "Secret") {
		t.Fatalf("settings hold the secret: %s", all)
	}
	if strings.Contains(string(b), s.Digests["root_password"]) {
		t.Errorf("the JSON of the settings holds the digests (the hash covers them): %s", b)
	}
	// Deterministic, salted, and every input counts.
	if again := dbSettings("mysql:8.0", "v", testRootPassword); again.Hash != s.Hash || again.Digests["root_password"] != s.Digests["root_password"] {
		t.Error("same settings, another hash")
	}
	other := NewServiceSettings("hactl-secrets-v1|registry|other", map[string]string{"database_image": "mysql:8.0", "database_volume": "v", "database": "dbgpt"},
		map[string]string{"root_password": testRootPassword})
	if other.Digests["root_password"] == s.Digests["root_password"] {
		t.Error("the digest does not depend on the salt")
	}
	for _, o := range []ServiceSettings{dbSettings("mysql:8.4", "v", testRootPassword), dbSettings("mysql:8.0", "w", testRootPassword), dbSettings("mysql:8.0", "v", "other")} {
		if o.Hash == s.Hash {
			t.Errorf("a change of the settings keeps the hash: %+v", o.Attributes)
		}
	}
}

func TestRegistryUpdate(t *testing.T) {
	c := testCluster(t)
	base := desired(t, c)
	obs := deployed(base)
	old := dbSettings("mysql:8.0", "ha-registry", testRootPassword)

	t.Run("same settings", func(t *testing.T) {
		if p := Diff(c, base, obs, regService(old, &old)); !p.Empty() {
			t.Errorf("want no changes, got %s", actions(p))
		}
	})
	t.Run("no container yet", func(t *testing.T) {
		if p := Diff(c, base, obs, regService(old, nil)); !p.Empty() {
			t.Errorf("want no changes, got %s", actions(p))
		}
	})
	t.Run("image", func(t *testing.T) {
		p := Diff(c, base, obs, regService(dbSettings("mysql:8.4", "ha-registry", testRootPassword), &old))
		if actions(p) != "update registry" || p.Summary() != (Summary{Change: 1}) {
			t.Fatalf("actions = %s, %+v", actions(p), p.Summary())
		}
		ch := p.Changes[0]
		if ch.Reason != `database image changed: "mysql:8.0" -> "mysql:8.4"` || ch.Level != LevelRegistry || ch.Role != "registry" ||
			ch.Name != "mysql" || ch.Server != "registry-db" || len(ch.SensitiveChanged) != 0 ||
			!strings.Contains(ch.Note, "is recreated with these settings; its volume keeps the data") {
			t.Errorf("change = %+v", ch)
		}
		var text, js bytes.Buffer
		Renderer{W: &text}.Text(p)
		golden(t, "plan-registry-update.golden", text.String())
		if err := (Renderer{W: &js}).JSON(p); err != nil {
			t.Fatal(err)
		}
		var msg struct {
			Type   string
			Change jsonChange
		}
		if err := json.Unmarshal([]byte(strings.SplitN(js.String(), "\n", 2)[0]), &msg); err != nil {
			t.Fatal(err)
		}
		if msg.Type != "planned_change" || msg.Change.Resource.Addr != "registry" || msg.Change.Action != Update || len(msg.Change.Attributes) != 1 ||
			msg.Change.Attributes["database_image"] != (jsonAttr{Old: "mysql:8.0", New: "mysql:8.4"}) {
			t.Errorf("JSON change = %+v\n%s", msg, js.String())
		}
	})
	t.Run("root password", func(t *testing.T) {
		p := Diff(c, base, obs, regService(dbSettings("mysql:8.0", "ha-registry", "new-"+testRootPassword), &old))
		if actions(p) != "update registry" {
			t.Fatalf("actions = %s", actions(p))
		}
		ch := p.Changes[0]
		if ch.Reason != "root password changed" || strings.Join(ch.SensitiveChanged, ",") != "root_password" ||
			!strings.Contains(ch.Note, "ALTER USER") {
			t.Errorf("change = %+v", ch)
		}
		var text, js bytes.Buffer
		Renderer{W: &text}.Text(p)
		if err := (Renderer{W: &js}).JSON(p); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text.String(), "~ root_password   = (sensitive)\n") || !strings.Contains(text.String(), "(3 unchanged attributes hidden)") {
			t.Errorf("text:\n%s", text.String())
		}
		if !strings.Contains(js.String(), `"root_password":{"old":"(sensitive)","new":"(sensitive)"}`) {
			t.Errorf("JSON:\n%s", js.String())
		}
		for _, out := range []string{text.String(), js.String()} {
			if strings.Contains(out, testRootPassword) {
				t.Errorf("plan output shows the root password:\n%s", out)
			}
		}
	})
	t.Run("volume", func(t *testing.T) {
		p := Diff(c, base, obs, regService(dbSettings("mysql:8.4", "other-registry", testRootPassword), &old))
		ch := p.Changes[0]
		if ch.Reason != `database image changed: "mysql:8.0" -> "mysql:8.4"; database volume changed: "ha-registry" -> "other-registry"` ||
			!strings.Contains(ch.Note, "which starts without the rows of ha-registry") {
			t.Errorf("change = %+v", ch)
		}
	})
	t.Run("not recorded", func(t *testing.T) {
		// A container of an older hactl: only its image is known.
		have := &ServiceSettings{Attributes: map[string]string{"database_image": "mysql:8.0"}}
		p := Diff(c, base, obs, regService(old, have))
		if actions(p) != "update registry" || p.Changes[0].Reason != "settings of the database service registry-db not recorded" ||
			changedAttrs(p.Changes[0]) != 0 || !strings.Contains(p.Changes[0].Note, "older hactl") {
			t.Errorf("actions = %s, change %+v", actions(p), p.Changes[0])
		}
		have.Attributes["database_image"] = "mysql:5.7"
		p = Diff(c, base, obs, regService(old, have))
		if p.Changes[0].Reason != `database image changed: "mysql:5.7" -> "mysql:8.0"` || changedAttrs(p.Changes[0]) != 1 {
			t.Errorf("change = %+v", p.Changes[0])
		}
	})
	t.Run("a create comes first", func(t *testing.T) {
		reg := regService(dbSettings("mysql:8.4", "ha-registry", testRootPassword), &old)
		reg.TableExists = false
		if p := Diff(c, base, obs, reg); actions(p) != "create registry" {
			t.Errorf("actions = %s", actions(p))
		}
	})
	t.Run("stopped database", func(t *testing.T) {
		// It could not be checked, but its container's settings are known.
		reg := regService(dbSettings("mysql:8.4", "ha-registry", testRootPassword), &old)
		reg.Reachable, reg.Err = false, "the database service registry-db is not running (plan does not start it)"
		if p := Diff(c, base, obs, reg); actions(p) != "update registry" || !reg.Unknown() {
			t.Errorf("actions = %s", actions(p))
		}
	})
}

func TestPlanFileRefusesChangedDatabaseService(t *testing.T) {
	dir := t.TempDir()
	clusterFile := filepath.Join(dir, "cluster.hcl")
	if err := os.WriteFile(clusterFile, []byte("# cluster\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := testCluster(t)
	base := desired(t, c)
	obs := deployed(base)
	old := dbSettings("mysql:8.0", "ha-registry", testRootPassword)
	want := dbSettings("mysql:8.4", "ha-registry", testRootPassword)
	f, err := NewFile(c.Name, clusterFile, Diff(c, base, obs, regService(want, &old)))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tfplan")
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(testRootPassword)) || bytes.Contains(raw, []byte(old.Digests["root_password"])) {
		t.Fatal("plan file holds the root password or its digest")
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Check(path, Diff(c, base, obs, regService(want, &old))); err != nil {
		t.Fatalf("unchanged plan refused: %v", err)
	}
	// The database service was recreated since (by another apply).
	err = back.Check(path, Diff(c, base, obs, regService(want, &want)))
	var stale *StaleError
	if !errors.As(err, &stale) || !strings.Contains(err.Error(), "the registry changed since the plan was made") {
		t.Errorf("recreated database service not refused: %v", err)
	}
	// The file wants other settings now (a variable changed).
	err = back.Check(path, Diff(c, base, obs, regService(dbSettings("mysql:9", "ha-registry", testRootPassword), &old)))
	if !errors.As(err, &stale) || !strings.Contains(err.Error(), "the registry database service's settings differ from the plan's") {
		t.Errorf("changed wanted settings not refused: %v", err)
	}
}
