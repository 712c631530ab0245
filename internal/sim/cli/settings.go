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
	LogFile           string
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
	LogFile           string
}

// WebSettings is the webserver's resolved settings.
type WebSettings struct {
	Host           string
	Port           int
	Light          bool
	ControllerAddr []string
	LogFile        string
}

// APISettings is the API server's resolved settings.
type APISettings struct {
	Host           string
	Port           int
	ControllerAddr []string
	APIKeys        []string
	LogFile        string
}
