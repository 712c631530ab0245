package cli

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite" // registers "sqlite"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/sim/controller"
	"github.com/hactl/hactl/internal/sim/registry"
	"github.com/hactl/hactl/internal/sim/simlog"
	"github.com/hactl/hactl/internal/sim/web"
	"github.com/hactl/hactl/internal/sim/worker"
)

func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a Go duration (e.g. 1s, 200ms)", name, v)
	}
	return d, nil
}

// openRegistry opens the registry a controller uses. It does not connect to
// MySQL: like SQLAlchemy's lazy engine, a database that is down or lacks the
// table shows up on the first query.
func openRegistry(ctx context.Context, d *DBSettings) (registry.Registry, string, func(), error) {
	if d == nil {
		return registry.NewMemory(), "EmbeddedModelRegistry", func() {}, nil
	}
	switch d.Type {
	case "mysql":
		c := mysql.NewConfig()
		c.User, c.Passwd, c.DBName = d.User, d.Password, d.Name
		host := d.Host
		if host == "" {
			host = "127.0.0.1"
		}
		port := d.Port
		if port == 0 {
			port = 3306
		}
		c.Net, c.Addr = "tcp", net.JoinHostPort(host, strconv.Itoa(port))
		c.Params = map[string]string{"charset": "utf8mb4"}
		c.Timeout = 10 * time.Second
		db, err := sql.Open("mysql", c.FormatDSN())
		if err != nil {
			return nil, "", nil, err
		}
		db.SetMaxOpenConns(d.PoolSize + d.MaxOverflow)
		db.SetMaxIdleConns(d.PoolSize)
		db.SetConnMaxLifetime(time.Hour)
		return &registry.Storage{DB: db, Dialect: dbgpt.MySQL},
			fmt.Sprintf("StorageModelRegistry(mysql://%s@%s/%s)", d.User, c.Addr, d.Name), func() { db.Close() }, nil
	case "sqlite":
		path := d.Path
		if path == "" {
			path = d.Name
		}
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			return nil, "", nil, err
		}
		if err := dbgpt.EnsureSchema(ctx, db, dbgpt.SQLite); err != nil {
			db.Close()
			return nil, "", nil, fmt.Errorf("sqlite registry %s: %w", path, err)
		}
		return &registry.Storage{DB: db, Dialect: dbgpt.SQLite}, "StorageModelRegistry(sqlite:///" + path + ")", func() { db.Close() }, nil
	}
	return nil, "", nil, fmt.Errorf("Unsupported registry database type: %s (mysql or sqlite)", d.Type)
}

func runController(ctx context.Context, s ControllerSettings) error {
	log, err := simlog.New("dbgpt.model.cluster.controller.controller", s.LogFile)
	if err != nil {
		return err
	}
	defer log.Close()
	reg, desc, closeReg, err := openRegistry(ctx, s.DB)
	if err != nil {
		return err
	}
	defer closeReg()
	log.Infof("Model Controller Parameters: host=%s, port=%d, registry=%s, heartbeat_interval_secs=%d, heartbeat_timeout_secs=%d, registry_db_password=******",
		s.Host, s.Port, desc, int(s.HeartbeatInterval/time.Second), int(s.HeartbeatTimeout/time.Second))
	interval := s.HeartbeatInterval
	if interval <= 0 {
		interval = 20 * time.Second
	}
	var passed func(int)
	if os.Getenv(EnvTraceChecker) != "" {
		passed = func(n int) { log.Infof("%s %d", CheckerPassTrace, n) }
	}
	go registry.RunChecker(ctx, reg, interval, s.HeartbeatTimeout, passed, func(err error) { controller.CheckerDied(log, err) })
	api := &controller.API{Reg: reg, Log: log}
	return web.Serve(ctx, log, s.Host, s.Port, api.Handler())
}

func runWorker(ctx context.Context, s WorkerSettings) error {
	log, err := simlog.New("dbgpt.model.cluster.worker.manager", s.LogFile)
	if err != nil {
		return err
	}
	defer log.Close()
	c := worker.Config{ModelName: s.ModelName, WorkerType: s.WorkerType, ModelPath: s.ModelPath, NoPath: s.NoPath,
		Host: s.Host, Port: s.Port, ControllerAddr: s.ControllerAddr, RegisterHost: s.RegisterHost,
		Register: s.Register, SendHeartbeat: s.SendHeartbeat, HeartbeatInterval: s.HeartbeatInterval,
		PromptTemplate: s.PromptTemplate, Log: log}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 20 * time.Second
	}
	for _, k := range []struct {
		env string
		dst *time.Duration
		def time.Duration
	}{{EnvLoadDelay, &c.LoadDelay, time.Second}, {EnvRegisterDelay, &c.RegisterDelay, time.Second},
		{EnvProbeInterval, &c.ProbeInterval, 5 * time.Second}, {EnvManagerHeartbeat, &c.ManagerHeartbeat, 20 * time.Second}} {
		if *k.dst, err = envDuration(k.env, k.def); err != nil {
			return err
		}
	}
	if err := worker.Run(ctx, c); err != nil {
		log.Errorf("%v", err)
		return err
	}
	return nil
}

func runWeb(ctx context.Context, s WebSettings) error {
	log, err := simlog.New("dbgpt.app.dbgpt_server", s.LogFile)
	if err != nil {
		return err
	}
	defer log.Close()
	probe, err := envDuration(EnvProbeInterval, 5*time.Second)
	if err != nil {
		return err
	}
	return web.RunWebserver(ctx, web.WebConfig{Host: s.Host, Port: s.Port, Light: s.Light, ControllerAddr: s.ControllerAddr, ProbeInterval: probe, Log: log})
}

func runAPI(ctx context.Context, s APISettings) error {
	log, err := simlog.New("dbgpt.model.cluster.apiserver.api", s.LogFile)
	if err != nil {
		return err
	}
	defer log.Close()
	probe, err := envDuration(EnvProbeInterval, 5*time.Second)
	if err != nil {
		return err
	}
	return web.RunAPIServer(ctx, web.APIConfig{Host: s.Host, Port: s.Port, ControllerAddr: s.ControllerAddr, APIKeys: s.APIKeys, ProbeInterval: probe, Log: log})
}
