package providers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
)

// ObserveMySQL fills st's DatabaseExists, TableExists and MissingColumns
// from server, a connection to the MySQL server with no database selected.
// inDB opens a connection to the database itself, for the columns; it is
// called only when the table exists. It reads information_schema and the
// table's column names, and writes nothing.
func ObserveMySQL(ctx context.Context, server *sql.DB, database string, inDB func() (*sql.DB, error), st *plan.RegistryState) error {
	var name string
	err := server.QueryRowContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", database).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking database %q: %w", database, err)
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
