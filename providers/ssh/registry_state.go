package ssh

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/schema"
)

// RegistryState observes the registry without changing it; see
// providers.Provider. MySQL: through the first controller host that
// reaches it, the database and table looked up in information_schema and
// the table's columns checked. SQLite: on the controllers' server, whether
// the file exists and holds a complete table (a remote file is read from a
// downloaded copy).
func (p *Provider) RegistryState(ctx context.Context, c *schema.Cluster) (plan.RegistryState, error) {
	if c == nil {
		c = p.cluster
	}
	r := c.Registry
	if r == nil || r.Type == "" || r.Type == schema.RegistryEmbedded {
		return plan.RegistryState{Type: schema.RegistryEmbedded}, nil
	}
	st := plan.RegistryState{Type: r.Type}
	switch r.Type {
	case schema.RegistryMySQL:
		st.Where = fmt.Sprintf("mysql %s@%s/%s", r.User, registryAddr(r), r.Database)
		server, s, err := p.mysqlFromController(ctx, c, false)
		if err != nil {
			st.Err = err.Error()
			return st, nil
		}
		defer server.Close()
		st.Where += " (from " + s.Name + ")"
		err = providers.ObserveMySQL(ctx, server, r.Database, func() (*sql.DB, error) { return p.openMySQL(s, r, true) }, &st)
		if err != nil {
			st.Err = err.Error()
			return st, nil
		}
		st.Reachable = true
		return st, nil
	case schema.RegistrySQLite:
		s, err := sqliteServer(c)
		if err != nil {
			return st, err
		}
		st.Where = fmt.Sprintf("sqlite %s on %s", r.Path, s.Name)
		if err := p.observeSQLite(ctx, s, r.Path, &st); err != nil {
			st.Err = err.Error()
			return st, nil
		}
		st.Reachable = true
		return st, nil
	}
	return st, fmt.Errorf("registry type %q is not supported by the ssh provider", r.Type)
}

// observeSQLite fills st from the SQLite file on s.
func (p *Provider) observeSQLite(ctx context.Context, s *schema.Server, file string, st *plan.RegistryState) error {
	var db *sql.DB
	if s.Transport == schema.TransportLocal {
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		d, err := openSQLite(file, true)
		if err != nil {
			return err
		}
		defer d.Close()
		db = d
	} else {
		out, err := p.host(s).Run(ctx, "if [ -e "+host.Quote(file)+" ]; then echo present; else echo absent; fi", nil)
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(out)) == "absent" {
			return nil
		}
		d, _, cleanup, err := p.sqliteCopy(ctx, s, file)
		if err != nil {
			return err
		}
		defer cleanup()
		db = d
	}
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
