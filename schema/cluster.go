package schema

import (
	"net"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// This file is the contract between the cluster-file language and the rest of
// hactl: after decoding and validation every value below is known and checked.
// Other packages read these types; only this package builds them.

// Generation is the DB-GPT command-line generation a cluster is deployed with.
type Generation string

const (
	// GenerationFlags is DB-GPT v0.5.9 – v0.6.x: every setting is a flag or an
	// environment variable.
	GenerationFlags Generation = "0.6"
	// GenerationTOML is DB-GPT v0.7.0 and later: `dbgpt start X -c FILE`.
	GenerationTOML Generation = "0.7"
)

// Worker types, as DB-GPT names them (the part after '@' in a registry row).
const (
	WorkerTypeLLM      = "llm"
	WorkerTypeText2Vec = "text2vec"
	WorkerTypeReranker = "reranker"
)

// Registry types.
const (
	RegistryMySQL    = "mysql"
	RegistrySQLite   = "sqlite"
	RegistryEmbedded = "embedded" // in-memory, one controller only
)

// Transports: how hactl reaches a server.
const (
	TransportSSH   = "ssh"
	TransportLocal = "local"
)

// Host key policies for SSH.
const (
	HostKeyStrict    = "strict"     // must be in known_hosts (default)
	HostKeyAcceptNew = "accept-new" // unknown hosts are added, mismatches fail
	HostKeyInsecure  = "insecure"   // no verification
)

// Roles of deployable components.
const (
	RoleController = "controller"
	RoleWorker     = "worker"
	RoleWebserver  = "webserver"
	RoleAPIServer  = "apiserver"
)

// Secret is a value that must never be printed, logged or put on a command
// line. Its String method returns "(sensitive)" so an accidental %v is safe.
type Secret struct {
	value string
}

// NewSecret wraps a value as a Secret.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the secret value. Call it only where the value is written to
// an owner-only file, an environment, or a database connection.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret has a non-empty value.
func (s Secret) IsSet() bool { return s.value != "" }

// String implements fmt.Stringer without revealing the value.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return "(sensitive)"
}

// GoString keeps %#v from revealing the value.
func (s Secret) GoString() string { return "schema.Secret(" + s.String() + ")" }

// MarshalJSON keeps JSON output from revealing the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"(sensitive)"`), nil }

// Cluster is one fully decoded and validated cluster file.
type Cluster struct {
	Name       string
	Generation Generation
	// Version is the declared DB-GPT version, e.g. "0.6.3" or "0.7.0"; it
	// always agrees with Generation.
	Version string

	// Servers, Models, Controllers and Workers keep the order of the file.
	Servers     []*Server
	Registry    *Registry
	Models      []*Model
	Controllers []*Controller
	Workers     []*Worker
	Webserver   *Webserver // nil when the file declares none
	APIServer   *APIServer // nil when the file declares none
	Compose     *Compose   // settings used only by the compose provider; never nil

	// sensitiveValues are the values of variables declared sensitive.
	sensitiveValues []string
	// variables are every declared variable's value, for Variables.
	variables []VariableValue

	// Filename is the path of the main cluster file.
	Filename  string
	DeclRange hcl.Range
}

// Server is one machine hactl deploys to.
type Server struct {
	Name    string
	Address string // the address other components use to reach it; workers register with it
	// Transport is TransportSSH or TransportLocal.
	Transport string
	SSH       SSHSettings
	// DeployDir is the absolute directory under which hactl keeps every
	// component's files on this server (default /opt/hactl/<cluster name>).
	DeployDir string
	// DBGPTCommand is the dbgpt command as the file writes it: a path or
	// name, possibly with arguments (a venv's python -m ...).
	DBGPTCommand string
	// DBGPTArgv is DBGPTCommand split into words (shell-style quoting), the
	// program first. Never empty after decoding.
	DBGPTArgv []string
	// Env is the environment every component on this server gets (defaults'
	// env merged under the server's own); a component's env wins.
	Env map[string]string
	// RunAs is the user the components' processes run as and who owns
	// their files; "" = the user hactl's commands run as (see CommandUser).
	RunAs string
	// LogMaxSize caps each component's hactl log in bytes (log_max_size):
	// past it the log is moved aside to log.1.
	LogMaxSize int64
	DeclRange  hcl.Range
}

// CommandUser is the user hactl's commands run as on the server: root
// with sudo, else the SSH user (with the local transport, the user
// running hactl).
func (s *Server) CommandUser() string {
	if s.SSH.Sudo {
		return "root"
	}
	if s.Transport == TransportLocal {
		if u, err := user.Current(); err == nil {
			return u.Username
		}
		return ""
	}
	return s.SSH.User
}

// ProcessUser is the user the server's components run as: RunAs, or the
// command user.
func (s *Server) ProcessUser() string {
	if s.RunAs != "" {
		return s.RunAs
	}
	return s.CommandUser()
}

// SSHSettings says how to reach a server over SSH.
type SSHSettings struct {
	Port           int    // default 22
	User           string // default "root"
	KeyFile        string // private key file on the operator's machine; empty means agent
	UseAgent       bool   // use SSH_AUTH_SOCK
	HostKeyPolicy  string // HostKeyStrict, HostKeyAcceptNew or HostKeyInsecure
	KnownHostsFile string // default ~/.ssh/known_hosts
	Sudo           bool   // run commands through sudo -n (for non-root users)
	Jump           *JumpHost
	ConnectTimeout time.Duration // default 10s
	CommandTimeout time.Duration // default 60s
}

// JumpHost is an SSH bastion through which a server is reached.
type JumpHost struct {
	Address string
	Port    int
	User    string
	KeyFile string
}

// Registry is the model registry storage shared by the controllers.
type Registry struct {
	Type string // RegistryMySQL, RegistrySQLite or RegistryEmbedded

	// MySQL
	Host           string
	Port           int // default 3306
	Database       string
	User           string
	Password       Secret
	CreateDatabase bool // hactl may CREATE DATABASE IF NOT EXISTS
	PoolSize       int  // 0 = DB-GPT default
	MaxOverflow    int  // 0 = DB-GPT default

	// SQLite: the database file on the controllers' server.
	Path string

	DeclRange hcl.Range
}

// Model is one model a worker serves.
type Model struct {
	Name       string // as registered: "<Name>@<WorkerType>"
	WorkerType string // WorkerTypeLLM, WorkerTypeText2Vec or WorkerTypeReranker
	// Path is the model's weights on the worker's server; empty for a proxy.
	Path string
	// Provider is what backs the model, in DB-GPT 0.7's words, in both
	// generations: "hf" (the default for a model with a path), "vllm",
	// "llama.cpp", or a proxy "proxy/openai", "proxy/zhipu", ...
	Provider string
	// APIBase is a proxy's server URL (api_base); empty = the provider's default.
	APIBase string
	// APIKey is a proxy's API key.
	APIKey Secret
	// Backend is the model's name at the proxy (e.g. "gpt-4o-mini"); empty =
	// the provider's default.
	Backend string
	// StartTimeout is how long a worker of this model may take to load and
	// register; 0 means defaults.GateTimeoutWorkers.
	StartTimeout time.Duration
	// Params are extra model parameters, passed as --key value (flags
	// generation) or as keys of the model's TOML table. Sorted by key when rendered.
	Params map[string]string
	// ParamRanges are where each params key is written, for errors found
	// after decoding (a key the installed DB-GPT does not accept).
	ParamRanges map[string]hcl.Range
	DeclRange   hcl.Range
}

// IsProxy reports whether the model is served by a remote API (no weights).
func (m *Model) IsProxy() bool { return strings.HasPrefix(m.Provider, ProviderProxyPrefix) }

// Model providers.
const (
	ProviderHF          = "hf"
	ProviderProxyPrefix = "proxy/"
	ProviderOpenAI      = "proxy/openai"
)

// Controller is one model controller process.
type Controller struct {
	Name                  string
	Server                *Server
	Host                  string // bind address, default "0.0.0.0"
	Port                  int    // default 8000
	HeartbeatIntervalSecs int    // default 20
	HeartbeatTimeoutSecs  int    // default 60
	LogLevel              string // default "INFO"
	Env                   map[string]string
	DeclRange             hcl.Range
}

// Worker is one model worker process serving exactly one model.
type Worker struct {
	Name                  string
	Server                *Server
	Model                 *Model
	Host                  string // bind address, default "0.0.0.0"
	Port                  int    // default 8001
	Device                string // e.g. "cuda", "cpu"; empty = DB-GPT default
	HeartbeatIntervalSecs int    // default 20
	LimitConcurrency      int    // 0 = DB-GPT default
	PromptTemplate        string
	LogLevel              string
	ExtraArgs             []string          // flags generation only
	Env                   map[string]string // extra environment
	DeclRange             hcl.Range
}

// MergedEnv returns the server's environment with the component's own
// (which wins) on top: the environment a component's process gets.
func MergedEnv(s *Server, own map[string]string) map[string]string {
	out := map[string]string{}
	if s != nil {
		for k, v := range s.Env {
			out[k] = v
		}
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

// Webserver is the DB-GPT webserver.
type Webserver struct {
	Name             string // always "webserver"
	Server           *Server
	Host             string // default "0.0.0.0"
	Port             int    // default 5670
	Light            bool   // use the remote controllers (default true)
	RemoteEmbedding  bool
	RemoteRerank     bool
	DefaultLLM       *Model // may be nil
	DefaultEmbedding *Model // may be nil
	LogLevel         string
	// MetaDatabase is where the webserver keeps its own metadata (chat
	// history, knowledge spaces, apps): MetaDatabaseSQLite (a file in its
	// data directory) or MetaDatabaseRegistry (the cluster's MySQL
	// registry database).
	MetaDatabase string
	ExtraArgs    []string // flags generation only
	Env          map[string]string
	DeclRange    hcl.Range
}

// The webserver's meta_database values.
const (
	MetaDatabaseSQLite   = "sqlite"
	MetaDatabaseRegistry = "registry"
)

// APIServer is the optional OpenAI-style API server.
type APIServer struct {
	Name      string // always "apiserver"
	Server    *Server
	Host      string // default "0.0.0.0"
	Port      int    // default 8100
	APIKeys   []Secret
	LogLevel  string
	ExtraArgs []string // flags generation only
	Env       map[string]string
	DeclRange hcl.Range
}

// Compose holds what only the docker compose provider uses.
type Compose struct {
	Project       string // default: the cluster name
	DBGPTImage    string // image whose `dbgpt` command runs the components
	DatabaseImage string // managed registry database image (default "mysql:8.0")
	// ManagedDatabase: compose runs the registry database as a service. When
	// false the registry block's host is used as an external database.
	ManagedDatabase bool
	DatabaseVolume  string
	RootPassword    Secret // managed database root password
	ModelsDir       string // host directory mounted at the same path in worker containers; empty = none
	// PublishAddress is the host address published ports bind (default
	// "127.0.0.1"); Publish lists what is published: "webserver",
	// "apiserver", "controllers" (default webserver and apiserver). Each
	// published component's port is published at the same host port.
	PublishAddress string
	Publish        []string
	// Access is how hactl reaches the containers: "auto" (default),
	// "network" (their addresses on the project network) or "exec"
	// (through `docker exec`, or a published port).
	Access    string
	DeclRange hcl.Range
}

// Publishes reports whether the compose provider publishes the components of
// a role: "webserver", "apiserver" or "controller".
func (cp *Compose) Publishes(role string) bool {
	if cp == nil {
		return false
	}
	for _, p := range cp.Publish {
		if p == role || (p == "controllers" && role == RoleController) {
			return true
		}
	}
	return false
}

// ControllerURLs returns the controllers' URLs as clients use them, in file
// order: http://<server address>:<port>.
func (c *Cluster) ControllerURLs() []string {
	urls := make([]string, 0, len(c.Controllers))
	for _, ctl := range c.Controllers {
		urls = append(urls, ctl.URL())
	}
	return urls
}

// URL is the controller's address as clients use it.
func (ctl *Controller) URL() string {
	return "http://" + hostPort(ctl.Server.Address, ctl.Port)
}

// RegistryModelName is the model_name a worker registers for its model.
func (w *Worker) RegistryModelName() string { return w.Model.Name + "@" + w.Model.WorkerType }

// ServerByName returns the named server or nil.
func (c *Cluster) ServerByName(name string) *Server {
	for _, s := range c.Servers {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// ModelByName returns the named model or nil.
func (c *Cluster) ModelByName(name string) *Model {
	for _, m := range c.Models {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Secrets returns every secret value in the cluster (the registry password,
// sensitive variables, API keys), for redacting output.
func (c *Cluster) Secrets() []string {
	var out []string
	add := func(s Secret) {
		if s.IsSet() {
			out = append(out, s.Reveal())
		}
	}
	if c.Registry != nil {
		add(c.Registry.Password)
	}
	if c.APIServer != nil {
		for _, k := range c.APIServer.APIKeys {
			add(k)
		}
	}
	if c.Compose != nil {
		add(c.Compose.RootPassword)
	}
	for _, m := range c.Models {
		add(m.APIKey)
	}
	out = append(out, c.sensitiveValues...)
	return out
}

func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// ReservedParams are the settings hactl writes itself for a worker of
// generation g, each with the argument of the cluster file that sets it. A
// model param of such a name would override hactl's value (a second flag,
// which DB-GPT takes over the first) or repeat a key of the TOML file.
// internal/dbgpt's tests check that every setting it writes is listed.
func ReservedParams(g Generation) map[string]string {
	if g == GenerationTOML {
		return map[string]string{
			"host": "the worker's host", "port": "the worker's port",
			"worker_type": "the model's type", "controller_addr": "the controller blocks",
			"worker_register_host": "the server's address", "heartbeat_interval": "the worker's heartbeat_interval",
			"name": "the model block's name", "provider": "the model's provider", "path": "the model's path",
			"device": "the worker's device", "concurrency": "the worker's limit_model_concurrency",
			"prompt_template": "the worker's prompt_template",
			"api_base":        "the model's api_base", "api_url": "the model's api_base", "api_key": "the model's api_key",
			"backend": "the model's backend",
		}
	}
	return map[string]string{
		"model_name": "the model block's name", "model_path": "the model's path", "worker_type": "the model's type",
		"host": "the worker's host", "port": "the worker's port", "controller_addr": "the controller blocks",
		"worker_register_host": "the server's address", "heartbeat_interval": "the worker's heartbeat_interval",
		"device": "the worker's device", "limit_model_concurrency": "the worker's limit_model_concurrency",
		"prompt_template": "the worker's prompt_template", "log_level": "the worker's log_level",
		"proxy_server_url": "the model's api_base", "proxy_api_base": "the model's api_base",
		"proxy_api_key": "the model's api_key", "proxyllm_backend": "the model's backend", "proxy_backend": "the model's backend",
	}
}
