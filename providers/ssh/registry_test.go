package ssh

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/testdb"
	"github.com/hactl/hactl/providers/host/sshdtest"
	"github.com/hactl/hactl/schema"
)

// insertRows writes the rows of worker llm1 (10.0.0.1:8001) and of another
// cluster's worker (10.0.0.1:9001).
func insertRows(t *testing.T, db *sql.DB) {
	t.Helper()
	if _, err := db.Exec("INSERT INTO " + dbgpt.RegistryTable + " (model_name, host, port, healthy) VALUES " +
		"('m@llm', '10.0.0.1', 8001, 1), ('WorkerManager@service', '10.0.0.1', 8001, 1), ('other@llm', '10.0.0.1', 9001, 1)"); err != nil {
		t.Fatal(err)
	}
}

func withWorker(c *schema.Cluster) *schema.Cluster {
	w := &schema.Server{Name: "gpu1", Address: "10.0.0.1"}
	c.Workers = []*schema.Worker{{Name: "llm1", Server: w, Port: 8001, Model: &schema.Model{Name: "m", WorkerType: schema.WorkerTypeLLM}}}
	return c
}

func countRows(t *testing.T, path string) int {
	t.Helper()
	db, err := openTestSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + dbgpt.RegistryTable).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func openTestSQLite(path string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
}

// The SQLite registry on the controllers' server: opened in place when
// local, a copy written back over SSH.
func TestRegistrySQLite(t *testing.T) {
	t.Parallel()
	for _, e := range transports(t) {
		t.Run(e.transport, func(t *testing.T) {
			ctx := context.Background()
			s := e.server(t, "server1", "dbgpt")
			path := filepath.Join(t.TempDir(), "data dir", "registry.db")
			c := withWorker(&schema.Cluster{Name: "test", Servers: []*schema.Server{s},
				Controllers: []*schema.Controller{{Name: "ctrl1", Server: s}},
				Registry:    &schema.Registry{Type: schema.RegistrySQLite, Path: path}})
			p := newTestProvider(t, c)
			reg := p.Registry(c)
			// Observed before: no file, nothing created by looking.
			st, err := reg.State(ctx)
			if err != nil || !st.Reachable || st.DatabaseExists || st.TableExists || st.Where != "sqlite "+path+" on server1" {
				t.Fatalf("state before: %+v %v", st, err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("State created the file: %v", err)
			}
			if err := reg.Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			if st, err := reg.State(ctx); err != nil || !st.Complete() || !st.TableExists {
				t.Fatalf("state after: %+v %v", st, err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %o", fi.Mode().Perm())
			}
			db, err := openTestSQLite(path)
			if err != nil {
				t.Fatal(err)
			}
			insertRows(t, db)
			db.Close()
			// Idempotent: an existing registry keeps its rows.
			if err := reg.Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			rows, err := reg.Rows(ctx)
			if err != nil || len(rows) != 3 || rows[0].ModelName != "m@llm" || rows[0].Port != 8001 {
				t.Fatalf("rows %+v %v", rows, err)
			}
			// Purge deletes llm1's rows, written back; the other stays.
			if n, err := reg.Purge(ctx); n != 2 || err != nil {
				t.Fatalf("Purge: %d %v", n, err)
			}
			rows, err = reg.Rows(ctx)
			if err != nil || len(rows) != 1 || rows[0].ModelName != "other@llm" {
				t.Fatalf("after purge: %+v %v", rows, err)
			}
			if n := countRows(t, path); n != 1 {
				t.Fatalf("the file holds %d rows after purge, want 1", n)
			}
			// A foreign table: refused by Ensure and Purge, its rows kept.
			db, err = openTestSQLite(path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range []string{"DROP TABLE " + dbgpt.RegistryTable,
				"CREATE TABLE " + dbgpt.RegistryTable + " (id INTEGER PRIMARY KEY, host TEXT, port INTEGER)",
				"INSERT INTO " + dbgpt.RegistryTable + " (host, port) VALUES ('10.0.0.1', 8001)"} {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			if st, err := reg.State(ctx); err != nil || !st.TableExists || !slices.Contains(st.MissingColumns, "model_name") {
				t.Fatalf("state with a foreign table: %+v %v", st, err)
			}
			if err := reg.Ensure(ctx); err == nil || !strings.Contains(err.Error(), "not DB-GPT's registry table") {
				t.Fatalf("Ensure with a foreign table: %v", err)
			}
			if _, err := reg.Purge(ctx); err == nil || !strings.Contains(err.Error(), "not DB-GPT's registry table") {
				t.Fatalf("Purge with a foreign table: %v", err)
			}
			if n := countRows(t, path); n != 1 {
				t.Fatalf("the foreign table holds %d rows, want 1", n)
			}
			// A file without the table: in place it gets one; a remote
			// copy is only checked (a controller may be writing the file).
			if _, err := db.Exec("DROP TABLE " + dbgpt.RegistryTable); err != nil {
				t.Fatal(err)
			}
			if st, err := reg.State(ctx); err != nil || !st.Reachable || !st.DatabaseExists || st.TableExists {
				t.Fatalf("state without the table: %+v %v", st, err)
			}
			err = reg.Ensure(ctx)
			if e.transport == schema.TransportLocal {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), "delete the file so hactl creates it") {
				t.Fatalf("Ensure of a remote file without the table: %v", err)
			}
		})
	}
}

// MySQL reached through the controller host's SSH connection.
func TestRegistryMySQLThroughSSH(t *testing.T) {
	t.Parallel()
	sshdtest.SkipIfDisabled(t)
	mdb := testdb.Start(t)
	d := sshdtest.Start(t)
	ctx := context.Background()
	s := testEnv{schema.TransportSSH, d}.server(t, "server1", "dbgpt")
	reg := &schema.Registry{Type: schema.RegistryMySQL, Host: "127.0.0.1", Port: mdb.Port, Database: "hactl_ssh_reg",
		User: mdb.User, Password: schema.NewSecret(mdb.Password), CreateDatabase: true}
	c := withWorker(&schema.Cluster{Name: "test", Servers: []*schema.Server{s},
		Controllers: []*schema.Controller{{Name: "ctrl1", Server: s}}, Registry: reg})
	p := newTestProvider(t, c)

	if probs := p.Preflight(ctx, c, nil); len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	st, err := p.Registry(c).State(ctx)
	if err != nil || !st.Reachable || st.DatabaseExists || st.TableExists || !strings.Contains(st.Where, "(from server1)") {
		t.Fatalf("state before: %+v %v", st, err)
	}
	if err := p.Registry(c).Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := p.Registry(c).State(ctx); err != nil || !st.Complete() || !st.TableExists {
		t.Fatalf("state after: %+v %v", st, err)
	}
	db := mdb.Open(t, reg.Database)
	insertRows(t, db)
	rows, err := p.Registry(c).Rows(ctx)
	if err != nil || len(rows) != 3 || rows[0].Host != "10.0.0.1" {
		t.Fatalf("rows %+v %v", rows, err)
	}
	if n, err := p.Registry(c).Purge(ctx); n != 2 || err != nil {
		t.Fatalf("Purge: %d %v", n, err)
	}
	var n int
	db.QueryRow("SELECT COUNT(*) FROM " + dbgpt.RegistryTable).Scan(&n)
	if n != 1 {
		t.Errorf("%d rows after purge, want the other cluster's 1", n)
	}

	// Pre-flight names what is wrong, as seen from the controller's host.
	for _, tc := range []struct {
		reg  schema.Registry
		want string
	}{
		{schema.Registry{Type: schema.RegistryMySQL, Host: "127.0.0.1", Port: 1, Database: "x", User: "u"}, "registry 127.0.0.1:1 not reachable from server1"},
		{schema.Registry{Type: schema.RegistryMySQL, Host: "127.0.0.1", Port: mdb.Port, Database: "x", User: mdb.User, Password: schema.NewSecret("wrong")}, "login as \"" + mdb.User + "\" failed"},
		{schema.Registry{Type: schema.RegistryMySQL, Host: "127.0.0.1", Port: mdb.Port, Database: "absent_db", User: mdb.User, Password: schema.NewSecret(mdb.Password)}, "registry database \"absent_db\" does not exist"},
	} {
		reg := tc.reg
		c.Registry = &reg
		probs := p.Preflight(ctx, c, nil)
		if len(probs) != 1 || !strings.Contains(probs[0].Error(), tc.want) || probs[0].Server != "server1" {
			t.Errorf("want %q, got %v", tc.want, probs)
		}
		for _, pr := range probs {
			if strings.Contains(pr.Error(), mdb.Password) {
				t.Errorf("problem reveals the password: %v", pr)
			}
		}
	}
}
