package ssh

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/schema"
)

// openMySQL opens the registry database as seen from server s: every
// connection is a TCP channel through s's SSH connection (or a plain dial
// for local). withDB=false connects without selecting the database, for
// CREATE DATABASE.
func (p *Provider) openMySQL(s *schema.Server, r *schema.Registry, withDB bool) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User = r.User
	cfg.Passwd = r.Password.Reveal()
	cfg.Net = "tcp"
	cfg.Addr = registryAddr(r)
	if withDB {
		cfg.DBName = r.Database
	}
	cfg.Timeout = 10 * time.Second
	cfg.ReadTimeout = 30 * time.Second
	cfg.WriteTimeout = 30 * time.Second
	h := p.host(s)
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return h.DialContext(ctx, "tcp", addr)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(2)
	return db, nil
}

func registryAddr(r *schema.Registry) string {
	port := r.Port
	if port == 0 {
		port = 3306
	}
	return net.JoinHostPort(r.Host, strconv.Itoa(port))
}

// checkMySQLFrom checks that the registry database answers from server s.
func (p *Provider) checkMySQLFrom(ctx context.Context, r *schema.Registry, s *schema.Server) *providers.Problem {
	addr := registryAddr(r)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := p.host(s).DialContext(ctx, "tcp", addr)
	if err != nil {
		return &providers.Problem{Server: s.Name, What: fmt.Sprintf("registry %s not reachable from %s: %v", addr, s.Name, err),
			Fix: "check that the database runs and that " + s.Name + " may reach it (firewall, bind-address)"}
	}
	_ = conn.Close()
	db, err := p.openMySQL(s, r, false)
	if err != nil {
		return &providers.Problem{Server: s.Name, What: "registry: " + err.Error()}
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return &providers.Problem{Server: s.Name, What: fmt.Sprintf("registry %s reached from %s but login as %q failed: %v", addr, s.Name, r.User, err),
			Fix: "check the registry user and password, and that the user may connect from " + s.Address}
	}
	if !r.CreateDatabase {
		var name string
		err := db.QueryRowContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", r.Database).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return &providers.Problem{Server: s.Name, What: fmt.Sprintf("registry database %q does not exist on %s", r.Database, addr),
				Fix: "create it, or set create_database = true in the registry block"}
		}
		if err != nil {
			return &providers.Problem{Server: s.Name, What: fmt.Sprintf("registry %s: checking database %q: %v", addr, r.Database, err)}
		}
	}
	return nil
}

// controllerServers are the servers of the cluster's controllers, in file
// order, without repeats.
func controllerServers(c *schema.Cluster) []*schema.Server {
	seen := map[string]bool{}
	var out []*schema.Server
	for _, ctl := range c.Controllers {
		if ctl.Server != nil && !seen[ctl.Server.Name] {
			seen[ctl.Server.Name] = true
			out = append(out, ctl.Server)
		}
	}
	return out
}

// mysqlFromController opens the registry through the first controller host
// that can be reached.
func (p *Provider) mysqlFromController(ctx context.Context, c *schema.Cluster, withDB bool) (*sql.DB, *schema.Server, error) {
	var errs []error
	for _, s := range controllerServers(c) {
		if err := p.host(s).Connect(ctx); err != nil {
			errs = append(errs, err)
			continue
		}
		db, err := p.openMySQL(s, c.Registry, withDB)
		if err == nil {
			err = db.PingContext(ctx)
			if err == nil {
				return db, s, nil
			}
			db.Close()
		}
		errs = append(errs, fmt.Errorf("registry %s from %s: %w", registryAddr(c.Registry), s.Name, err))
	}
	if len(errs) == 0 {
		return nil, nil, errors.New("registry: the cluster has no controller host to reach it from")
	}
	return nil, nil, fmt.Errorf("registry %s not reachable from any controller host: %w", registryAddr(c.Registry), errors.Join(errs...))
}

// EnsureRegistry prepares the registry; see providers.Provider.
func (p *Provider) EnsureRegistry(ctx context.Context, c *schema.Cluster) error {
	if c == nil {
		c = p.cluster
	}
	r := c.Registry
	if r == nil || r.Type == schema.RegistryEmbedded || r.Type == "" {
		return nil
	}
	switch r.Type {
	case schema.RegistryMySQL:
		if r.CreateDatabase {
			db, _, err := p.mysqlFromController(ctx, c, false)
			if err != nil {
				return err
			}
			err = dbgpt.CreateDatabase(ctx, db, r.Database)
			db.Close()
			if err != nil {
				return fmt.Errorf("registry %s: %w", registryAddr(r), err)
			}
		}
		db, s, err := p.mysqlFromController(ctx, c, true)
		if err != nil {
			return err
		}
		defer db.Close()
		return ensureTable(ctx, db, dbgpt.MySQL, fmt.Sprintf("registry %s/%s (from %s)", registryAddr(r), r.Database, s.Name))
	case schema.RegistrySQLite:
		return p.ensureSQLite(ctx, c)
	}
	return fmt.Errorf("registry type %q is not supported by the ssh provider", r.Type)
}

// ensureTable creates the registry table when absent and checks that an
// existing one has DB-GPT's columns.
func ensureTable(ctx context.Context, db *sql.DB, d dbgpt.Dialect, where string) error {
	if err := dbgpt.EnsureSchema(ctx, db, d); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	missing, err := dbgpt.CheckColumns(ctx, db)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: table %s exists but is not DB-GPT's registry table: it lacks the columns %s (rename or drop that table, or use another database)",
			where, dbgpt.RegistryTable, strings.Join(missing, ", "))
	}
	return nil
}

// sqliteServer is where an SQLite registry lives: the controllers' server.
func sqliteServer(c *schema.Cluster) (*schema.Server, error) {
	ss := controllerServers(c)
	if len(ss) == 0 {
		return nil, errors.New("SQLite registry: the cluster has no controller")
	}
	return ss[0], nil
}

// ensureSQLite makes sure the registry file and table exist on the
// controllers' server. A missing file is built here (with the table) and
// uploaded with mode 0600; an existing file is checked on a downloaded copy
// (the local transport opens it in place and adds the table if needed).
func (p *Provider) ensureSQLite(ctx context.Context, c *schema.Cluster) error {
	s, err := sqliteServer(c)
	if err != nil {
		return err
	}
	r := c.Registry
	where := fmt.Sprintf("SQLite registry %s on %s", r.Path, s.Name)
	if s.Transport == schema.TransportLocal {
		if err := os.MkdirAll(filepath.Dir(r.Path), 0o755); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		db, err := openSQLite(r.Path, false)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		defer db.Close()
		if err := ensureTable(ctx, db, dbgpt.SQLite, where); err != nil {
			return err
		}
		return os.Chmod(r.Path, 0o600)
	}
	h := p.host(s)
	out, err := h.Run(ctx, "if [ -e "+host.Quote(r.Path)+" ]; then echo present; else echo absent; fi", nil)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if strings.TrimSpace(string(out)) == "absent" {
		tmp, err := os.MkdirTemp("", "hactl-sqlite-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		local := filepath.Join(tmp, "registry.db")
		db, err := openSQLite(local, false)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		err = ensureTable(ctx, db, dbgpt.SQLite, where)
		db.Close()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(local)
		if err != nil {
			return err
		}
		if _, err := h.Run(ctx, "mkdir -p "+host.Quote(path.Dir(r.Path)), nil); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if err := host.WriteFile(ctx, h, r.Path, data, 0o600); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		fmt.Fprintf(p.opts.Out, "%s: created %s\n", s.Name, where)
		return nil
	}
	db, _, cleanup, err := p.sqliteCopy(ctx, s, r.Path)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	defer cleanup()
	missing, err := dbgpt.CheckColumns(ctx, db)
	if err != nil {
		return fmt.Errorf("%s: %w (delete the file so hactl creates it, or create the table)", where, err)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: table %s lacks the columns %s", where, dbgpt.RegistryTable, strings.Join(missing, ", "))
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

// sqliteCopy downloads the database file (and its WAL, if any) from s and
// opens the copy.
func (p *Provider) sqliteCopy(ctx context.Context, s *schema.Server, file string) (*sql.DB, string, func(), error) {
	tmp, err := os.MkdirTemp("", "hactl-sqlite-")
	if err != nil {
		return nil, "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	local := filepath.Join(tmp, "registry.db")
	for _, suffix := range []string{"", "-wal"} {
		out, err := p.host(s).Run(ctx, "if [ -f "+host.Quote(file+suffix)+" ]; then echo y; cat "+host.Quote(file+suffix)+"; else echo n; fi", nil)
		if err != nil {
			cleanup()
			return nil, "", nil, err
		}
		flag, data, _ := bytes.Cut(out, []byte("\n"))
		if string(flag) != "y" {
			continue
		}
		if err := os.WriteFile(local+suffix, data, 0o600); err != nil {
			cleanup()
			return nil, "", nil, err
		}
	}
	db, err := openSQLite(local, false)
	if err != nil {
		cleanup()
		return nil, "", nil, err
	}
	return db, local, func() { db.Close(); cleanup() }, nil
}

// PurgeRegistry deletes every registry row. For a remote SQLite file it
// edits a copy and uploads it back: run it only with the controllers
// stopped (destroy --purge-registry does).
func (p *Provider) PurgeRegistry(ctx context.Context, c *schema.Cluster) error {
	if c == nil {
		c = p.cluster
	}
	r := c.Registry
	if r == nil || r.Type == schema.RegistryEmbedded || r.Type == "" {
		return nil
	}
	purge := func(db *sql.DB, where string) error {
		if _, err := db.ExecContext(ctx, "DELETE FROM "+dbgpt.RegistryTable); err != nil {
			if dbgpt.IsTableMissing(err) {
				return nil
			}
			return fmt.Errorf("%s: purging %s: %w", where, dbgpt.RegistryTable, err)
		}
		return nil
	}
	switch r.Type {
	case schema.RegistryMySQL:
		db, s, err := p.mysqlFromController(ctx, c, true)
		if err != nil {
			return err
		}
		defer db.Close()
		return purge(db, fmt.Sprintf("registry %s (from %s)", registryAddr(r), s.Name))
	case schema.RegistrySQLite:
		s, err := sqliteServer(c)
		if err != nil {
			return err
		}
		where := fmt.Sprintf("SQLite registry %s on %s", r.Path, s.Name)
		if s.Transport == schema.TransportLocal {
			if _, err := os.Stat(r.Path); errors.Is(err, os.ErrNotExist) {
				return nil
			}
			db, err := openSQLite(r.Path, false)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			defer db.Close()
			return purge(db, where)
		}
		db, local, cleanup, err := p.sqliteCopy(ctx, s, r.Path)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		defer cleanup()
		if err := purge(db, where); err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		data, err := os.ReadFile(local)
		if err != nil {
			return err
		}
		if err := host.WriteFile(ctx, p.host(s), r.Path, data, 0o600); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if _, err := p.host(s).Run(ctx, "rm -f "+host.Quote(r.Path+"-wal")+" "+host.Quote(r.Path+"-shm"), nil); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		return nil
	}
	return nil
}

// RegistryRows reads the registry table directly (for status when no
// controller answers): MySQL through the first reachable controller host,
// SQLite from the controllers' server (a downloaded copy over SSH).
func (p *Provider) RegistryRows(ctx context.Context, c *schema.Cluster) ([]dbgpt.Instance, error) {
	if c == nil {
		c = p.cluster
	}
	r := c.Registry
	if r == nil || r.Type == schema.RegistryEmbedded || r.Type == "" {
		return nil, errors.New("the registry is embedded in the controller: no database to read")
	}
	var db *sql.DB
	var where string
	switch r.Type {
	case schema.RegistryMySQL:
		d, s, err := p.mysqlFromController(ctx, c, true)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		db, where = d, fmt.Sprintf("registry %s (from %s)", registryAddr(r), s.Name)
	case schema.RegistrySQLite:
		s, err := sqliteServer(c)
		if err != nil {
			return nil, err
		}
		where = fmt.Sprintf("SQLite registry %s on %s", r.Path, s.Name)
		if s.Transport == schema.TransportLocal {
			d, err := openSQLite(r.Path, true)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			defer d.Close()
			db = d
		} else {
			d, _, cleanup, err := p.sqliteCopy(ctx, s, r.Path)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			defer cleanup()
			db = d
		}
	default:
		return nil, fmt.Errorf("registry type %q is not supported by the ssh provider", r.Type)
	}
	rows, err := dbgpt.ListRows(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	out := make([]dbgpt.Instance, len(rows))
	for i, row := range rows {
		out[i] = row.Instance
	}
	return out, nil
}
