package ssh

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/testdb"
	"github.com/hactl/hactl/providers/host/sshdtest"
	"github.com/hactl/hactl/schema"
)

func insertRow(t *testing.T, db *sql.DB) {
	t.Helper()
	if _, err := db.Exec("INSERT INTO " + dbgpt.RegistryTable + " (model_name, host, port, healthy) VALUES ('m@llm', '10.0.0.1', 8001, 1)"); err != nil {
		t.Fatal(err)
	}
}

func TestRegistrySQLite(t *testing.T) {
	t.Parallel()
	for _, e := range transports(t) {
		t.Run(e.transport, func(t *testing.T) {
			ctx := context.Background()
			s := e.server(t, "server1", "dbgpt")
			path := filepath.Join(t.TempDir(), "data dir", "registry.db")
			c := &schema.Cluster{Name: "test", Servers: []*schema.Server{s},
				Controllers: []*schema.Controller{{Name: "ctrl1", Server: s}},
				Registry:    &schema.Registry{Type: schema.RegistrySQLite, Path: path}}
			p := newTestProvider(t, c)
			// Observed before: no file, nothing created by looking.
			st, err := p.RegistryState(ctx, c)
			if err != nil || !st.Reachable || st.DatabaseExists || st.TableExists || st.Where != "sqlite "+path+" on server1" {
				t.Fatalf("state before: %+v %v", st, err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("RegistryState created the file: %v", err)
			}
			if err := p.EnsureRegistry(ctx, c); err != nil {
				t.Fatal(err)
			}
			if st, err := p.RegistryState(ctx, c); err != nil || !st.Reachable || !st.DatabaseExists || !st.TableExists || len(st.MissingColumns) > 0 {
				t.Fatalf("state after: %+v %v", st, err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %o", fi.Mode().Perm())
			}
			db, err := openSQLite(path, false)
			if err != nil {
				t.Fatal(err)
			}
			if missing, err := dbgpt.CheckColumns(ctx, db); err != nil || len(missing) > 0 {
				t.Fatalf("table: %v %v", missing, err)
			}
			insertRow(t, db)
			db.Close()
			// Idempotent: an existing registry keeps its rows.
			if err := p.EnsureRegistry(ctx, c); err != nil {
				t.Fatal(err)
			}
			rows, err := p.RegistryRows(ctx, c)
			if err != nil || len(rows) != 1 || rows[0].ModelName != "m@llm" || rows[0].Port != 8001 {
				t.Fatalf("rows %+v %v", rows, err)
			}
			if err := p.PurgeRegistry(ctx, c); err != nil {
				t.Fatal(err)
			}
			rows, err = p.RegistryRows(ctx, c)
			if err != nil || len(rows) != 0 {
				t.Fatalf("after purge: %+v %v", rows, err)
			}
			// A file without the table; then a foreign table.
			db, err = openSQLite(path, false)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("DROP TABLE " + dbgpt.RegistryTable); err != nil {
				t.Fatal(err)
			}
			if st, err := p.RegistryState(ctx, c); err != nil || !st.Reachable || !st.DatabaseExists || st.TableExists {
				t.Fatalf("state without the table: %+v %v", st, err)
			}
			if _, err := db.Exec("CREATE TABLE " + dbgpt.RegistryTable + " (id INTEGER PRIMARY KEY, host TEXT)"); err != nil {
				t.Fatal(err)
			}
			if st, err := p.RegistryState(ctx, c); err != nil || !st.TableExists || !strings.Contains(strings.Join(st.MissingColumns, ","), "model_name") {
				t.Fatalf("state with a foreign table: %+v %v", st, err)
			}
		})
	}
}

func TestRegistryMySQLThroughSSH(t *testing.T) {
	t.Parallel()
	sshdtest.SkipIfDisabled(t)
	mdb := testdb.Start(t)
	d := sshdtest.Start(t)
	ctx := context.Background()
	s := testEnv{schema.TransportSSH, d}.server(t, "server1", "dbgpt")
	reg := &schema.Registry{Type: schema.RegistryMySQL, Host: "127.0.0.1", Port: mdb.Port, Database: "hactl_ssh_reg",
		User: mdb.User, Password: schema.NewSecret(mdb.Password), CreateDatabase: true}
	c := &schema.Cluster{Name: "test", Servers: []*schema.Server{s},
		Controllers: []*schema.Controller{{Name: "ctrl1", Server: s}}, Registry: reg}
	p := newTestProvider(t, c)

	if probs := p.Preflight(ctx, c, nil); len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	st, err := p.RegistryState(ctx, c)
	if err != nil || !st.Reachable || st.DatabaseExists || st.TableExists || !strings.Contains(st.Where, "(from server1)") {
		t.Fatalf("state before: %+v %v", st, err)
	}
	if err := p.EnsureRegistry(ctx, c); err != nil {
		t.Fatal(err)
	}
	if st, err := p.RegistryState(ctx, c); err != nil || !st.Reachable || !st.DatabaseExists || !st.TableExists || len(st.MissingColumns) > 0 {
		t.Fatalf("state after: %+v %v", st, err)
	}
	if err := p.EnsureRegistry(ctx, c); err != nil {
		t.Fatalf("second run: %v", err)
	}
	db := mdb.Open(t, reg.Database)
	insertRow(t, db)
	rows, err := p.RegistryRows(ctx, c)
	if err != nil || len(rows) != 1 || rows[0].Host != "10.0.0.1" {
		t.Fatalf("rows %+v %v", rows, err)
	}
	if err := p.PurgeRegistry(ctx, c); err != nil {
		t.Fatal(err)
	}
	var n int
	db.QueryRow("SELECT COUNT(*) FROM " + dbgpt.RegistryTable).Scan(&n)
	if n != 0 {
		t.Errorf("%d rows after purge", n)
	}

	// A foreign table of the same name is refused, not altered.
	foreign := mdb.NewDatabase(t, "foreign")
	fdb := mdb.Open(t, foreign)
	if _, err := fdb.Exec("CREATE TABLE " + dbgpt.RegistryTable + " (id INT PRIMARY KEY, foo TEXT)"); err != nil {
		t.Fatal(err)
	}
	c.Registry = &schema.Registry{Type: schema.RegistryMySQL, Host: "127.0.0.1", Port: mdb.Port, Database: foreign,
		User: mdb.User, Password: schema.NewSecret(mdb.Password)}
	if st, err := p.RegistryState(ctx, c); err != nil || !st.TableExists || !strings.Contains(strings.Join(st.MissingColumns, ","), "model_name") {
		t.Fatalf("state with a foreign table: %+v %v", st, err)
	}
	err = p.EnsureRegistry(ctx, c)
	if err == nil || !strings.Contains(err.Error(), "is not DB-GPT's registry table") || !strings.Contains(err.Error(), "model_name") {
		t.Fatalf("foreign table: %v", err)
	}
	// Unreachable: a state saying why, not an error; no password in it.
	c.Registry = &schema.Registry{Type: schema.RegistryMySQL, Host: "127.0.0.1", Port: mdb.Port, Database: "x", User: mdb.User, Password: schema.NewSecret("wrong-pw")}
	if st, err := p.RegistryState(ctx, c); err != nil || st.Reachable || !strings.Contains(st.Err, "not reachable from any controller host") || strings.Contains(st.Err, "wrong-pw") {
		t.Fatalf("state with a wrong password: %+v %v", st, err)
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
