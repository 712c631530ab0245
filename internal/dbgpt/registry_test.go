package dbgpt_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/testdb"
)

func TestRegistryMariaDB(t *testing.T) {
	srv := testdb.Start(t)
	ctx := context.Background()

	t.Run("CreateDatabase", func(t *testing.T) {
		root := srv.Open(t, "")
		for _, bad := range []string{"", "a-b", "x`y", "123", "a b", "ä"} {
			if err := dbgpt.CreateDatabase(ctx, root, bad); err == nil {
				t.Errorf("CreateDatabase(%q) accepted an invalid name", bad)
			}
		}
		for range 2 { // idempotent
			if err := dbgpt.CreateDatabase(ctx, root, "dbgpt_reg"); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := root.QueryRow("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name='dbgpt_reg'").Scan(&n); err != nil || n != 1 {
			t.Fatalf("database not created: n=%d err=%v", n, err)
		}
	})

	t.Run("SchemaAndRows", func(t *testing.T) {
		name := srv.NewDatabase(t, "reg")
		db := srv.Open(t, name)
		if _, err := dbgpt.CheckColumns(ctx, db); !errors.Is(err, dbgpt.ErrTableMissing) {
			t.Fatalf("CheckColumns on empty database: err=%v, want ErrTableMissing", err)
		}
		if _, err := dbgpt.ListRows(ctx, db); !errors.Is(err, dbgpt.ErrTableMissing) || !dbgpt.IsTableMissing(err) {
			t.Fatalf("ListRows on empty database: err=%v, want ErrTableMissing", err)
		}
		for range 2 {
			if err := dbgpt.EnsureSchema(ctx, db, dbgpt.MySQL); err != nil {
				t.Fatal(err)
			}
		}
		missing, err := dbgpt.CheckColumns(ctx, db)
		if err != nil || len(missing) != 0 {
			t.Fatalf("CheckColumns: missing=%v err=%v", missing, err)
		}
		// The guide's table exactly: types, defaults, unique key.
		want := map[string]string{
			"id": "int(11)", "model_name": "varchar(128)", "host": "varchar(128)", "port": "int(11)",
			"weight": "float", "check_healthy": "tinyint(1)", "healthy": "tinyint(1)", "enabled": "tinyint(1)",
			"prompt_template": "varchar(128)", "last_heartbeat": "datetime", "user_name": "varchar(128)",
			"sys_code": "varchar(128)", "gmt_created": "datetime", "gmt_modified": "datetime",
		}
		rows, err := db.Query("SELECT column_name, column_type, COALESCE(extra,'') FROM information_schema.columns WHERE table_schema=? AND table_name=?", name, dbgpt.RegistryTable)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		var extraModified string
		for rows.Next() {
			var c, typ, extra string
			rows.Scan(&c, &typ, &extra)
			got[c] = typ
			if c == "gmt_modified" {
				extraModified = extra
			}
		}
		rows.Close()
		for c, typ := range want {
			if got[c] != typ {
				t.Errorf("column %s: type %q, want %q", c, got[c], typ)
			}
		}
		if len(got) != len(want) {
			t.Errorf("columns %v, want %v", got, want)
		}
		if extraModified == "" {
			t.Errorf("gmt_modified has no ON UPDATE clause")
		}
		var uk []string
		krows, err := db.Query("SELECT column_name FROM information_schema.statistics WHERE table_schema=? AND table_name=? AND index_name='uk_model_instance' ORDER BY seq_in_index", name, dbgpt.RegistryTable)
		if err != nil {
			t.Fatal(err)
		}
		for krows.Next() {
			var c string
			krows.Scan(&c)
			uk = append(uk, c)
		}
		krows.Close()
		if !slices.Equal(uk, []string{"model_name", "host", "port", "sys_code"}) {
			t.Errorf("unique key columns %v", uk)
		}

		if _, err := db.Exec("INSERT INTO "+dbgpt.RegistryTable+" (model_name, host, port, healthy, last_heartbeat) VALUES (?,?,?,1,?), (?,?,?,1,NULL), (?,?,?,1,NULL)",
			"m@llm", "10.0.0.3", 8001, "2026-11-26 14:21:31", "WorkerManager@service", "10.0.0.3", 8001, "x@llm", "10.0.0.4", 8001); err != nil {
			t.Fatal(err)
		}
		testRows(t, db)
		dropCol(t, db, "ALTER TABLE "+dbgpt.RegistryTable+" DROP COLUMN user_name, DROP COLUMN weight", []string{"weight", "user_name"})
	})
}

func testRows(t *testing.T, db *sql.DB) {
	ctx := context.Background()
	rows, err := dbgpt.ListRows(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want 3", len(rows))
	}
	r := rows[0]
	if r.ModelName != "m@llm" || r.Host != "10.0.0.3" || r.Port != 8001 || r.Weight != 1.0 || !r.CheckHealthy || !r.Healthy || !r.Enabled || r.PromptTemplate != nil || r.SysCode != nil {
		t.Errorf("row 0 = %+v", r)
	}
	if r.LastHeartbeat == nil || r.LastHeartbeat.String() != "2026-11-26T14:21:31" || r.LastHeartbeat.Location() != time.Local {
		t.Errorf("last_heartbeat = %v, want 2026-11-26T14:21:31 local", r.LastHeartbeat)
	}
	if r.GmtCreated.IsZero() || r.GmtModified.IsZero() {
		t.Errorf("gmt columns not read: %+v", r)
	}
	if rows[1].LastHeartbeat != nil || rows[1].Age(time.Now()) != -1 {
		t.Errorf("NULL last_heartbeat read as %v", rows[1].LastHeartbeat)
	}
	n, err := dbgpt.MarkUnhealthy(ctx, db, "10.0.0.3", 8001)
	if err != nil || n != 2 {
		t.Fatalf("MarkUnhealthy: n=%d err=%v", n, err)
	}
	rows, _ = dbgpt.ListRows(ctx, db)
	if rows[0].Healthy || rows[1].Healthy || !rows[2].Healthy {
		t.Errorf("after MarkUnhealthy: %v %v %v", rows[0].Healthy, rows[1].Healthy, rows[2].Healthy)
	}
	n, err = dbgpt.Purge(ctx, db, "10.0.0.3", 8001)
	if err != nil || n != 2 {
		t.Fatalf("Purge: n=%d err=%v", n, err)
	}
	rows, _ = dbgpt.ListRows(ctx, db)
	if len(rows) != 1 || rows[0].ModelName != "x@llm" {
		t.Errorf("after Purge: %+v", rows)
	}
}

func dropCol(t *testing.T, db *sql.DB, alter string, want []string) {
	if _, err := db.Exec(alter); err != nil {
		t.Fatal(err)
	}
	missing, err := dbgpt.CheckColumns(context.Background(), db)
	if err != nil || !slices.Equal(missing, want) {
		t.Fatalf("CheckColumns after drop: %v %v, want %v", missing, err, want)
	}
}

func TestRegistrySQLite(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "reg.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := dbgpt.CheckColumns(ctx, db); !errors.Is(err, dbgpt.ErrTableMissing) {
		t.Fatalf("CheckColumns on empty file: %v", err)
	}
	for range 2 {
		if err := dbgpt.EnsureSchema(ctx, db, dbgpt.SQLite); err != nil {
			t.Fatal(err)
		}
	}
	if missing, err := dbgpt.CheckColumns(ctx, db); err != nil || len(missing) != 0 {
		t.Fatalf("CheckColumns: %v %v", missing, err)
	}
	if _, err := db.Exec("INSERT INTO "+dbgpt.RegistryTable+" (model_name, host, port, healthy, last_heartbeat) VALUES (?,?,?,1,?), (?,?,?,1,NULL), (?,?,?,1,NULL)",
		"m@llm", "10.0.0.3", 8001, "2026-11-26 14:21:31.000000", "WorkerManager@service", "10.0.0.3", 8001, "x@llm", "10.0.0.4", 8001); err != nil {
		t.Fatal(err)
	}
	testRows(t, db)
	if err := dbgpt.EnsureSchema(ctx, db, "oracle"); err == nil {
		t.Error("EnsureSchema accepted an unknown dialect")
	}
}
