package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/schema"
)

// Addr is the MySQL registry's host:port (port 3306 when unset).
func Addr(r *schema.Registry) string {
	port := r.Port
	if port == 0 {
		port = 3306
	}
	return net.JoinHostPort(r.Host, strconv.Itoa(port))
}

type login struct{ user, password string }

func userLogin(r *schema.Registry) login { return login{r.User, r.Password.Reveal()} }

// openMySQL opens a connection pool to r's server dialled from pl, with
// database selected when not empty. It does not connect.
func openMySQL(r *schema.Registry, pl Place, l login, database string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = l.user, l.password, database
	cfg.Net, cfg.Addr = "tcp", Addr(r)
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 10*time.Second, 30*time.Second, 30*time.Second
	cfg.InterpolateParams = true // CREATE USER takes no placeholders server-side
	cfg.DialFunc = func(ctx context.Context, _, addr string) (net.Conn, error) {
		return pl.DialContext(ctx, "tcp", addr)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(2)
	return db, nil
}

// connect opens the MySQL registry as l from the first of the access's
// places that answers, retrying for a while when the access asks for it.
func (d *DB) connect(ctx context.Context, l login, database string) (*sql.DB, Place, error) {
	r := d.c.Registry
	places := d.acc.Places()
	if len(places) == 0 {
		return nil, nil, fmt.Errorf("registry %s: no place to reach it from (the cluster has no controller host)", Addr(r))
	}
	var retry time.Duration
	if rt, ok := d.acc.(Retrier); ok {
		retry = rt.ConnectRetry()
	}
	var errs []error
	for _, pl := range places {
		db, err := openMySQL(r, pl, l, database)
		if err == nil {
			if err = ping(ctx, db, retry); err == nil {
				return db, pl, nil
			}
			db.Close()
		}
		errs = append(errs, fmt.Errorf("from %s: %w", pl.Name(), err))
	}
	return nil, nil, fmt.Errorf("registry %s not reachable as %s: %w", Addr(r), l.user, errors.Join(errs...))
}

// ping checks the connection, trying again for up to retry.
func ping(ctx context.Context, db *sql.DB, retry time.Duration) error {
	deadline := time.Now().Add(retry)
	for {
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := db.PingContext(pctx)
		cancel()
		if err == nil || !time.Now().Before(deadline) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Problem is what pre-flight reports of a registry that fails Check.
type Problem struct {
	What string // what is wrong
	Fix  string // what the operator can do
}

// Check tests, changing nothing, that the MySQL registry r answers from pl:
// its port is reachable, the registry user may log in (from pl, whose
// address is fromAddr, as the server sees it), and the database exists
// unless the file lets hactl create it. nil when all is well.
func Check(ctx context.Context, r *schema.Registry, pl Place, fromAddr string) *Problem {
	addr := Addr(r)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := pl.DialContext(ctx, "tcp", addr)
	if err != nil {
		return &Problem{What: fmt.Sprintf("registry %s not reachable from %s: %v", addr, pl.Name(), err),
			Fix: "check that the database runs and that " + pl.Name() + " may reach it (firewall, bind-address)"}
	}
	_ = conn.Close()
	db, err := openMySQL(r, pl, userLogin(r), "")
	if err != nil {
		return &Problem{What: "registry: " + err.Error()}
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return &Problem{What: fmt.Sprintf("registry %s reached from %s but login as %q failed: %v", addr, pl.Name(), r.User, err),
			Fix: "check the registry user and password, and that the user may connect from " + fromAddr}
	}
	if r.CreateDatabase {
		return nil
	}
	exists, err := databaseExists(ctx, db, r.Database)
	if err != nil {
		return &Problem{What: fmt.Sprintf("registry %s: %v", addr, err)}
	}
	if !exists {
		return &Problem{What: fmt.Sprintf("registry database %q does not exist on %s", r.Database, addr),
			Fix: "create it, or set create_database = true in the registry block"}
	}
	return nil
}

func databaseExists(ctx context.Context, server *sql.DB, database string) (bool, error) {
	var name string
	err := server.QueryRowContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", database).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking database %q: %w", database, err)
	}
	return true, nil
}

// observeMySQL fills st's DatabaseExists, TableExists and MissingColumns
// from server, a connection with no database selected; inDB opens the
// database itself, for the columns, only when the table exists. It reads
// information_schema and the table's column names, and writes nothing.
func observeMySQL(ctx context.Context, server *sql.DB, database string, inDB func() (*sql.DB, error), st *plan.RegistryState) error {
	exists, err := databaseExists(ctx, server, database)
	if err != nil || !exists {
		return err
	}
	st.DatabaseExists = true
	var n int
	if err := server.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
		database, dbgpt.RegistryTable).Scan(&n); err != nil {
		return fmt.Errorf("checking table %s: %w", dbgpt.RegistryTable, err)
	}
	if n == 0 {
		return nil
	}
	st.TableExists = true
	db, err := inDB()
	if err != nil {
		return err
	}
	defer db.Close()
	missing, err := dbgpt.CheckColumns(ctx, db)
	if err != nil {
		return err
	}
	st.MissingColumns = missing
	return nil
}

// ensureUser creates the registry user when missing, sets its password and
// grants it the registry database. Names are checked identifiers; the
// password travels as an interpolated, escaped parameter.
func ensureUser(ctx context.Context, admin *sql.DB, user, password, database string) error {
	if err := dbgpt.ValidIdentifier(user); err != nil {
		return fmt.Errorf("registry user: %w", err)
	}
	if err := dbgpt.ValidIdentifier(database); err != nil {
		return err
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{"CREATE USER IF NOT EXISTS '" + user + "'@'%' IDENTIFIED BY ?", []any{password}},
		{"ALTER USER '" + user + "'@'%' IDENTIFIED BY ?", []any{password}},
		{"GRANT ALL PRIVILEGES ON `" + database + "`.* TO '" + user + "'@'%'", nil},
	}
	for _, s := range stmts {
		if _, err := admin.ExecContext(ctx, s.q, s.args...); err != nil {
			return fmt.Errorf("creating registry user %s: %w", user, err)
		}
	}
	return nil
}
