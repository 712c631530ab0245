package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/schema"
)

// DB is the registry database of one cluster as a provider reaches it.
type DB struct {
	c   *schema.Cluster
	acc Access
}

// New is c's registry database reached through a.
func New(c *schema.Cluster, a Access) *DB { return &DB{c: c, acc: a} }

// kind is the registry's type, "" when it keeps no database (embedded).
func (d *DB) kind() string {
	if d.c == nil || d.c.Registry == nil || !dbgpt.HasDatabase(d.c.Registry.Type) {
		return ""
	}
	return d.c.Registry.Type
}

func (d *DB) mysqlWhere(l login, pl Place) string {
	r := d.c.Registry
	s := fmt.Sprintf("mysql %s@%s/%s", l.user, Addr(r), r.Database)
	if pl != nil {
		s += " (from " + pl.Name() + ")"
	}
	return s
}

func sqliteWhere(r *schema.Registry, f File) string {
	return fmt.Sprintf("sqlite %s on %s", r.Path, f.Server())
}

func (d *DB) unsupported() error {
	return fmt.Errorf("registry type %q is not supported", d.c.Registry.Type)
}

// refuse is the error for a registry table that is not DB-GPT's: the same
// words as plan's check.
func refuse(where string, missing []string) error {
	return plan.CheckRegistry(&plan.RegistryState{Where: where, Reachable: true, TableExists: true, MissingColumns: missing})
}

// ensureTable creates the registry table when absent and refuses an
// existing one that lacks DB-GPT's columns.
func ensureTable(ctx context.Context, db *sql.DB, dialect dbgpt.Dialect, where string) error {
	missing, err := dbgpt.CheckColumns(ctx, db)
	if errors.Is(err, dbgpt.ErrTableMissing) {
		if err := dbgpt.EnsureSchema(ctx, db, dialect); err != nil {
			return fmt.Errorf("registry %s: %w", where, err)
		}
		missing, err = dbgpt.CheckColumns(ctx, db)
	}
	if err != nil {
		return fmt.Errorf("registry %s: %w", where, err)
	}
	if len(missing) > 0 {
		return refuse(where, missing)
	}
	return nil
}

// Ensure makes the registry ready before any controller starts. MySQL:
// the database is created when the file allows it (or the access has an
// Admin login, which also creates the registry user), then the table when
// absent. SQLite: a missing file is created with the table (mode 0600); an
// existing file opened in place gets the table when absent, one reached as
// a copy is only checked (a running controller may be writing it). A table
// without DB-GPT's columns is refused. Embedded: nothing to do.
func (d *DB) Ensure(ctx context.Context) error {
	switch d.kind() {
	case "":
		return nil
	case schema.RegistryMySQL:
		return d.ensureMySQL(ctx)
	case schema.RegistrySQLite:
		return d.ensureSQLite(ctx)
	}
	return d.unsupported()
}

func (d *DB) ensureMySQL(ctx context.Context) error {
	r := d.c.Registry
	if s, ok := d.acc.(Starter); ok {
		if err := s.Start(ctx); err != nil {
			return err
		}
	}
	user := userLogin(r)
	create, asUser := r.CreateDatabase, user
	if a, ok := d.acc.(Admin); ok {
		create = true
		asUser.user, asUser.password = a.Admin()
	}
	if create {
		server, pl, err := d.connect(ctx, asUser, "")
		if err != nil {
			return err
		}
		err = dbgpt.CreateDatabase(ctx, server, r.Database)
		if err == nil && asUser.user != user.user {
			err = ensureUser(ctx, server, user.user, user.password, r.Database)
		}
		server.Close()
		if err != nil {
			return fmt.Errorf("registry %s: %w", d.mysqlWhere(asUser, pl), err)
		}
	}
	db, pl, err := d.connect(ctx, user, r.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	return ensureTable(ctx, db, dbgpt.MySQL, d.mysqlWhere(user, pl))
}

func (d *DB) ensureSQLite(ctx context.Context) error {
	r := d.c.Registry
	f, err := d.acc.SQLiteFile()
	if err != nil {
		return err
	}
	where := sqliteWhere(r, f)
	exists, err := f.Exists(ctx)
	if err != nil {
		return fmt.Errorf("registry %s: %w", where, err)
	}
	path, inPlace, done, err := f.Local(ctx)
	if err != nil {
		return fmt.Errorf("registry %s: %w", where, err)
	}
	defer done()
	if inPlace && !exists {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("registry %s: %w", where, err)
		}
	}
	db, err := openSQLite(path, false)
	if err != nil {
		return fmt.Errorf("registry %s: %w", where, err)
	}
	defer db.Close()
	if exists && !inPlace {
		missing, err := dbgpt.CheckColumns(ctx, db)
		if err != nil {
			return fmt.Errorf("registry %s: %w (delete the file so hactl creates it, or create the table)", where, err)
		}
		if len(missing) > 0 {
			return refuse(where, missing)
		}
		return nil
	}
	if err := ensureTable(ctx, db, dbgpt.SQLite, where); err != nil {
		return err
	}
	if inPlace {
		return os.Chmod(path, 0o600)
	}
	return writeBack(ctx, f, db, path, where)
}

// writeBack folds the copy's WAL into it, closes it and writes it back.
func writeBack(ctx context.Context, f File, db *sql.DB, path, where string) error {
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("registry %s: %w", where, err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("registry %s: %w", where, err)
	}
	if err := f.WriteBack(ctx, path); err != nil {
		return fmt.Errorf("registry %s: %w", where, err)
	}
	return nil
}

func openSQLite(file string, readOnly bool) (*sql.DB, error) {
	dsn := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(file) + "?_pragma=busy_timeout(5000)"
	if readOnly {
		dsn += "&mode=ro"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// State observes the registry, changing nothing (nothing is created or
// started): whether the database (SQLite: the file) and the registry table
// exist and which of DB-GPT's columns the table lacks. A database that
// cannot be reached is not an error: the state says Reachable false and
// why (never a secret). Embedded: only the type.
func (d *DB) State(ctx context.Context) (plan.RegistryState, error) {
	switch d.kind() {
	case "":
		return plan.RegistryState{Type: schema.RegistryEmbedded}, nil
	case schema.RegistryMySQL:
		return d.stateMySQL(ctx), nil
	case schema.RegistrySQLite:
		return d.stateSQLite(ctx)
	}
	return plan.RegistryState{Type: d.c.Registry.Type}, d.unsupported()
}

func (d *DB) stateMySQL(ctx context.Context) plan.RegistryState {
	r := d.c.Registry
	l := userLogin(r)
	st := plan.RegistryState{Type: r.Type, Where: d.mysqlWhere(l, nil)}
	if s, ok := d.acc.(Service); ok {
		svc, err := s.ServiceState(ctx)
		if err != nil {
			st.Err = err.Error()
			return st
		}
		st.Service = svc
	}
	if s, ok := d.acc.(Stoppable); ok {
		running, fresh, err := s.Running(ctx)
		switch {
		case err != nil:
			st.Err = err.Error()
			return st
		case !running && fresh:
			st.Reachable = true // nothing there: apply creates database and table
			return st
		case !running:
			st.Err = s.What() + " is not running (plan does not start it)"
			return st
		}
	}
	if a, ok := d.acc.(Admin); ok {
		l.user, l.password = a.Admin()
	}
	server, pl, err := d.connect(ctx, l, "")
	if err != nil {
		st.Err = err.Error()
		return st
	}
	defer server.Close()
	st.Where = d.mysqlWhere(userLogin(r), pl)
	err = observeMySQL(ctx, server, r.Database, func() (*sql.DB, error) { return openMySQL(r, pl, l, r.Database) }, &st)
	if err != nil {
		st.Err = err.Error()
		return st
	}
	st.Reachable = true
	return st
}

func (d *DB) stateSQLite(ctx context.Context) (plan.RegistryState, error) {
	r := d.c.Registry
	st := plan.RegistryState{Type: r.Type}
	f, err := d.acc.SQLiteFile()
	if err != nil {
		return st, err
	}
	st.Where = sqliteWhere(r, f)
	if err := observeSQLite(ctx, f, &st); err != nil {
		st.Err = err.Error()
		return st, nil
	}
	st.Reachable = true
	return st, nil
}

func observeSQLite(ctx context.Context, f File, st *plan.RegistryState) error {
	exists, err := f.Exists(ctx)
	if err != nil || !exists {
		return err
	}
	path, inPlace, done, err := f.Local(ctx)
	if err != nil {
		return err
	}
	defer done()
	db, err := openSQLite(path, inPlace)
	if err != nil {
		return err
	}
	defer db.Close()
	st.DatabaseExists = true
	missing, err := dbgpt.CheckColumns(ctx, db)
	if errors.Is(err, dbgpt.ErrTableMissing) {
		return nil
	}
	if err != nil {
		return err
	}
	st.TableExists = true
	st.MissingColumns = missing
	return nil
}

// Rows reads every row of the registry table directly (for status when no
// controller answers).
func (d *DB) Rows(ctx context.Context) ([]dbgpt.Instance, error) {
	var (
		rows  []dbgpt.Row
		err   error
		where string
	)
	switch d.kind() {
	case "":
		return nil, errors.New("the registry is embedded in the controller: no database to read")
	case schema.RegistryMySQL:
		l := userLogin(d.c.Registry)
		db, pl, cerr := d.connect(ctx, l, d.c.Registry.Database)
		if cerr != nil {
			return nil, cerr
		}
		defer db.Close()
		where = d.mysqlWhere(l, pl)
		rows, err = dbgpt.ListRows(ctx, db)
	case schema.RegistrySQLite:
		f, ferr := d.acc.SQLiteFile()
		if ferr != nil {
			return nil, ferr
		}
		where = sqliteWhere(d.c.Registry, f)
		rows, err = sqliteRows(ctx, f)
	default:
		return nil, d.unsupported()
	}
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", where, err)
	}
	out := make([]dbgpt.Instance, len(rows))
	for i, row := range rows {
		out[i] = row.Instance
	}
	return out, nil
}

func sqliteRows(ctx context.Context, f File) ([]dbgpt.Row, error) {
	exists, err := f.Exists(ctx)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, errors.New("the file does not exist")
	}
	path, inPlace, done, err := f.Local(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	db, err := openSQLite(path, inPlace)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return dbgpt.ListRows(ctx, db)
}

// Purge deletes the registry rows of the cluster's own workers (each
// worker's registered host and port: its model row and its
// WorkerManager@service row) and returns how many it deleted; other rows,
// another cluster's sharing the table, stay. A table without DB-GPT's
// columns is refused, not touched; a missing one holds nothing to purge.
// An SQLite copy is written back: run it with the controllers stopped
// (destroy --purge-registry does).
func (d *DB) Purge(ctx context.Context) (int64, error) {
	switch d.kind() {
	case "":
		return 0, nil
	case schema.RegistryMySQL:
		if ds, ok := d.acc.(Discarder); ok {
			if done, err := ds.Discard(ctx); err != nil || done {
				return 0, err
			}
		}
		l := userLogin(d.c.Registry)
		db, pl, err := d.connect(ctx, l, d.c.Registry.Database)
		if err != nil {
			return 0, err
		}
		defer db.Close()
		return purgeRows(ctx, db, d.c.Workers, d.mysqlWhere(l, pl))
	case schema.RegistrySQLite:
		return d.purgeSQLite(ctx)
	}
	return 0, d.unsupported()
}

func (d *DB) purgeSQLite(ctx context.Context) (int64, error) {
	f, err := d.acc.SQLiteFile()
	if err != nil {
		return 0, err
	}
	where := sqliteWhere(d.c.Registry, f)
	exists, err := f.Exists(ctx)
	if err != nil {
		return 0, fmt.Errorf("registry %s: %w", where, err)
	}
	if !exists {
		return 0, nil
	}
	path, inPlace, done, err := f.Local(ctx)
	if err != nil {
		return 0, fmt.Errorf("registry %s: %w", where, err)
	}
	defer done()
	db, err := openSQLite(path, false)
	if err != nil {
		return 0, fmt.Errorf("registry %s: %w", where, err)
	}
	defer db.Close()
	n, err := purgeRows(ctx, db, d.c.Workers, where)
	if err != nil || n == 0 || inPlace {
		return n, err
	}
	return n, writeBack(ctx, f, db, path, where)
}

// purgeRows deletes the rows at each worker's host:port, after checking
// that the table is DB-GPT's.
func purgeRows(ctx context.Context, db *sql.DB, workers []*schema.Worker, where string) (int64, error) {
	missing, err := dbgpt.CheckColumns(ctx, db)
	if errors.Is(err, dbgpt.ErrTableMissing) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("registry %s: %w", where, err)
	}
	if len(missing) > 0 {
		return 0, refuse(where, missing)
	}
	var total int64
	seen := map[string]bool{}
	for _, w := range workers {
		if w.Server == nil {
			continue
		}
		key := fmt.Sprintf("%s:%d", w.Server.Address, w.Port)
		if seen[key] {
			continue
		}
		seen[key] = true
		n, err := dbgpt.Purge(ctx, db, w.Server.Address, w.Port)
		if err != nil {
			return total, fmt.Errorf("registry %s: %w", where, err)
		}
		total += n
	}
	return total, nil
}
