package schema

import (
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hactl/hactl/internal/defaults"
)

// This file is the single description of the language: the decoder builds its
// hcl.BodySchema values from it and docs/cluster-file.md's reference section is
// generated from it (TestDocsReferenceUpToDate fails when they drift).

// attrSpec describes one argument of a block.
type attrSpec struct {
	Name     string
	Type     string // as shown in the reference
	Required bool
	Default  string // as shown in the reference; "" = no default
	Only     Generation
	Doc      string
}

// blockSpec describes one block type.
type blockSpec struct {
	Type     string
	Labels   []string
	Multiple bool // may appear more than once (each with a distinct label)
	Required bool
	Doc      string
	Attrs    []attrSpec
	// Any means the body takes arbitrary arguments (locals).
	Any    bool
	Blocks []*blockSpec
}

func (b *blockSpec) attr(name string) *attrSpec {
	for i := range b.Attrs {
		if b.Attrs[i].Name == name {
			return &b.Attrs[i]
		}
	}
	return nil
}

func (b *blockSpec) bodySchema() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, a := range b.Attrs {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a.Name, Required: a.Required})
	}
	for _, nb := range b.Blocks {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: nb.Type, LabelNames: nb.Labels})
	}
	return s
}

// Defaults as the reference shows them, made from the values the decoder
// fills in so the two cannot differ.
func quoted(s string) string         { return strconv.Quote(s) }
func number(n int) string            { return strconv.Itoa(n) }
func boolean(b bool) string          { return strconv.FormatBool(b) }
func seconds(d time.Duration) string { return quoted(fmt.Sprintf("%ds", d/time.Second)) }

var logLevelDoc = "one of `DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`"

// connection settings shared by `defaults` and `server`.
var connectionAttrs = []attrSpec{
	{Name: "transport", Type: "string", Default: quoted(TransportSSH), Doc: "`ssh`, or `local` to run commands on the machine hactl runs on (no SSH)."},
	{Name: "user", Type: "string", Default: quoted(defaults.SSHUser), Doc: "SSH user."},
	{Name: "ssh_port", Type: "number", Default: number(defaults.SSHPort), Doc: "SSH port."},
	{Name: "key_file", Type: "string", Default: "", Doc: "Private key file on the operator's machine (`~` is expanded, relative paths are relative to the cluster file). Without it the SSH agent is used."},
	{Name: "use_agent", Type: "bool", Default: "true when no key_file", Doc: "Also offer the keys of the agent at `SSH_AUTH_SOCK`."},
	{Name: "host_key_policy", Type: "string", Default: quoted(HostKeyStrict), Doc: "`strict` (host must be in known_hosts), `accept-new` (unknown hosts are added, changed keys fail) or `insecure` (no check)."},
	{Name: "known_hosts_file", Type: "string", Default: quoted(defaults.KnownHostsFile), Doc: "known_hosts file on the operator's machine."},
	{Name: "sudo", Type: "bool", Default: "false", Doc: "Run commands through `sudo -n` (for a non-root user)."},
	{Name: "run_as", Type: "string", Default: "the user hactl's commands run as", Doc: "User the DB-GPT processes run as and who owns the files under each component directory (secret files stay owner-only). The default is the user hactl's commands run as there: `root` with `sudo = true` (or `user = \"root\"`), else the SSH user. Another user needs root (`sudo = true` or `user = \"root\"`); it must exist on the server (pre-flight checks it, and that it can run `dbgpt_command` and read the model paths). With systemd the unit gets `User=` and `Group=` (the user's primary group); without, hactl's supervisor starts the process through `runuser` or `setpriv`. A change restarts the server's components. The compose provider ignores it."},
	{Name: "log_max_size", Type: "string", Default: quoted(FormatSize(DefaultLogMaxSize)), Doc: "Cap of each component's hactl log (`<component dir>/log`: the process's output and the supervisor's lines): a size like `\"32MiB\"`, `\"256KiB\"`, `\"1GiB\"` or a number of bytes, at least `\"64KiB\"`. Checked every second while the log grows toward it, every 2 to 8 seconds while it is quiet; past it the log is copied to `log.1` (one old file kept) and emptied in place, under both supervisors (DB-GPT's own log files are not capped). A change restarts the server's components. The compose provider ignores it (Docker keeps container logs)."},
	{Name: "deploy_dir", Type: "string", Default: quoted(defaults.DeployRoot + "/<cluster name>"), Doc: "Absolute directory on the server under which hactl keeps every component's files, used exactly as written. With `transport = \"local\"` a relative path is relative to the cluster file."},
	{Name: "dbgpt_command", Type: "string", Default: quoted(defaults.DBGPTCommand), Doc: "The `dbgpt` command on the server: a path or name, possibly with arguments (e.g. `\"/opt/venv/bin/python -m dbgpt.cli.cli_scripts\"`). Split into words as a shell would (single and double quotes, backslashes), but never run through a shell: `$`, `` ` ``, `|`, `;`, `&`, `<`, `>` are refused."},
	{Name: "connect_timeout", Type: "duration", Default: seconds(defaults.ConnectTimeout), Doc: "Timeout of one SSH connection attempt (Go duration: `10s`, `1m30s`)."},
	{Name: "command_timeout", Type: "duration", Default: seconds(defaults.CommandTimeout), Doc: "Timeout of one remote command."},
	{Name: "env", Type: "map(string)", Default: "{}", Doc: "Environment variables of every component on the server (`PYTHONPATH`, `CUDA_VISIBLE_DEVICES`, a venv's `PATH`). A server's `env` is merged over the `defaults` block's; a component's own `env` wins over both. Sensitive values are allowed."},
}

var jumpSpec = &blockSpec{
	Type: "jump",
	Doc:  "An SSH bastion through which the server is reached.",
	Attrs: []attrSpec{
		{Name: "address", Type: "string", Required: true, Doc: "Address of the bastion."},
		{Name: "port", Type: "number", Default: number(defaults.SSHPort), Doc: "SSH port of the bastion."},
		{Name: "user", Type: "string", Default: "the server's user", Doc: "SSH user on the bastion."},
		{Name: "key_file", Type: "string", Default: "the server's key_file", Doc: "Private key for the bastion."},
	},
}

var envAttr = attrSpec{Name: "env", Type: "map(string)", Default: "{}", Doc: "Extra environment variables of the process, over its server's `env` (the component's value wins). Sensitive values are allowed."}

var (
	clusterSpec = &blockSpec{
		Type: "cluster", Required: true,
		Doc: "Names the cluster and the DB-GPT version it runs. Exactly one.",
		Attrs: []attrSpec{
			{Name: "name", Type: "string", Required: true, Doc: "Cluster name: letters, digits, `-`, `_`, `.`; used in deploy directories and as the compose project."},
			{Name: "dbgpt_version", Type: "string", Default: quoted(defaults.DBGPTVersion), Doc: "DB-GPT version on the servers. 0.5.9 – 0.6.x use the command-line flags generation (`0.6`), 0.7.0 and later the TOML config generation (`0.7`)."},
		},
	}
	variableSpec = &blockSpec{
		Type: "variable", Labels: []string{"name"}, Multiple: true,
		Doc: "An input value, referenced as `var.NAME`. Values come from, later winning: `default`, the environment `HACTL_VAR_NAME`, `-var-file` files in order, `-var NAME=VALUE` flags in order. A variable without a value and without a default is an error.",
		Attrs: []attrSpec{
			{Name: "type", Type: "type", Default: "string", Doc: "`string`, `number`, `bool`, `list(T)`, `map(T)`, `any`, ... (bare `list` and `map` mean lists and maps of strings). Values from the environment and `-var` are taken as-is for primitive types and parsed as HCL for the others."},
			{Name: "default", Type: "any", Doc: "Value used when none is given. A constant: it cannot refer to anything."},
			{Name: "description", Type: "string", Doc: "What the value is for."},
			{Name: "sensitive", Type: "bool", Default: "false", Doc: "The value is a secret: it never appears in plans, logs or output, and may only be used in `password`, `api_keys`, `api_key`, `root_password`, `env` and `params` values."},
		},
	}
	localsSpec = &blockSpec{
		Type: "locals", Multiple: true, Any: true,
		Doc: "Named values computed from variables and other locals, referenced as `local.NAME`. Locals may not refer to each other in a cycle.",
	}
	defaultsSpec = &blockSpec{
		Type:  "defaults",
		Doc:   "Connection settings shared by every `server` block; a server's own argument wins. Takes every argument of `server` except `address`, and a `jump` block.",
		Attrs: connectionAttrs, Blocks: []*blockSpec{jumpSpec},
	}
	serverSpec = &blockSpec{
		Type: "server", Labels: []string{"name"}, Multiple: true,
		Doc: "A machine hactl deploys to, referenced as `server.NAME` (the object has `name` and `address`).",
		Attrs: append([]attrSpec{
			{Name: "address", Type: "string", Doc: "Required with `transport = \"ssh\"`; with `local` it defaults to `" + defaults.LocalAddress + "`. Address of the server: hactl connects to it and the other components reach the server's components at it (workers register with it)."},
		}, connectionAttrs...),
		Blocks: []*blockSpec{jumpSpec},
	}
	registrySpec = &blockSpec{
		Type: "registry", Labels: []string{"type"},
		Doc: "Where the controllers keep the model registry. The label is the type: `mysql` (a shared database: HA across servers), `sqlite` (a database file: controllers on one server) or `embedded` (in memory: one controller only). Without a registry block the registry is `embedded`.",
		Attrs: []attrSpec{
			{Name: "host", Type: "string", Doc: "mysql (required): database host as the controllers reach it."},
			{Name: "port", Type: "number", Default: number(defaults.MySQLPort), Doc: "mysql: database port."},
			{Name: "database", Type: "string", Doc: "mysql (required): database name (letters, digits, `_`)."},
			{Name: "user", Type: "string", Doc: "mysql (required): database user (letters, digits, `_`)."},
			{Name: "password", Type: "string (secret)", Doc: "mysql: database password; use a sensitive variable. hactl passes it through the environment, never on a command line."},
			{Name: "create_database", Type: "bool", Default: "false", Doc: "mysql: hactl may `CREATE DATABASE IF NOT EXISTS` and the registry table."},
			{Name: "pool_size", Type: "number", Default: "DB-GPT's", Doc: "mysql: connection pool size."},
			{Name: "max_overflow", Type: "number", Default: "DB-GPT's", Doc: "mysql: pool overflow."},
			{Name: "path", Type: "string", Doc: "sqlite (required): absolute path of the database file on the controllers' server."},
		},
	}
	modelSpec = &blockSpec{
		Type: "model", Labels: []string{"name"}, Multiple: true,
		Doc: "A model a worker serves, referenced as `model.NAME` (or `model[\"NAME\"]` when the name has a dot). The label is the name the worker registers: `<name>@<type>`.",
		Attrs: []attrSpec{
			{Name: "type", Type: "string", Required: true, Doc: "`llm`, `text2vec` (embedding) or `reranker`."},
			{Name: "path", Type: "string", Doc: "Absolute path of the model's weights on the worker's server. Required unless `provider` is a `proxy/...` provider; a proxy takes none."},
			{Name: "provider", Type: "string", Default: "`\"hf\"` when `path` is set", Doc: "What serves the model, in DB-GPT 0.7's words: `hf` (weights at `path`), `vllm`, `llama.cpp`, or a proxy `proxy/NAME` (e.g. `proxy/openai`). For DB-GPT 0.6 hactl maps it to 0.6's flags; 0.6 takes `hf` and the proxies it has an adapter for (validate lists them)."},
			{Name: "api_base", Type: "string", Default: "the provider's", Doc: "A proxy's server URL, e.g. `https://api.openai.com/v1`."},
			{Name: "api_key", Type: "string (secret)", Doc: "A proxy's API key; use a sensitive variable. hactl passes it through the environment, never on a command line (0.6: DB-GPT's `<MODEL_NAME>_PROXY_API_KEY`; 0.7: `${env:...}` in the TOML file). A `proxy/openai` LLM needs it unless `OPENAI_API_KEY` is in its workers' `env`."},
			{Name: "backend", Type: "string", Default: "the provider's", Doc: "The model's name at the proxy, e.g. `gpt-4o-mini`."},
			{Name: "start_timeout", Type: "duration", Default: seconds(defaults.GateTimeoutWorkers), Doc: "How long a worker of this model may take from its start until it serves (loading weights can take minutes): apply waits that long, and until then a running worker that does not serve yet is `starting`, not unhealthy. Changing it restarts nothing."},
			{Name: "params", Type: "map(string)", Default: "{}", Doc: "Extra model parameters: `--key value` flags (0.6) or keys of the model's TOML table (0.7). Keys are identifiers. Sensitive values are allowed: hactl passes them through the environment. With 0.7 a key the provider's parameter class lacks is dropped by DB-GPT: validate warns."},
		},
	}
	controllerSpec = &blockSpec{
		Type: "controller", Labels: []string{"name"}, Multiple: true,
		Doc: "A model controller process. Two or more make the cluster HA and need a `mysql` or `sqlite` registry.",
		Attrs: []attrSpec{
			{Name: "server", Type: "server reference", Required: true, Doc: "Server it runs on, e.g. `server.server1`."},
			{Name: "host", Type: "string", Default: quoted(defaults.BindHost), Doc: "Bind address."},
			{Name: "port", Type: "number", Default: number(defaults.ControllerPort), Doc: "HTTP port."},
			{Name: "heartbeat_interval", Type: "number", Default: number(defaults.HeartbeatIntervalSecs), Doc: "Seconds between the checker's runs."},
			{Name: "heartbeat_timeout", Type: "number", Default: number(defaults.HeartbeatTimeoutSecs), Doc: "Seconds after the last heartbeat when a worker is marked unhealthy; more than heartbeat_interval."},
			{Name: "log_level", Type: "string", Default: quoted(defaults.LogLevel), Doc: logLevelDoc + "."},
			envAttr,
		},
	}
	workerSpec = &blockSpec{
		Type: "worker", Labels: []string{"name"}, Multiple: true,
		Doc: "A model worker process serving exactly one model; it registers with the controllers at its server's address.",
		Attrs: []attrSpec{
			{Name: "server", Type: "server reference", Required: true, Doc: "Server it runs on."},
			{Name: "model", Type: "model reference", Required: true, Doc: "Model it serves, e.g. `model.text2vec`."},
			{Name: "host", Type: "string", Default: quoted(defaults.BindHost), Doc: "Bind address."},
			{Name: "port", Type: "number", Default: number(defaults.WorkerPort), Doc: "HTTP port; every worker on a server needs its own."},
			{Name: "device", Type: "string", Doc: "e.g. `cuda`, `cpu`; empty = DB-GPT's choice."},
			{Name: "heartbeat_interval", Type: "number", Default: number(defaults.HeartbeatIntervalSecs), Doc: "Seconds between heartbeats; less than every controller's heartbeat_timeout."},
			{Name: "limit_model_concurrency", Type: "number", Default: "DB-GPT's", Doc: "Maximum concurrent requests."},
			{Name: "prompt_template", Type: "string", Doc: "Prompt template name."},
			{Name: "log_level", Type: "string", Default: quoted(defaults.LogLevel), Doc: logLevelDoc + "."},
			{Name: "extra_args", Type: "list(string)", Default: "[]", Only: GenerationFlags, Doc: "Extra command-line arguments (flags generation only: the TOML generation refuses unknown flags). No sensitive values."},
			envAttr,
		},
	}
	webserverSpec = &blockSpec{
		Type: "webserver",
		Doc:  "The DB-GPT webserver (at most one).",
		Attrs: []attrSpec{
			{Name: "server", Type: "server reference", Required: true, Doc: "Server it runs on."},
			{Name: "host", Type: "string", Default: quoted(defaults.BindHost), Doc: "Bind address."},
			{Name: "port", Type: "number", Default: number(defaults.WebserverPort), Doc: "HTTP port."},
			{Name: "light", Type: "bool", Default: boolean(defaults.WebserverLight), Doc: "Use the remote controllers instead of an embedded model manager."},
			{Name: "remote_embedding", Type: "bool", Default: "false", Doc: "Use the embedding model through the controllers."},
			{Name: "remote_rerank", Type: "bool", Default: "false", Doc: "Use the reranker through the controllers."},
			{Name: "default_llm", Type: "model reference", Doc: "Default LLM; a worker must serve it and it must be an `llm` model."},
			{Name: "default_embedding", Type: "model reference", Doc: "Default embedding model; a worker must serve it and it must be a `text2vec` model. With DB-GPT 0.6 its name must be one the webserver knows (`text2vec`, `bge-large-zh`, `proxy_openai`, ...: validate lists them)."},
			{Name: "log_level", Type: "string", Default: quoted(defaults.LogLevel), Doc: logLevelDoc + "."},
			{Name: "meta_database", Type: "string", Default: quoted("sqlite"), Doc: "Where the webserver keeps its own metadata (chat history, knowledge spaces, apps): `sqlite`, a file in the component's data directory (`<deploy dir>/webserver/data/`, kept across deploys; with `--provider compose` on the named volume `<project>_webserver-data`), or `registry`, the cluster's MySQL registry database (same host, port, user, password and database; needs a `mysql` registry). DB-GPT creates its tables only in SQLite: for `registry` run DB-GPT's `assets/schema/dbgpt.sql` in that database first."},
			{Name: "extra_args", Type: "list(string)", Default: "[]", Only: GenerationFlags, Doc: "Extra command-line arguments (flags generation only), e.g. `[\"--disable_alembic_upgrade\"]`. No sensitive values."},
			envAttr,
		},
	}
	apiserverSpec = &blockSpec{
		Type: "apiserver",
		Doc:  "The OpenAI-style API server (at most one).",
		Attrs: []attrSpec{
			{Name: "server", Type: "server reference", Required: true, Doc: "Server it runs on."},
			{Name: "host", Type: "string", Default: quoted(defaults.BindHost), Doc: "Bind address."},
			{Name: "port", Type: "number", Default: number(defaults.APIServerPort), Doc: "HTTP port."},
			{Name: "api_keys", Type: "list(string) (secret)", Default: "[]", Doc: "Accepted API keys (no commas); use sensitive variables. Empty = no authentication."},
			{Name: "log_level", Type: "string", Default: quoted(defaults.LogLevel), Doc: logLevelDoc + "."},
			{Name: "extra_args", Type: "list(string)", Default: "[]", Only: GenerationFlags, Doc: "Extra command-line arguments (flags generation only), e.g. `[\"--disable_alembic_upgrade\"]`. No sensitive values."},
			envAttr,
		},
	}
	composeSpec = &blockSpec{
		Type: "compose",
		Doc:  "Settings only the docker compose provider (`--provider compose`) uses; the SSH provider ignores them.",
		Attrs: []attrSpec{
			{Name: "project", Type: "string", Default: "the cluster name", Doc: "Compose project name (lower-case letters, digits, `-`, `_`); the default is the cluster name in lower case with `.` turned into `-`."},
			{Name: "dbgpt_image", Type: "string", Doc: "Image whose `dbgpt` command runs the components (required by the compose provider)."},
			{Name: "database_image", Type: "string", Default: quoted(defaults.ComposeDatabaseImage), Doc: "Image of the managed registry database."},
			{Name: "managed_database", Type: "bool", Default: boolean(defaults.ComposeManagedDatabase), Doc: "Run the registry database as a compose service (needs a `mysql` registry; its `host` is then the service name)."},
			{Name: "database_volume", Type: "string", Doc: "Named volume for the managed database's data; empty = an anonymous volume."},
			{Name: "root_password", Type: "string (secret)", Doc: "Root password of the managed database."},
			{Name: "models_dir", Type: "string", Doc: "Absolute host directory mounted at the same path in the worker containers."},
			{Name: "publish", Type: "list(string)", Default: "`[\"webserver\", \"apiserver\"]`", Doc: "Components whose port is published on this machine, each at the same host port as its `port` (so the file's port is what a person opens): `\"webserver\"`, `\"apiserver\"`, `\"controllers\"`. Pre-flight refuses a host port already in use. `[]` publishes nothing."},
			{Name: "publish_address", Type: "string", Default: quoted(defaults.ComposePublishAddress), Doc: "Host address the published ports bind; `\"0.0.0.0\"` makes them reachable from other machines."},
			{Name: "access", Type: "string", Default: quoted(defaults.ComposeAccess), Doc: "How hactl reaches the containers for its health checks, registry access and status: `\"network\"` dials their addresses on the project network (a Linux Docker host only), `\"exec\"` tunnels every connection through `docker exec` into the target's container (needs `bash` and `cat` in the images) or uses its published port, `\"auto\"` uses `network` when a first connection to a container address works, else `exec`."},
		},
	}
)

// topSpecs are the top-level blocks in the order of the reference.
var topSpecs = []*blockSpec{
	clusterSpec, variableSpec, localsSpec, defaultsSpec, serverSpec, registrySpec, modelSpec,
	controllerSpec, workerSpec, webserverSpec, apiserverSpec, composeSpec,
}

func topSchema() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, b := range topSpecs {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: b.Type, LabelNames: b.Labels})
	}
	return s
}

// registryAttrs lists the arguments each registry type takes.
var registryAttrs = map[string][]string{
	RegistryMySQL:    {"host", "port", "database", "user", "password", "create_database", "pool_size", "max_overflow"},
	RegistrySQLite:   {"path"},
	RegistryEmbedded: {},
}

var registryRequired = map[string][]string{
	RegistryMySQL:  {"host", "database", "user"},
	RegistrySQLite: {"path"},
}
