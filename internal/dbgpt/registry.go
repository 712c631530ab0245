package dbgpt

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hactl/hactl/schema"
)

// RegistryTable is the table of DB-GPT's StorageModelRegistry.
const RegistryTable = "dbgpt_cluster_registry_instance"

// HasDatabase reports whether a registry of type t (schema.Registry.Type)
// keeps its data in a database hactl prepares (MySQL, SQLite), not inside
// the controller (embedded).
func HasDatabase(t string) bool { return t == schema.RegistryMySQL || t == schema.RegistrySQLite }

// Dialect is the SQL flavour of a registry database.
type Dialect string

const (
	MySQL  Dialect = "mysql"
	SQLite Dialect = "sqlite"
)

// MySQLRegistryDDL is the table exactly as DB-GPT's HA guide creates it.
// DB-GPT never creates it on MySQL itself: the operator (hactl) must.
const MySQLRegistryDDL = "CREATE TABLE IF NOT EXISTS `dbgpt_cluster_registry_instance` (\n" +
	"  `id` int(11) NOT NULL AUTO_INCREMENT COMMENT 'Auto increment id',\n" +
	"  `model_name` varchar(128) NOT NULL COMMENT 'Model name',\n" +
	"  `host` varchar(128) NOT NULL COMMENT 'Host of the model',\n" +
	"  `port` int(11) NOT NULL COMMENT 'Port of the model',\n" +
	"  `weight` float DEFAULT 1.0 COMMENT 'Weight of the model',\n" +
	"  `check_healthy` tinyint(1) DEFAULT 1 COMMENT 'Whether to check the health of the model',\n" +
	"  `healthy` tinyint(1) DEFAULT 0 COMMENT 'Whether the model is healthy',\n" +
	"  `enabled` tinyint(1) DEFAULT 1 COMMENT 'Whether the model is enabled',\n" +
	"  `prompt_template` varchar(128) DEFAULT NULL COMMENT 'Prompt template for the model instance',\n" +
	"  `last_heartbeat` datetime DEFAULT NULL COMMENT 'Last heartbeat time of the model instance',\n" +
	"  `user_name` varchar(128) DEFAULT NULL COMMENT 'User name',\n" +
	"  `sys_code` varchar(128) DEFAULT NULL COMMENT 'System code',\n" +
	"  `gmt_created` datetime DEFAULT CURRENT_TIMESTAMP COMMENT 'Record creation time',\n" +
	"  `gmt_modified` datetime DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP COMMENT 'Record update time',\n" +
	"  PRIMARY KEY (`id`),\n" +
	"  UNIQUE KEY `uk_model_instance` (`model_name`, `host`, `port`, `sys_code`)\n" +
	") ENGINE=InnoDB AUTO_INCREMENT=1 DEFAULT CHARSET=utf8mb4 COMMENT='Cluster model instance table, for registering and managing model instances'"

// SQLiteRegistryDDL is the same table for SQLite (what DB-GPT's SQLAlchemy
// model creates there), with a trigger standing in for ON UPDATE.
var SQLiteRegistryDDL = []string{
	`CREATE TABLE IF NOT EXISTS dbgpt_cluster_registry_instance (
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  model_name VARCHAR(128) NOT NULL,
  host VARCHAR(128) NOT NULL,
  port INTEGER NOT NULL,
  weight FLOAT DEFAULT 1.0,
  check_healthy BOOLEAN DEFAULT 1,
  healthy BOOLEAN DEFAULT 0,
  enabled BOOLEAN DEFAULT 1,
  prompt_template VARCHAR(128),
  last_heartbeat DATETIME,
  user_name VARCHAR(128),
  sys_code VARCHAR(128),
  gmt_created DATETIME DEFAULT CURRENT_TIMESTAMP,
  gmt_modified DATETIME DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT uk_model_instance UNIQUE (model_name, host, port, sys_code)
)`,
	`CREATE TRIGGER IF NOT EXISTS dbgpt_cluster_registry_instance_modified
AFTER UPDATE ON dbgpt_cluster_registry_instance
WHEN NEW.gmt_modified IS OLD.gmt_modified
BEGIN
  UPDATE dbgpt_cluster_registry_instance SET gmt_modified = CURRENT_TIMESTAMP WHERE id = NEW.id;
END`,
}

// RegistryColumns are the columns DB-GPT reads and writes, in table order.
var RegistryColumns = []string{
	"id", "model_name", "host", "port", "weight", "check_healthy", "healthy", "enabled",
	"prompt_template", "last_heartbeat", "user_name", "sys_code", "gmt_created", "gmt_modified",
}

// ErrTableMissing is returned (wrapped) when the registry table does not exist.
var ErrTableMissing = errors.New("registry table " + RegistryTable + " does not exist")

// EnsureSchema creates the registry table if it does not exist; running it
// again changes nothing.
func EnsureSchema(ctx context.Context, db *sql.DB, d Dialect) error {
	var stmts []string
	switch d {
	case MySQL:
		stmts = []string{MySQLRegistryDDL}
	case SQLite:
		stmts = SQLiteRegistryDDL
	default:
		return fmt.Errorf("registry schema: unknown dialect %q (want mysql or sqlite)", d)
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("creating table %s (%s): %w", RegistryTable, d, err)
		}
	}
	return nil
}

var identRe = regexp.MustCompile(`^[A-Za-z0-9_$]{1,64}$`)

// ValidIdentifier reports whether name is safe as a MySQL database name:
// 1–64 characters of letters, digits, '_' and '$', not all digits.
func ValidIdentifier(name string) error {
	if !identRe.MatchString(name) || strings.Trim(name, "0123456789") == "" {
		return fmt.Errorf("invalid database name %q: use 1-64 letters, digits, '_' or '$', not only digits", name)
	}
	return nil
}

// CreateDatabase creates a MySQL database if it does not exist.
func CreateDatabase(ctx context.Context, db *sql.DB, name string) error {
	if err := ValidIdentifier(name); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+name+"` DEFAULT CHARACTER SET utf8mb4"); err != nil {
		return fmt.Errorf("creating database %s: %w", name, err)
	}
	return nil
}

// IsTableMissing reports whether err is a database's "no such table" error
// for any table (MySQL/MariaDB error 1146, SQLite "no such table").
func IsTableMissing(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrTableMissing) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "Error 1146") || strings.Contains(s, "doesn't exist") ||
		strings.Contains(s, "no such table")
}

// CheckColumns returns the expected registry columns the table lacks. A
// missing table is an error wrapping ErrTableMissing.
func CheckColumns(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+RegistryTable+" WHERE 1=0")
	if err != nil {
		if IsTableMissing(err) {
			return nil, fmt.Errorf("%w: %v", ErrTableMissing, err)
		}
		return nil, fmt.Errorf("reading columns of %s: %w", RegistryTable, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("reading columns of %s: %w", RegistryTable, err)
	}
	have := map[string]bool{}
	for _, c := range cols {
		have[strings.ToLower(c)] = true
	}
	var missing []string
	for _, c := range RegistryColumns {
		if !have[c] {
			missing = append(missing, c)
		}
	}
	return missing, nil
}

// Row is one registry row with the columns the API does not show.
type Row struct {
	ID int64
	Instance
	UserName    *string
	SysCode     *string
	GmtCreated  time.Time
	GmtModified time.Time
}

// Age is how long ago the row's last heartbeat was, seen from now (both in
// the controller's local time); a row that never beat has age -1.
func (r Row) Age(now time.Time) time.Duration {
	if r.LastHeartbeat == nil {
		return -1
	}
	return now.Sub(r.LastHeartbeat.Time)
}

const selectRows = "SELECT id, model_name, host, port, weight, check_healthy, healthy, enabled, " +
	"prompt_template, last_heartbeat, user_name, sys_code, gmt_created, gmt_modified FROM " + RegistryTable

// ListRows returns every registry row in id order. It works whether or not
// the MySQL connection was opened with parseTime.
func ListRows(ctx context.Context, db *sql.DB) ([]Row, error) {
	return QueryRows(ctx, db, "", nil)
}

// QueryRows returns the rows matching an optional SQL condition (placeholders
// '?'), in id order.
func QueryRows(ctx context.Context, db *sql.DB, where string, args []any) ([]Row, error) {
	q := selectRows
	if where != "" {
		q += " WHERE " + where
	}
	q += " ORDER BY id"
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		if IsTableMissing(err) {
			return nil, fmt.Errorf("%w: %v", ErrTableMissing, err)
		}
		return nil, fmt.Errorf("reading %s: %w", RegistryTable, err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var (
			r                       Row
			weight                  sql.NullFloat64
			check, healthy, enabled sql.NullBool
			prompt, user, sys       sql.NullString
			beat, created, modified dbTime
		)
		if err := rows.Scan(&r.ID, &r.ModelName, &r.Host, &r.Port, &weight, &check, &healthy, &enabled,
			&prompt, &beat, &user, &sys, &created, &modified); err != nil {
			return nil, fmt.Errorf("reading %s: %w", RegistryTable, err)
		}
		r.Weight = weight.Float64
		r.CheckHealthy, r.Healthy, r.Enabled = check.Bool, healthy.Bool, enabled.Bool
		r.PromptTemplate, r.UserName, r.SysCode = strPtr(prompt), strPtr(user), strPtr(sys)
		if beat.Valid {
			r.LastHeartbeat = &Time{beat.T}
		}
		r.GmtCreated, r.GmtModified = created.T, modified.T
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", RegistryTable, err)
	}
	return out, nil
}

// MarkUnhealthy sets healthy=0 on every row at host:port (what a controller
// does on deregister) and returns how many rows it touched.
func MarkUnhealthy(ctx context.Context, db *sql.DB, host string, port int) (int64, error) {
	res, err := db.ExecContext(ctx, "UPDATE "+RegistryTable+" SET healthy = 0 WHERE host = ? AND port = ?", host, port)
	if err != nil {
		return 0, fmt.Errorf("marking %s:%d unhealthy in %s: %w", host, port, RegistryTable, err)
	}
	return res.RowsAffected()
}

// Purge deletes every row at host:port and returns how many it deleted.
func Purge(ctx context.Context, db *sql.DB, host string, port int) (int64, error) {
	res, err := db.ExecContext(ctx, "DELETE FROM "+RegistryTable+" WHERE host = ? AND port = ?", host, port)
	if err != nil {
		return 0, fmt.Errorf("deleting rows of %s:%d from %s: %w", host, port, RegistryTable, err)
	}
	return res.RowsAffected()
}

func strPtr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	v := s.String
	return &v
}

// dbTime scans a DATETIME however the driver delivers it: time.Time (MySQL
// parseTime, which labels the wall clock UTC; SQLite), or text. The wall
// clock is kept and read as local time, as DB-GPT writes naive local times.
type dbTime struct {
	T     time.Time
	Valid bool
}

func (d *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		d.Valid = false
		return nil
	case time.Time:
		d.T = time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), time.Local)
	case []byte:
		return d.Scan(string(x))
	case string:
		if x == "" || strings.HasPrefix(x, "0000-00-00") {
			d.Valid = false
			return nil
		}
		t, err := ParseTime(x)
		if err != nil {
			return err
		}
		d.T = t
	default:
		return fmt.Errorf("cannot read %T as a date-time", v)
	}
	d.Valid = true
	return nil
}
