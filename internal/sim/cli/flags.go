package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/sim/upstream"
)

func text(name, def, help string) Option {
	return Option{Name: name, Kind: "TEXT", Default: def, Help: help}
}
func integer(name, def, help string) Option {
	return Option{Name: name, Kind: "INTEGER", Default: def, Help: help}
}
func flag(name, help string) Option { return Option{Name: name, Help: help} }

// log_level has valid_values in DB-GPT, but its click option is built as
// click.STRING (the str type overrides the Choice): any value passes.
var logLevelOpt = text("log_level", "", "Logging level")

// logOpts are a role's logging options; file is its default log file name,
// joined to DB-GPT's LOGDIR ($DBGPT_LOG_DIR, else <root>/logs).
func logOpts(file string) []Option {
	return []Option{
		logLevelOpt,
		text("log_file", file+".log", "The filename to store log"),
		text("tracer_file", file+"_tracer.jsonl", "The filename to store tracer span records"),
	}
}

// Flags generation (v0.5.9 – v0.6.3) commands.
var (
	flagsController = &Command{
		Path: "dbgpt start controller", Summary: "Start model controller",
		EnvPrefix: []string{"controller_"},
		Options: append([]Option{
			text("host", "0.0.0.0", "Model Controller deploy host"),
			integer("port", "8000", "Model Controller deploy port"),
			flag("daemon", "Run Model Controller in background"),
			text("registry_type", "embedded", "Registry type: embedded or database"),
			text("registry_db_type", "mysql", "Registry database type, now only support sqlite and mysql, it is valid when registry_type is database"),
			text("registry_db_name", "dbgpt", "Registry database name, just for database, it is valid when registry_type is database, please set to full database path for sqlite"),
			text("registry_db_host", "", "Registry database host, just for database, it is valid when registry_type is database"),
			integer("registry_db_port", "", "Registry database port, just for database, it is valid when registry_type is database"),
			text("registry_db_user", "", "Registry database user, just for database, it is valid when registry_type is database"),
			text("registry_db_password", "", "Registry database password, just for database, it is valid when registry_type is database. We recommend to use environment variable to store password, you can set it in your environment variable like export CONTROLLER_REGISTRY_DB_PASSWORD='your_password'"),
			integer("registry_db_pool_size", "5", "Registry database pool size, just for database, it is valid when registry_type is database"),
			integer("registry_db_max_overflow", "10", "Registry database max overflow, just for database, it is valid when registry_type is database"),
			integer("heartbeat_interval_secs", "20", "The interval for checking heartbeats (seconds)"),
			integer("heartbeat_timeout_secs", "60", "The timeout for checking heartbeats (seconds), it will be set unhealthy if the worker is not response in this time"),
			text("tracer_storage_cls", "", "The storage class to storage tracer span records"),
		}, logOpts("dbgpt_model_controller")...),
	}
	flagsWebserver = &Command{
		Path: "dbgpt start webserver", Summary: "Start webserver(dbgpt_server.py)",
		EnvPrefix: []string{"webserver_"},
		Options: append([]Option{
			text("host", "0.0.0.0", "Webserver deploy host"),
			integer("port", "5670", "Webserver deploy port"),
			flag("daemon", "Run Webserver in background"),
			text("controller_addr", "", "The Model controller address to connect. If None, read model controller address from environment key `MODEL_SERVER`."),
			text("model_name", "", "The default model name to use. If None, read model name from environment key `LLM_MODEL`."),
			flag("share", "Whether to create a publicly shareable link for the interface. Creates an SSH tunnel to make your UI accessible from anywhere."),
			flag("remote_embedding", "Whether to enable remote embedding models. If it is True, you need to start a embedding model through `dbgpt start worker --worker_type text2vec --model_name xxx --model_path xxx`"),
			flag("remote_rerank", "Whether to enable remote rerank models."),
			flag("light", "enable light mode"),
			flag("disable_alembic_upgrade", "Whether to disable alembic to initialize and upgrade database metadata"),
			text("awel_dirs", "", "The directories to load awel files, split by `,`"),
		}, logOpts("dbgpt_webserver")...),
	}
	flagsAPIServer = &Command{
		Path: "dbgpt start apiserver", Summary: "Start apiserver",
		EnvPrefix: []string{"apiserver_"},
		Options: append([]Option{
			text("host", "0.0.0.0", "Model API server deploy host"),
			integer("port", "8100", "Model API server deploy port"),
			flag("daemon", "Run Model API server in background"),
			text("controller_addr", "http://127.0.0.1:8000", "The Model controller address to connect"),
			text("api_keys", "", "Optional list of comma separated API keys"),
			integer("embedding_batch_size", "", "Embedding batch size"),
			flag("ignore_stop_exceeds_error", "Ignore exceeds error"),
		}, logOpts("dbgpt_model_apiserver")...),
	}
)

// The TOML generation (v0.7.0 and later): a config file and --daemon only.
func tomlCommand(role, summary string) *Command {
	return &Command{Path: "dbgpt start " + role, Summary: summary, Options: []Option{
		{Name: "config", Short: "c", Kind: "TEXT", Help: "The config file path"},
		flag("daemon", "Run in daemon mode"),
	}}
}

func secs(p *Parsed, name string) (time.Duration, error) {
	n, err := p.Int(name)
	return time.Duration(n) * time.Second, err
}

func controllerFromFlags(p *Parsed) (ControllerSettings, error) {
	s := ControllerSettings{Host: p.Str("host"), Log: logFromFlags(p)}
	err := p.Require()
	if err != nil {
		return s, err
	}
	if s.Port, err = p.Int("port"); err != nil {
		return s, err
	}
	switch rt := p.Str("registry_type"); rt {
	case "embedded":
	case "database":
		s.DB = &DBSettings{Type: p.Str("registry_db_type"), Name: p.Str("registry_db_name"),
			Host: p.Str("registry_db_host"), User: p.Str("registry_db_user"), Password: p.Str("registry_db_password")}
		if s.DB.Port, err = p.Int("registry_db_port"); err != nil {
			return s, err
		}
		if s.DB.PoolSize, err = p.Int("registry_db_pool_size"); err != nil {
			return s, err
		}
		if s.DB.MaxOverflow, err = p.Int("registry_db_max_overflow"); err != nil {
			return s, err
		}
		if s.DB.Type == "sqlite" {
			s.DB.Path = s.DB.Name
		}
	default:
		return s, fmt.Errorf("Unsupported registry type: %s", rt)
	}
	if s.HeartbeatInterval, err = secs(p, "heartbeat_interval_secs"); err != nil {
		return s, err
	}
	if s.HeartbeatTimeout, err = secs(p, "heartbeat_timeout_secs"); err != nil {
		return s, err
	}
	return s, nil
}

// logFromFlags reads --log_level and --log_file.
func logFromFlags(p *Parsed) LogSettings {
	return LogSettings{Level: p.Str("log_level"), File: p.Str("log_file")}
}

func workerFromFlags(p *Parsed, mc modelClass) (WorkerSettings, error) {
	// EnvArgumentParser.get_env_prefix: the model name with '-' → '_' plus
	// '_'; each variable is tried as is, upper- and lower-cased:
	// glm-4-9b-chat → GLM_4_9B_CHAT_MODEL_PATH.
	name := p.Str("model_name")
	p.cmd = withPrefix(p.cmd, []string{envPrefix(name)})
	if err := p.Require(); err != nil {
		return WorkerSettings{}, err
	}
	s := WorkerSettings{ModelName: name, ModelPath: p.Str("model_path"), WorkerType: p.Str("worker_type"),
		Host: p.Str("host"), RegisterHost: p.Str("worker_register_host"), Log: logFromFlags(p),
		ControllerAddr: upstream.SplitAddrs(p.Str("controller_addr")), Register: true, SendHeartbeat: true,
		ParamClass: mc.Name}
	if a := p.Str("model_alias"); a != "" {
		s.ModelName = a
	}
	if s.WorkerType == "" {
		s.WorkerType = "llm"
	}
	if len(s.ControllerAddr) == 0 {
		s.ControllerAddr = []string{"http://127.0.0.1:8000"}
	}
	if v, ok := p.Get("register"); ok {
		s.Register = truthy(v)
	}
	if v, ok := p.Get("send_heartbeat"); ok {
		s.SendHeartbeat = truthy(v)
	}
	// The model is loaded under its registered name (model_alias wins): the
	// proxy is chosen by that name (embeddings) or by name or path (LLMs).
	if s.WorkerType == "text2vec" {
		s.NoPath = proxyEmbeddingNames[s.ModelName]
	} else {
		s.NoPath = isProxyLLM(s.ModelName, s.ModelPath)
	}
	if s.NoPath {
		// The model's parameters are read with the loaded name's prefix, then
		// the bare name.
		mp := &Parsed{cmd: withPrefix(p.cmd, []string{envPrefix(s.ModelName)}), given: p.given, env: p.env}
		if _, ok := p.given["proxy_api_key"]; ok {
			s.APIKeySource = "--proxy_api_key"
		} else {
			for _, k := range []string{envPrefix(s.ModelName) + "proxy_api_key", "proxy_api_key"} {
				if n, ok := mp.lookupEnvName(k); ok {
					s.APIKeySource = n
					break
				}
			}
		}
	}
	if t := p.Str("prompt_template"); t != "" {
		s.PromptTemplate = &t
	}
	var err error
	if s.Port, err = p.Int("port"); err != nil {
		return s, err
	}
	if s.HeartbeatInterval, err = secs(p, "heartbeat_interval"); err != nil {
		return s, err
	}
	return s, nil
}

// envPrefix is EnvArgumentParser.get_env_prefix.
func envPrefix(modelName string) string {
	return strings.ReplaceAll(modelName, "-", "_") + "_"
}

func withPrefix(c *Command, prefix []string) *Command {
	cc := *c
	cc.EnvPrefix = prefix
	return &cc
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "y", "on":
		return true
	}
	return false
}

func webFromFlags(p *Parsed) (WebSettings, error) {
	p.extraEnv = map[string][]string{"port": {"DBGPT_WEBSERVER_PORT"}, "controller_addr": {"MODEL_SERVER"}, "model_name": {"LLM_MODEL"}}
	s := WebSettings{Host: p.Str("host"), Light: p.Bool("light"), Log: logFromFlags(p),
		ControllerAddr: upstream.SplitAddrs(p.Str("controller_addr")), LLMModel: p.Str("model_name"), CheckEmbedding: true}
	// dbgpt/_private/config.py: os.getenv("EMBEDDING_MODEL", "text2vec").
	s.EmbeddingModel = "text2vec"
	if v, ok := os.LookupEnv("EMBEDDING_MODEL"); ok {
		s.EmbeddingModel = v
	}
	if len(s.ControllerAddr) == 0 {
		s.ControllerAddr = []string{"http://127.0.0.1:8000"}
	}
	if err := p.Require(); err != nil {
		return s, err
	}
	var err error
	if s.Port, err = p.Int("port"); err != nil {
		return s, err
	}
	err = metaFromEnv06(&s)
	return s, err
}

// metaFromEnv06 reads the metadata database as DB-GPT 0.6 does
// (dbgpt/_private/config.py, dbgpt/app/base.py _initialize_db): LOCAL_DB_TYPE
// (sqlite), LOCAL_DB_NAME (dbgpt); for mysql LOCAL_DB_HOST (127.0.0.1),
// LOCAL_DB_PORT (3306), LOCAL_DB_USER (root), LOCAL_DB_PASSWORD (aa123456);
// for sqlite the file os.path.join(<root>/pilot/meta_data, NAME + ".db"),
// which is NAME + ".db" itself when NAME is absolute.
func metaFromEnv06(s *WebSettings) error {
	get := func(k, def string) string {
		if v, ok := os.LookupEnv(k); ok {
			return v
		}
		return def
	}
	name := get("LOCAL_DB_NAME", "dbgpt")
	if get("LOCAL_DB_TYPE", "sqlite") != "mysql" {
		s.MetaDB = filepath.Join(InstallRoot(), "pilot", "meta_data", name+".db")
		if filepath.IsAbs(name) {
			s.MetaDB = name + ".db"
		}
		return nil
	}
	port, err := strconv.Atoi(get("LOCAL_DB_PORT", "3306"))
	if err != nil {
		return valueError(`dbgpt/_private/config.py", line 183, in __init__`, "invalid literal for int() with base 10: '%s'", get("LOCAL_DB_PORT", ""))
	}
	s.MetaMySQL = &DBSettings{Type: "mysql", Name: name, Host: get("LOCAL_DB_HOST", "127.0.0.1"), Port: port,
		User: get("LOCAL_DB_USER", "root"), Password: get("LOCAL_DB_PASSWORD", "aa123456"), PoolSize: 10, MaxOverflow: 20}
	return nil
}

func apiFromFlags(p *Parsed) (APISettings, error) {
	s := APISettings{Host: p.Str("host"), Log: logFromFlags(p), ControllerAddr: upstream.SplitAddrs(p.Str("controller_addr"))}
	for _, k := range strings.Split(p.Str("api_keys"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			s.APIKeys = append(s.APIKeys, k)
		}
	}
	var err error
	s.Port, err = p.Int("port")
	return s, err
}
