package defaults

import "time"

// The cluster file's argument defaults.
const (
	DBGPTVersion   = "0.6.3"
	SSHPort        = 22
	SSHUser        = "root"
	KnownHostsFile = "~/.ssh/known_hosts"
	// DeployRoot is the parent of a server's default deploy_dir, which is
	// DeployRoot/<cluster name>.
	DeployRoot   = "/opt/hactl"
	DBGPTCommand = "dbgpt"
	// ConnectTimeout bounds one SSH connection attempt.
	ConnectTimeout = 10 * time.Second
	// CommandTimeout bounds one command on a server.
	CommandTimeout = 60 * time.Second
	// LocalAddress is the address of a server with transport = "local".
	LocalAddress = "127.0.0.1"
	BindHost     = "0.0.0.0"

	ControllerPort = 8000
	WorkerPort     = 8001
	WebserverPort  = 5670
	APIServerPort  = 8100
	MySQLPort      = 3306

	// HeartbeatIntervalSecs is both the controllers' checker period and the
	// workers' heartbeat period.
	HeartbeatIntervalSecs = 20
	HeartbeatTimeoutSecs  = 60
	LogLevel              = "INFO"
	WebserverLight        = true

	ComposeDatabaseImage   = "mysql:8.0"
	ComposeManagedDatabase = true
	// ComposePublishAddress is the host address the compose provider
	// publishes components' ports on.
	ComposePublishAddress = "127.0.0.1"
	// ComposeAccess is how the compose provider reaches containers:
	// "auto", "network" or "exec".
	ComposeAccess = "auto"
)

// ComposePublish lists the components the compose provider publishes by
// default: "webserver", "apiserver" (and "controllers" when asked).
var ComposePublish = []string{"webserver", "apiserver"}

// The defaults of an apply, a destroy and a plan's checks.
const (
	// Concurrency bounds how many servers and components are worked on at
	// once: connecting, observing, deploying. The work is waiting on the
	// network and the servers, so the bound is sized for I/O: a cluster of
	// 100 servers in one wave. (Waiting for a component to become healthy
	// takes no slot at all.)
	Concurrency = 128
	// Handshakes bounds the SSH connections being set up at once, the
	// CPU-heavy part of a connection (key exchange), whatever Concurrency.
	Handshakes = 16
	// GateTimeoutControllers is how long the controllers may take to
	// become healthy.
	GateTimeoutControllers = 60 * time.Second
	// GateTimeoutWorkers is how long a worker may take to load its model
	// and register through every controller.
	GateTimeoutWorkers = 5 * time.Minute
	// GateTimeoutFrontends is how long the webserver and the API server may
	// take to become healthy.
	GateTimeoutFrontends = 2 * time.Minute
	// RequestTimeout bounds one HTTP request to a component (a health check,
	// a deregistration, a status query).
	RequestTimeout = 5 * time.Second
	// UnchangedHealthTimeout bounds a plan's health check of the
	// components it would leave unchanged.
	UnchangedHealthTimeout = 20 * time.Second
)
