package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// openLog opens a role's logger: level from the settings, else
// DBGPT_LOG_LEVEL, else INFO; the log file under LogDir unless absolute.
// It logs one DEBUG line, so a test sees whether DEBUG reaches the process.
func openLog(module string, ls LogSettings) (*simlog.Logger, error) {
	name := ls.Level
	if name == "" {
		name = os.Getenv("DBGPT_LOG_LEVEL")
	}
	if name == "" {
		name = "INFO"
	}
	level, ok := simlog.ParseLevel(name)
	if !ok {
		return nil, valueError(`logging/__init__.py", line 201, in _checkLevel`, "Unknown level: '%s'", name)
	}
	file := ls.File
	if file != "" && !filepath.IsAbs(file) {
		file = filepath.Join(LogDir(), file)
	}
	log, err := simlog.New(module, file)
	if err != nil {
		return nil, err
	}
	log.SetLevel(level)
	log.Debugf("Logging level %s, log file %s", strings.ToUpper(name), file)
	return log, nil
}

func runController(ctx context.Context, s ControllerSettings) error {
	log, err := openLog("dbgpt.model.cluster.controller.controller", s.Log)
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
	log, err := openLog("dbgpt.model.cluster.worker.manager", s.Log)
	if err != nil {
		return err
	}
	defer log.Close()
	failAfter, err := envDuration(EnvFailAfter, 0)
	if err != nil {
		return err
	}
	if failAfter > 0 {
		time.AfterFunc(failAfter, func() {
			log.Raw("Traceback (most recent call last):\n" +
				"  File \"dbgpt/model/cluster/worker/default_worker.py\", line 94, in start\n" +
				"    import torch\n" +
				"ModuleNotFoundError: No module named 'torch'")
			log.Close()
			os.Exit(1)
		})
	}
	log.Infof("Model parameter class: %s", s.ParamClass)
	for _, k := range s.Dropped {
		log.Debugf("Ignoring key %q: the %s provider's parameters have no such field", k, s.ParamClass)
	}
	if s.NoPath {
		if s.APIKeySource != "" {
			log.Infof("Proxy model %s: API key found (%s)", s.ModelName, s.APIKeySource)
		} else {
			log.Warnf("Proxy model %s: no API key found (flag --proxy_api_key, environment %sPROXY_API_KEY or PROXY_API_KEY)",
				s.ModelName, strings.ToUpper(envPrefix(s.ModelName)))
		}
	}
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
		if errors.Is(err, worker.ErrModelPath) {
			// Observed on v0.6.3: a model that fails to load is logged and
			// the process exits 0.
			log.Errorf("Error starting worker manager: %v", err)
			log.Raw("Traceback (most recent call last):\n" +
				"  File \"dbgpt/model/cluster/worker/manager.py\", line 578, in _start_all_worker\n" +
				"OSError: Incorrect path_or_model_id: '" + s.ModelPath + "'. Please provide either the path to a local folder or the repo_id of a model on the Hub.")
			return nil
		}
		log.Errorf("%v", err)
		return err
	}
	return nil
}

func runWeb(ctx context.Context, s WebSettings) error {
	log, err := openLog("dbgpt.app.dbgpt_server", s.Log)
	if err != nil {
		return err
	}
	defer log.Close()
	if s.CheckEmbedding && !embeddingModelConfig[s.EmbeddingModel] {
		// initialize_app: EMBEDDING_MODEL_CONFIG[CFG.EMBEDDING_MODEL].
		return &pyExc{Where: "dbgpt/app/dbgpt_server.py\", line 167, in initialize_app\n    embedding_model_path = EMBEDDING_MODEL_CONFIG[CFG.EMBEDDING_MODEL]",
			Exc: "KeyError: '" + s.EmbeddingModel + "'"}
	}
	if s.LLMModel != "" {
		log.Infof("Default LLM model: %s", s.LLMModel)
	}
	var meta *web.MetaDB
	switch {
	case s.MetaMySQL != nil:
		if meta, err = openMetaMySQL(ctx, s.MetaMySQL, log); err != nil {
			return err
		}
	case s.MetaDB != "":
		if meta, err = createMetaDB(ctx, s.MetaDB); err != nil {
			return err
		}
		log.Infof("Meta data database: sqlite:///%s", s.MetaDB)
	}
	if meta != nil {
		defer meta.DB.Close()
	}
	probe, err := envDuration(EnvProbeInterval, 5*time.Second)
	if err != nil {
		return err
	}
	return web.RunWebserver(ctx, web.WebConfig{Host: s.Host, Port: s.Port, Light: s.Light, ControllerAddr: s.ControllerAddr, ProbeInterval: probe, Log: log, Meta: meta})
}

// openMetaMySQL opens a MySQL metadata database as DB-GPT does: it creates
// the database when it is missing (and fails the start on any other
// connection error), but never its tables: "For safety considerations,
// MySQL Database not support DDL init and upgrade".
func openMetaMySQL(ctx context.Context, d *DBSettings, log *simlog.Logger) (*web.MetaDB, error) {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.DBName = d.User, d.Password, d.Name
	c.Net, c.Addr = "tcp", net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
	c.Params = map[string]string{"charset": "utf8mb4"}
	c.Timeout = 10 * time.Second
	db, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1049 {
			db.Close()
			log.Errorf("Error connecting to database %s: %v", d.Name, err)
			return nil, fmt.Errorf("meta data database mysql://%s@%s/%s: %w", d.User, c.Addr, d.Name, err)
		}
		nc := c.Clone()
		nc.DBName = ""
		ndb, err := sql.Open("mysql", nc.FormatDSN())
		if err == nil {
			_, err = ndb.ExecContext(pctx, "CREATE DATABASE `"+strings.ReplaceAll(d.Name, "`", "``")+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
			ndb.Close()
		}
		if err != nil {
			db.Close()
			log.Errorf("Failed to create database %s: %v", d.Name, err)
			return nil, err
		}
		log.Infof("Database %s successfully created", d.Name)
	} else {
		log.Infof("Database %s already exists", d.Name)
	}
	log.Warnf("For safety considerations, MySQL Database not support DDL init and upgrade. 1.If you are use DB-GPT firstly, please manually execute the following command to initialize, `mysql -h127.0.0.1 -uroot -p{your_password} < ./assets/schema/dbgpt.sql`")
	log.Infof("Meta data database: mysql+pymysql://%s:******@%s/%s", d.User, c.Addr, d.Name)
	return &web.MetaDB{DB: db, Dialect: "mysql"}, nil
}

func runAPI(ctx context.Context, s APISettings) error {
	log, err := openLog("dbgpt.model.cluster.apiserver.api", s.Log)
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

// createMetaDB opens the webserver's SQLite metadata database and creates
// its tables, as DB-GPT does for SQLite (create_all).
func createMetaDB(ctx context.Context, path string) (*web.MetaDB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	for _, ddl := range []string{"CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)", web.ChatHistoryDDL("sqlite")} {
		if _, err = db.ExecContext(ctx, ddl); err != nil {
			db.Close()
			return nil, fmt.Errorf("(sqlite3.OperationalError) meta data database %s: %w", path, err)
		}
	}
	return &web.MetaDB{DB: db, Dialect: "sqlite"}, nil
}
