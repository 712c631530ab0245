package registry

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
)

// Storage is DB-GPT's StorageModelRegistry over the registry table. It never
// creates the table on MySQL; on SQLite the caller may call
// dbgpt.EnsureSchema first, as SQLAlchemy's create_all does there.
type Storage struct {
	DB      *sql.DB
	Dialect dbgpt.Dialect
}

// stamp renders now as the DATETIME value DB-GPT writes: the naive local time,
// whole seconds for MySQL (MariaDB truncates; the sim truncates itself so
// MySQL's rounding never shows), microseconds for SQLite as SQLAlchemy stores.
func (s *Storage) stamp() string {
	now := Now()
	if s.Dialect == dbgpt.MySQL {
		return now.Format("2006-01-02 15:04:05")
	}
	return now.Format("2006-01-02 15:04:05.000000")
}

func (s *Storage) first(ctx context.Context, inst dbgpt.Instance) (*dbgpt.Row, error) {
	rows, err := dbgpt.QueryRows(ctx, s.DB, "model_name = ? AND host = ? AND port = ?",
		[]any{inst.ModelName, inst.Host, inst.Port})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

func (s *Storage) exec(ctx context.Context, q string, args ...any) error {
	if _, err := s.DB.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

func (s *Storage) register(ctx context.Context, inst dbgpt.Instance, exist *dbgpt.Row) error {
	if exist != nil {
		return s.exec(ctx, "UPDATE "+dbgpt.RegistryTable+" SET weight = ?, healthy = 1, prompt_template = ?, last_heartbeat = ? WHERE id = ?",
			inst.Weight, inst.PromptTemplate, s.stamp(), exist.ID)
	}
	return s.exec(ctx, "INSERT INTO "+dbgpt.RegistryTable+
		" (model_name, host, port, weight, check_healthy, healthy, enabled, prompt_template, last_heartbeat) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)",
		inst.ModelName, inst.Host, inst.Port, inst.Weight, inst.CheckHealthy, inst.Enabled, inst.PromptTemplate, s.stamp())
}

func (s *Storage) Register(ctx context.Context, inst dbgpt.Instance) error {
	exist, err := s.first(ctx, inst)
	if err != nil {
		return err
	}
	return s.register(ctx, inst, exist)
}

func (s *Storage) Deregister(ctx context.Context, inst dbgpt.Instance) error {
	exist, err := s.first(ctx, inst)
	if err != nil || exist == nil {
		return err
	}
	return s.exec(ctx, "UPDATE "+dbgpt.RegistryTable+" SET healthy = 0 WHERE id = ?", exist.ID)
}

func (s *Storage) Heartbeat(ctx context.Context, inst dbgpt.Instance) error {
	exist, err := s.first(ctx, inst)
	if err != nil {
		return err
	}
	if exist == nil {
		return s.register(ctx, inst, nil)
	}
	return s.exec(ctx, "UPDATE "+dbgpt.RegistryTable+" SET last_heartbeat = ?, healthy = 1 WHERE id = ?", s.stamp(), exist.ID)
}

func (s *Storage) List(ctx context.Context, modelName string, healthyOnly bool) ([]dbgpt.Instance, error) {
	where, args := "", []any{}
	if modelName != "" {
		where, args = "model_name = ?", append(args, modelName)
	}
	if healthyOnly {
		if where != "" {
			where += " AND "
		}
		where += "healthy = 1"
	}
	rows, err := dbgpt.QueryRows(ctx, s.DB, where, args)
	if err != nil {
		return nil, err
	}
	out := make([]dbgpt.Instance, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.Instance)
	}
	return out, nil
}

func (s *Storage) Check(ctx context.Context, timeout time.Duration) error {
	rows, err := dbgpt.ListRows(ctx, s.DB)
	if err != nil {
		return err
	}
	now := Now()
	for _, r := range rows {
		if !r.CheckHealthy {
			continue
		}
		if r.LastHeartbeat == nil {
			return errNoHeartbeat
		}
		if now.Sub(r.LastHeartbeat.Time) > timeout && r.Healthy {
			if err := s.exec(ctx, "UPDATE "+dbgpt.RegistryTable+" SET healthy = 0 WHERE id = ?", r.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// RunChecker is the controller's heartbeat checker thread: Check at once,
// then every interval. Like DB-GPT's, it dies on its first error, which it
// hands to died, and never restarts. passed, when not nil, is called with
// the count of passes after each one that succeeded (the sim's trace; DB-GPT
// logs nothing).
func RunChecker(ctx context.Context, r Registry, interval, timeout time.Duration, passed func(n int), died func(error)) {
	for n := 1; ; n++ {
		if err := r.Check(ctx, timeout); err != nil {
			if ctx.Err() == nil {
				died(err)
			}
			return
		}
		if passed != nil {
			passed(n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
