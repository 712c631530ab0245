package registry

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/testdb"
)

// clock replaces Now for the test.
func clock(t *testing.T, start time.Time) *time.Time {
	now := start
	old := Now
	Now = func() time.Time { return now }
	t.Cleanup(func() { Now = old })
	return &now
}

func str(s string) *string { return &s }

func get(t *testing.T, r Registry, name, host string, port int) *dbgpt.Instance {
	t.Helper()
	list, err := r.List(context.Background(), name, false)
	if err != nil {
		t.Fatal(err)
	}
	var found *dbgpt.Instance
	for i := range list {
		if list[i].Host == host && list[i].Port == port {
			if found != nil {
				t.Fatalf("two rows for %s %s:%d", name, host, port)
			}
			found = &list[i]
		}
	}
	return found
}

// semantics checks DB-GPT's registry rules on any registry. micro says
// whether last_heartbeat keeps microseconds (not on MySQL).
func semantics(t *testing.T, r Registry, micro bool) {
	ctx := context.Background()
	now := clock(t, time.Date(2026, 11, 26, 14, 21, 31, 987654000, time.Local))

	// A new row keeps weight, check_healthy, enabled, prompt_template; it is
	// healthy with last_heartbeat=now whatever was sent.
	in := dbgpt.Instance{ModelName: "glm@llm", Host: "10.0.0.3", Port: 8001, Weight: 0.5, CheckHealthy: false,
		Healthy: false, Enabled: false, PromptTemplate: str("chatglm"), LastHeartbeat: dbgpt.NewTime(time.Date(2000, 1, 1, 0, 0, 0, 0, time.Local))}
	if err := r.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	got := get(t, r, "glm@llm", "10.0.0.3", 8001)
	if got == nil || got.Weight != 0.5 || got.CheckHealthy || !got.Healthy || got.Enabled || got.PromptTemplate == nil || *got.PromptTemplate != "chatglm" {
		t.Fatalf("new row = %+v", got)
	}
	wantBeat := "2026-11-26T14:21:31"
	if micro {
		wantBeat += ".987654"
	}
	if got.LastHeartbeat == nil || got.LastHeartbeat.String() != wantBeat {
		t.Fatalf("last_heartbeat = %v, want %s", got.LastHeartbeat, wantBeat)
	}

	// Registering again updates only weight, prompt_template, healthy, last_heartbeat.
	*now = now.Add(5 * time.Second)
	if err := r.Deregister(ctx, dbgpt.NewInstance("glm@llm", "10.0.0.3", 8001)); err != nil {
		t.Fatal(err)
	}
	if g := get(t, r, "glm@llm", "10.0.0.3", 8001); g.Healthy {
		t.Fatal("deregister left the row healthy")
	}
	again := dbgpt.Instance{ModelName: "glm@llm", Host: "10.0.0.3", Port: 8001, Weight: 2, CheckHealthy: true, Enabled: true}
	if err := r.Register(ctx, again); err != nil {
		t.Fatal(err)
	}
	got = get(t, r, "glm@llm", "10.0.0.3", 8001)
	if got.Weight != 2 || got.CheckHealthy || got.Enabled || got.PromptTemplate != nil || !got.Healthy ||
		!strings.HasPrefix(got.LastHeartbeat.String(), "2026-11-26T14:21:36") {
		t.Fatalf("re-registered row = %+v (beat %v)", got, got.LastHeartbeat)
	}

	// Heartbeat of an unknown instance registers it.
	wm := dbgpt.NewInstance(dbgpt.WorkerManagerModelName, "10.0.0.3", 8001)
	if err := r.Heartbeat(ctx, wm); err != nil {
		t.Fatal(err)
	}
	if g := get(t, r, wm.ModelName, "10.0.0.3", 8001); g == nil || !g.Healthy || !g.CheckHealthy || g.Weight != 1 {
		t.Fatalf("heartbeat of unknown: %+v", g)
	}
	// Heartbeat of a known one: healthy again, last_heartbeat moves, nothing else.
	r.Deregister(ctx, wm)
	*now = now.Add(2 * time.Second)
	if err := r.Heartbeat(ctx, dbgpt.Instance{ModelName: wm.ModelName, Host: "10.0.0.3", Port: 8001, Weight: 9}); err != nil {
		t.Fatal(err)
	}
	if g := get(t, r, wm.ModelName, "10.0.0.3", 8001); !g.Healthy || g.Weight != 1 || !strings.HasPrefix(g.LastHeartbeat.String(), "2026-11-26T14:21:38") {
		t.Fatalf("heartbeat of known: %+v %v", g, g.LastHeartbeat)
	}

	// List filters.
	other := dbgpt.NewInstance("glm@llm", "10.0.0.4", 8001)
	r.Register(ctx, other)
	r.Deregister(ctx, other)
	all, _ := r.List(ctx, "", false)
	healthy, _ := r.List(ctx, "", true)
	glm, _ := r.List(ctx, "glm@llm", false)
	glmHealthy, _ := r.List(ctx, "glm@llm", true)
	unknown, err := r.List(ctx, "nope@llm", false)
	if len(all) != 3 || len(healthy) != 2 || len(glm) != 2 || len(glmHealthy) != 1 || unknown == nil || len(unknown) != 0 || err != nil {
		t.Fatalf("list: all=%d healthy=%d glm=%d glmHealthy=%d unknown=%v err=%v", len(all), len(healthy), len(glm), len(glmHealthy), unknown, err)
	}
	// The in-memory registry groups by model name; the table answers in id order.
	order := []string{"glm@llm", "glm@llm", wm.ModelName}
	if isStorage(r) {
		order = []string{"glm@llm", wm.ModelName, "glm@llm"}
	}
	for i, n := range order {
		if all[i].ModelName != n {
			t.Errorf("list order: row %d is %s, want %s", i, all[i].ModelName, n)
		}
	}

	// Deregister with remove_from_registry keeps the row, unhealthy; an
	// unknown row is no error.
	rm := other
	rm.RemoveFromRegistry = true
	if err := r.Deregister(ctx, rm); err != nil {
		t.Fatal(err)
	}
	if g := get(t, r, "glm@llm", "10.0.0.4", 8001); g == nil || g.Healthy {
		t.Fatalf("remove_from_registry: row %+v, want it kept and unhealthy", g)
	}
	if err := r.Deregister(ctx, dbgpt.NewInstance("ghost@llm", "h", 1)); err != nil {
		t.Fatal(err)
	}

	// Checker: a check_healthy row older than the timeout turns unhealthy;
	// glm@llm has check_healthy=false and stays healthy.
	*now = now.Add(59 * time.Second)
	if err := r.Check(ctx, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if g := get(t, r, wm.ModelName, "10.0.0.3", 8001); !g.Healthy {
		t.Fatal("row turned unhealthy before its timeout")
	}
	*now = now.Add(2 * time.Second)
	if err := r.Check(ctx, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if g := get(t, r, wm.ModelName, "10.0.0.3", 8001); g.Healthy {
		t.Fatal("stale row still healthy")
	}
	if g := get(t, r, "glm@llm", "10.0.0.3", 8001); !g.Healthy {
		t.Fatal("check_healthy=false row was marked unhealthy")
	}
}

func isStorage(r Registry) bool { _, ok := r.(*Storage); return ok }

func TestMemory(t *testing.T) {
	semantics(t, NewMemory(), true)
}

func TestSQLite(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := dbgpt.EnsureSchema(context.Background(), db, dbgpt.SQLite); err != nil {
		t.Fatal(err)
	}
	semantics(t, &Storage{DB: db, Dialect: dbgpt.SQLite}, true)
}

func TestMariaDB(t *testing.T) {
	srv := testdb.Start(t)
	ctx := context.Background()
	t.Run("semantics", func(t *testing.T) {
		db := srv.Open(t, srv.NewDatabase(t, "sem"))
		if err := dbgpt.EnsureSchema(ctx, db, dbgpt.MySQL); err != nil {
			t.Fatal(err)
		}
		semantics(t, &Storage{DB: db, Dialect: dbgpt.MySQL}, false)
		// gmt_modified moves only through ON UPDATE; the stored datetime has no fractions.
		var beat string
		if err := db.QueryRow("SELECT CAST(last_heartbeat AS CHAR) FROM " + dbgpt.RegistryTable + " LIMIT 1").Scan(&beat); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(beat, ".") || len(beat) != 19 {
			t.Errorf("MySQL last_heartbeat %q has fractions", beat)
		}
	})
	t.Run("missing table", func(t *testing.T) {
		db := srv.Open(t, srv.NewDatabase(t, "empty"))
		r := &Storage{DB: db, Dialect: dbgpt.MySQL}
		for name, err := range map[string]error{
			"register":   r.Register(ctx, dbgpt.NewInstance("a@llm", "h", 1)),
			"heartbeat":  r.Heartbeat(ctx, dbgpt.NewInstance("a@llm", "h", 1)),
			"deregister": r.Deregister(ctx, dbgpt.NewInstance("a@llm", "h", 1)),
			"check":      r.Check(ctx, time.Minute),
		} {
			if !dbgpt.IsTableMissing(err) {
				t.Errorf("%s on a missing table: %v", name, err)
			}
		}
		if _, err := r.List(ctx, "", false); !errors.Is(err, dbgpt.ErrTableMissing) {
			t.Errorf("list on a missing table: %v", err)
		}
	})
	t.Run("checker dies", func(t *testing.T) {
		db := srv.Open(t, srv.NewDatabase(t, "dies"))
		dbgpt.EnsureSchema(ctx, db, dbgpt.MySQL)
		// A check_healthy row that never beat: DB-GPT's checker computes
		// now - None and its thread dies.
		if _, err := db.Exec("INSERT INTO " + dbgpt.RegistryTable + " (model_name, host, port) VALUES ('x@llm','h',1)"); err != nil {
			t.Fatal(err)
		}
		died := make(chan error, 1)
		done := make(chan struct{})
		go func() {
			RunChecker(ctx, &Storage{DB: db, Dialect: dbgpt.MySQL}, 10*time.Millisecond, time.Minute, nil, func(err error) { died <- err })
			close(done)
		}()
		select {
		case err := <-died:
			if !strings.Contains(err.Error(), "NoneType") {
				t.Errorf("checker died of %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("checker did not die within 60 s")
		}
		<-done
	})
}
