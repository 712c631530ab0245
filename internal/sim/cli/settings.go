package cli

import (
	"time"
)

// ControllerSettings is a controller's resolved settings.
type ControllerSettings struct {
	Host              string
	Port              int
	DB                *DBSettings // nil: embedded (in-memory) registry
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	Log               LogSettings
}

// LogSettings is a role's logging: the level ("" = DBGPT_LOG_LEVEL, else
// INFO) and its log file (relative names are joined to the log directory).
type LogSettings struct {
	Level string
	File  string
}

// DBSettings is the registry database.
type DBSettings struct {
	Type        string // mysql or sqlite
	Name        string // MySQL database
	Path        string // SQLite file
	Host        string
	Port        int
	User        string
	Password    string
	PoolSize    int
	MaxOverflow int
}

// WorkerSettings is a worker's resolved settings.
type WorkerSettings struct {
	ModelName         string
	ModelPath         string
	NoPath            bool
	WorkerType        string
	Host              string
	Port              int
	ControllerAddr    []string
	RegisterHost      string
	Register          bool
	SendHeartbeat     bool
	HeartbeatInterval time.Duration
	PromptTemplate    *string
	Log               LogSettings

	ParamClass string   // the 0.6 parameter class or the 0.7 provider
	Dropped    []string // 0.7: model keys the provider's class lacks
	// APIKeySource names where a proxy's API key was found ("" = nowhere);
	// never the key itself.
	APIKeySource string
	// MissingKeyErr: a 0.7 proxy/openai model without a key: fails at start.
	MissingKeyErr string
}

// WebSettings is the webserver's resolved settings.
type WebSettings struct {
	Host           string
	Port           int
	Light          bool
	ControllerAddr []string
	Log            LogSettings
	// EmbeddingModel (0.6, env EMBEDDING_MODEL, default text2vec) must be a
	// key of EMBEDDING_MODEL_CONFIG; LLMModel is only looked up with .get().
	EmbeddingModel string
	LLMModel       string
	CheckEmbedding bool
	// MetaDB is the resolved SQLite path of the metadata database (0.7:
	// [service.web.database]; 0.6: pilot/meta_data/<LOCAL_DB_NAME>.db);
	// empty when MetaMySQL is set.
	MetaDB string
	// MetaMySQL is a MySQL metadata database (0.7: [service.web.database]
	// type mysql; 0.6: LOCAL_DB_TYPE=mysql and LOCAL_DB_*).
	MetaMySQL *DBSettings
}

// APISettings is the API server's resolved settings.
type APISettings struct {
	Host           string
	Port           int
	ControllerAddr []string
	APIKeys        []string
	Log            LogSettings
}
