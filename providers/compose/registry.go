package compose

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

// EnsureRegistry makes the registry ready before any controller starts. A
// managed database is started first (`up -d --no-deps <db>`) and waited for
// until healthy; then, as its root user, hactl creates the database and the
// registry user when missing. For every MySQL registry it then creates the
// registry table when absent and checks an existing one's columns, the same
// code as the SSH path (internal/dbgpt). Embedded: nothing to do.
func (p *Provider) EnsureRegistry(ctx context.Context, c *schema.Cluster) error {
	r := p.c.Registry
	if r == nil || r.Type == schema.RegistryEmbedded {
		return nil
	}
	if r.Type != schema.RegistryMySQL {
		return fmt.Errorf("compose: the compose provider supports mysql and embedded registries, not %s", r.Type)
	}
	if Managed(p.c) {
		if err := p.startDatabase(ctx); err != nil {
			return err
		}
		root, err := p.openMySQL(ctx, "root", p.rootPassword(), "")
		if err != nil {
			return err
		}
		defer root.Close()
		if err := dbgpt.CreateDatabase(ctx, root, r.Database); err != nil {
			return fmt.Errorf("compose: registry database %s: %w", p.addr(), err)
		}
		if r.User != "root" {
			if err := ensureUser(ctx, root, r.User, r.Password.Reveal(), r.Database); err != nil {
				return fmt.Errorf("compose: registry database %s: %w", p.addr(), err)
			}
		}
	} else if r.CreateDatabase {
		db, err := p.openMySQL(ctx, r.User, r.Password.Reveal(), "")
		if err != nil {
			return err
		}
		err = dbgpt.CreateDatabase(ctx, db, r.Database)
		db.Close()
		if err != nil {
			return fmt.Errorf("compose: registry database %s: %w", p.addr(), err)
		}
	}
	db, err := p.openRegistry(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := dbgpt.EnsureSchema(ctx, db, dbgpt.MySQL); err != nil {
		return fmt.Errorf("compose: registry database %s: %w", p.addr(), err)
	}
	missing, err := dbgpt.CheckColumns(ctx, db)
	if err != nil {
		return fmt.Errorf("compose: registry database %s: %w", p.addr(), err)
	}
	if len(missing) > 0 {
		return fmt.Errorf("compose: registry table %s in %s lacks columns %s (created by another DB-GPT version?)",
			dbgpt.RegistryTable, r.Database, strings.Join(missing, ", "))
	}
	return nil
}

func (p *Provider) rootPassword() string {
	if p.c.Compose.RootPassword.IsSet() {
		return p.c.Compose.RootPassword.Reveal()
	}
	return p.c.Registry.Password.Reveal()
}

func (p *Provider) addr() string {
	return net.JoinHostPort(p.c.Registry.Host, strconv.Itoa(p.c.Registry.Port))
}

// startDatabase starts the managed database service and waits until Docker
// reports it healthy.
func (p *Provider) startDatabase(ctx context.Context) error {
	svc := DatabaseService(p.c)
	p.mu.Lock()
	err := p.writeProject()
	if err == nil {
		_, err = p.runCompose(ctx, "up", "-d", "--no-deps", "--no-build", "--no-color", svc)
	}
	p.mu.Unlock()
	if err != nil {
		return fmt.Errorf("compose: starting the registry database service %s: %w", svc, err)
	}
	deadline := time.Now().Add(p.opts.HealthTimeout)
	for {
		cs, err := containers(ctx, LabelProject+"="+p.project, LabelService+"="+svc)
		if err != nil {
			return err
		}
		state := "missing"
		if len(cs) > 0 {
			ct := cs[0]
			state = ct.State.Status
			if h := ct.health(); h != "" {
				state += ", " + h
			}
			if ct.State.Running && ct.health() == "healthy" {
				return nil
			}
			if ct.State.Status == "exited" || ct.State.Status == "dead" {
				logs, _ := containerLogs(ctx, ct.ID, 15)
				return fmt.Errorf("compose: the registry database service %s exited (code %d); last lines of its log:\n%s",
					svc, ct.State.ExitCode, logs)
			}
		}
		if time.Now().After(deadline) {
			msg := ""
			if len(cs) > 0 {
				logs, _ := containerLogs(ctx, cs[0].ID, 15)
				msg = "; last lines of its log:\n" + logs
			}
			return fmt.Errorf("compose: the registry database service %s is not healthy after %s (%s)%s",
				svc, p.opts.HealthTimeout, state, msg)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// openMySQL connects to the registry database server as user, through the
// provider's dialer (a managed database is reached at its container address).
func (p *Provider) openMySQL(ctx context.Context, user, password, database string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = user, password, database
	cfg.Net, cfg.Addr = "tcp", p.addr()
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 10*time.Second, 30*time.Second, 30*time.Second
	cfg.ParseTime = true
	cfg.InterpolateParams = true // CREATE USER takes no placeholders server-side
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return p.DialContext(ctx, nil, network, addr)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(2)
	if err := pingRetry(ctx, db, 20*time.Second); err != nil {
		db.Close()
		return nil, fmt.Errorf("compose: connecting to the registry database %s as %s: %w", p.addr(), user, err)
	}
	return db, nil
}

// openRegistry connects to the registry database as the registry user.
func (p *Provider) openRegistry(ctx context.Context) (*sql.DB, error) {
	r := p.c.Registry
	return p.openMySQL(ctx, r.User, r.Password.Reveal(), r.Database)
}

func pingRetry(ctx context.Context, db *sql.DB, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := db.PingContext(pctx)
		cancel()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// ensureUser creates the registry user when missing, sets its password and
// grants it the registry database. Names are checked identifiers; the
// password travels as an interpolated, escaped parameter.
func ensureUser(ctx context.Context, root *sql.DB, user, password, database string) error {
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
		if _, err := root.ExecContext(ctx, s.q, s.args...); err != nil {
			return fmt.Errorf("creating registry user %s: %w", user, err)
		}
	}
	return nil
}

// RegistryRows reads the registry table directly, for status when no
// controller answers.
func (p *Provider) RegistryRows(ctx context.Context, c *schema.Cluster) ([]dbgpt.Instance, error) {
	r := p.c.Registry
	if r == nil || r.Type != schema.RegistryMySQL {
		return nil, fmt.Errorf("compose: no mysql registry to read")
	}
	db, err := p.openRegistry(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := dbgpt.ListRows(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("compose: registry database %s: %w", p.addr(), err)
	}
	out := make([]dbgpt.Instance, len(rows))
	for i, row := range rows {
		out[i] = row.Instance
	}
	return out, nil
}

// PurgeRegistry deletes the registry rows of every worker of the cluster
// (destroy --purge-registry). For a managed database with no component
// left it removes the database with its volume (Teardown(ctx, true)).
func (p *Provider) PurgeRegistry(ctx context.Context, c *schema.Cluster) error {
	r := p.c.Registry
	if r == nil || r.Type != schema.RegistryMySQL {
		return nil
	}
	if Managed(p.c) {
		// With every component gone, purging the managed registry means its
		// data: the database service, network and volume are removed.
		if left, err := p.componentsLeft(ctx); err == nil && left == 0 {
			return p.Teardown(ctx, true)
		}
		if _, err := p.serviceContainer(ctx, DatabaseService(p.c)); err != nil {
			return nil
		}
	}
	db, err := p.openRegistry(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, w := range p.c.Workers {
		if _, err := dbgpt.Purge(ctx, db, w.Server.Address, w.Port); err != nil && !dbgpt.IsTableMissing(err) {
			return fmt.Errorf("compose: registry database %s: %w", p.addr(), err)
		}
	}
	return nil
}

// RegistryState observes the registry without starting or creating
// anything; see providers.Provider. A managed database whose container and
// volume are both absent holds no table yet (apply creates both); one whose
// volume exists but whose container does not run cannot be checked without
// starting it, which plan does not do. A running managed database is
// checked as its root user (the registry user may not exist yet), an
// external one as the registry user.
func (p *Provider) RegistryState(ctx context.Context, c *schema.Cluster) (plan.RegistryState, error) {
	r := p.c.Registry
	if r == nil || r.Type == schema.RegistryEmbedded || r.Type == "" {
		return plan.RegistryState{Type: schema.RegistryEmbedded}, nil
	}
	st := plan.RegistryState{Type: r.Type}
	if r.Type != schema.RegistryMySQL {
		return st, fmt.Errorf("compose: the compose provider supports mysql and embedded registries, not %s", r.Type)
	}
	st.Where = fmt.Sprintf("mysql %s@%s/%s", r.User, p.addr(), r.Database)
	user, password := r.User, r.Password.Reveal()
	if Managed(p.c) {
		svc := DatabaseService(p.c)
		st.Where += " (service " + svc + ")"
		cs, err := containers(ctx, LabelProject+"="+p.project, LabelService+"="+svc)
		if err != nil {
			st.Err = err.Error()
			return st, nil
		}
		running := false
		for _, ct := range cs {
			running = running || ct.State.Running
		}
		if !running {
			if _, err := run(ctx, "", "docker", "volume", "inspect", p.DatabaseVolume()); err != nil && len(cs) == 0 {
				st.Reachable = true // nothing there: database and table are created by apply
				return st, nil
			}
			st.Err = fmt.Sprintf("the database service %s is not running (plan does not start it)", svc)
			return st, nil
		}
		user, password = "root", p.rootPassword()
	}
	server, err := p.openMySQL(ctx, user, password, "")
	if err != nil {
		st.Err = err.Error()
		return st, nil
	}
	defer server.Close()
	err = providers.ObserveMySQL(ctx, server, r.Database, func() (*sql.DB, error) {
		return p.openMySQL(ctx, user, password, r.Database)
	}, &st)
	if err != nil {
		st.Err = fmt.Sprintf("compose: registry database %s: %v", p.addr(), err)
		return st, nil
	}
	st.Reachable = true
	return st, nil
}
