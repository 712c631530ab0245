package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/providers/compose"
	"github.com/hactl/hactl/test/images"
)

// The names of this file's copy of the compose example: its own project,
// volume and image tag, so it runs beside the other compose tests.
const (
	dbImageProject = composeProject + "-dbimage"
	dbImageVolume  = composeVolume + "-dbimage"
	dbImageAltTag  = "hactl-e2e-alt-dbimage"
)

// newDBImageEnv is newComposeEnv for a copy of the example under this
// file's project and volume names, returning also the database image the
// example runs.
func newDBImageEnv(t *testing.T) (*composeEnv, string) {
	t.Helper()
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Clean(filepath.Join(filepath.Dir(here), "..", ".."))
	bin := t.TempDir()
	e := &composeEnv{t: t, root: root, hactl: filepath.Join(bin, "hactl"), project: dbImageProject, volume: dbImageVolume}
	src, err := os.ReadFile(filepath.Join(root, "examples", "compose", "cluster.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(src), `"`+composeVolume+`"`, `"`+dbImageVolume+`"`)
	text = strings.Replace(text, `name          = "`+composeProject+`"`, `name          = "`+dbImageProject+`"`, 1)
	if !strings.Contains(text, `"`+dbImageProject+`"`) || !strings.Contains(text, `"`+dbImageVolume+`"`) {
		t.Fatalf("cannot derive this test's copy of the compose example")
	}
	e.example = filepath.Join(t.TempDir(), "cluster.hcl")
	if err := os.WriteFile(e.example, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, b := range []struct{ out, pkg string }{{e.hactl, "./cmd/hactl"}, {filepath.Join(bin, "dbgpt-sim"), "./cmd/dbgpt-sim"}} {
		cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", b.out, b.pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	imgs, err := images.Ensure(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := images.EnsureSim(ctx, filepath.Join(bin, "dbgpt-sim"), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if sim, err = composeImageWithModels(ctx, sim, composeExampleVersion); err != nil {
		t.Fatal(err)
	}
	e.env = append(os.Environ(),
		"HOME="+t.TempDir(),
		"NO_COLOR=1",
		"HACTL_PROVIDER=compose",
		"HACTL_VAR_dbgpt_image="+sim,
		"HACTL_VAR_database_image="+imgs.DB,
		"HACTL_VAR_registry_password="+composeSecret,
		"HACTL_VAR_openai_api_key="+composeAPIKey,
	)
	composeSweep(t, e.project, e.volume)
	t.Cleanup(func() { composeSweep(t, e.project, e.volume) })
	return e, imgs.DB
}

// dbQuery runs SQL in the registry database's container as root over its
// socket (the test image keeps socket authentication for root@localhost)
// and returns the rows, tab-separated.
func dbQuery(t *testing.T, project, sql string) string {
	t.Helper()
	id := containerID(t, project, "registry-db")
	out, err := exec.Command("docker", "exec", id, "mariadb", "-N", "-B", "dbgpt", "-e", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("SQL in registry-db: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// Issue 15, must show 4: a changed database image plans as a change of the
// registry alone, apply recreates the database service on the same volume
// (rows kept), the controllers and workers come back by themselves, and
// the next plan finds nothing to do.
func TestComposeDatabaseImageChange(t *testing.T) {
	e, dbImage := newDBImageEnv(t)
	repo := dbImage
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	alt := repo + ":" + dbImageAltTag
	if out, err := exec.Command("docker", "tag", dbImage, alt).CombinedOutput(); err != nil {
		t.Fatalf("docker tag: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", alt).Run() })

	start := time.Now()
	e.must(10*time.Minute, "apply", "-auto-approve")
	t.Logf("apply from nothing: %s", time.Since(start).Round(100*time.Millisecond))
	e.modelsLiveVia(90*time.Second, "controller1", "controller2")

	// The database container carries its settings, never the secret.
	dbID := containerID(t, e.project, "registry-db")
	labels, err := exec.Command("docker", "inspect", "--format", "{{json .Config.Labels}}", dbID).Output()
	if err != nil {
		t.Fatal(err)
	}
	var l map[string]string
	if err := json.Unmarshal(labels, &l); err != nil {
		t.Fatal(err)
	}
	if l[compose.LabelHash] == "" || !strings.Contains(l[compose.LabelAttributes], `"database_image":"`+dbImage+`"`) ||
		!strings.Contains(l[compose.LabelAttributes], `"root_password":"(sensitive)"`) || l[compose.LabelSecretDigests] == "" {
		t.Fatalf("database container labels lack its settings: %s", labels)
	}
	if strings.Contains(string(labels), composeSecret) {
		t.Fatalf("a label of the database container holds the root password")
	}

	// A row of our own and the registry's rows, to find after the change.
	dbQuery(t, e.project, "CREATE TABLE hactl_e2e_marker (v VARCHAR(40)); INSERT INTO hactl_e2e_marker VALUES ('kept')")
	rowsQuery := "SELECT id, model_name, host, port FROM " + dbgpt.RegistryTable + " ORDER BY id"
	rowsBefore := dbQuery(t, e.project, rowsQuery)
	if strings.Count(rowsBefore, "\n") < 3 {
		t.Fatalf("expected four registry rows, got:\n%s", rowsBefore)
	}
	compIDs := map[string]string{}
	for _, svc := range []string{"controller1", "controller2", "worker-llm", "worker-embedding", "webserver"} {
		compIDs[svc] = containerID(t, e.project, svc)
	}

	// The same image under another tag: a change of database_image.
	for i, kv := range e.env {
		if strings.HasPrefix(kv, "HACTL_VAR_database_image=") {
			e.env[i] = "HACTL_VAR_database_image=" + alt
		}
	}
	out, code := e.run(3*time.Minute, "plan", "-detailed-exitcode")
	wantReason := `# registry will be updated in-place (database image changed: "` + dbImage + `" -> "` + alt + `")`
	if code != 2 || !strings.Contains(out, wantReason) ||
		!regexp.MustCompile(`~ database_image += "`+regexp.QuoteMeta(dbImage)+`" -> "`+regexp.QuoteMeta(alt)+`"`).MatchString(out) ||
		!strings.Contains(out, "Plan: 0 to add, 1 to change, 0 to destroy.") ||
		strings.Count(out, " will be ") != 1 {
		t.Fatalf("plan after the image change: exit %d\n%s", code, out)
	}
	t.Logf("plan:\n%s", out)
	jout, code := e.run(3*time.Minute, "plan", "-json", "-detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan -json: exit %d\n%s", code, jout)
	}
	var changes []string
	for _, line := range strings.Split(strings.TrimSpace(jout), "\n") {
		var m struct {
			Type   string
			Change *struct {
				Resource   struct{ Addr string }
				Action     string
				Attributes map[string]struct{ Old, New any }
			}
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("plan -json line %q: %v", line, err)
		}
		if m.Type == "planned_change" {
			changes = append(changes, m.Change.Resource.Addr+" "+m.Change.Action)
			if a, ok := m.Change.Attributes["database_image"]; !ok || a.Old != dbImage || a.New != alt || len(m.Change.Attributes) != 1 {
				t.Errorf("planned change's attributes: %+v", m.Change.Attributes)
			}
		}
	}
	if strings.Join(changes, ",") != "registry update" {
		t.Fatalf("plan -json changes %v, want exactly the registry's update\n%s", changes, jout)
	}

	start = time.Now()
	out = e.must(10*time.Minute, "apply", "-auto-approve")
	t.Logf("apply of the image change: %s\n%s", time.Since(start).Round(100*time.Millisecond), out)
	if !strings.Contains(out, "1 changed") {
		t.Errorf("apply did not report one change:\n%s", out)
	}
	newDB := containerID(t, e.project, "registry-db")
	img, err := exec.Command("docker", "inspect", "--format", "{{.Config.Image}}", newDB).Output()
	if err != nil || strings.TrimSpace(string(img)) != alt || newDB == dbID {
		t.Fatalf("database container %s (was %s) runs %q, want %s (%v)", newDB, dbID, img, alt, err)
	}
	// The components were not restarted: the sim's controllers reconnect
	// to the database by themselves (Go's connection pool), the gates
	// found every component healthy on their first checks.
	for svc, id := range compIDs {
		if now := containerID(t, e.project, svc); now != id {
			t.Errorf("%s's container was recreated (%s -> %s)", svc, id, now)
		}
	}
	e.modelsLiveVia(90*time.Second, "controller1", "controller2")
	if got := dbQuery(t, e.project, "SELECT v FROM hactl_e2e_marker"); got != "kept" {
		t.Fatalf("the marker row is gone after the database's recreation: %q", got)
	}
	rowsAfter := dbQuery(t, e.project, rowsQuery)
	for _, row := range strings.Split(rowsBefore, "\n") {
		if !strings.Contains(rowsAfter+"\n", row+"\n") {
			t.Errorf("registry row %q not kept; now:\n%s", row, rowsAfter)
		}
	}

	out, code = e.run(3*time.Minute, "plan", "-detailed-exitcode")
	if code == 2 {
		// A controller's heartbeat checker ran while the database was
		// being replaced and died of it, as DB-GPT's does (likely when the
		// outage spans a checker pass): plan replaces exactly those
		// controllers, for that reason, and apply repairs them.
		targets := planTargets(out)
		for _, tg := range targets {
			if !strings.HasPrefix(tg, "controller.") || !strings.Contains(out, "# "+tg+" must be replaced (its heartbeat checker thread died") {
				t.Fatalf("plan after the apply: %v, want only controllers whose checker died\n%s", targets, out)
			}
		}
		t.Logf("the database's replacement killed the heartbeat checker of %v; apply repairs them", targets)
		e.must(5*time.Minute, "apply", "-auto-approve")
		out, code = e.run(3*time.Minute, "plan", "-detailed-exitcode")
	}
	if code != 0 || !strings.Contains(out, "No changes") {
		t.Fatalf("plan after the apply: exit %d\n%s", code, out)
	}
}
