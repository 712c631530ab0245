package testcluster

import (
	"bytes"
	"os"
	"path/filepath"
	"text/template"
)

// HAParams are the values of the HA guide's cluster file for a test cluster.
type HAParams struct {
	Version        string            // dbgpt_version, e.g. "0.6.3" or "0.7.0"
	Servers        map[string]string // server1..3 → address
	KeyFile        string
	KnownHostsFile string
	DBHost         string
	DBPort         int
	DBUser         string
	DeployDir      string // default /opt/hactl/e2e
	// Heartbeat interval and timeout of controllers and workers in seconds
	// (default 20 and 60, DB-GPT's).
	HeartbeatInterval, HeartbeatTimeout int
	// ConnectTimeout of every server (default: the cluster file's default).
	ConnectTimeout string
	// CommandTimeout of every server (default: the cluster file's default).
	CommandTimeout string
	Text2VecPort   int    // the text2vec worker's port (default 8003, the guide's)
	Text2VecServer string // the text2vec worker's server (default server3, the guide's)
	WithoutGLM     bool   // leave out the glm-4-9b-chat worker
	// NoDefaultModels leaves default_llm and default_embedding out of the
	// webserver, so removing a worker changes nothing else.
	NoDefaultModels bool

	// User is the SSH user of every server (default "root"); ServerUsers
	// overrides it per server (e.g. server1 and server2 as NoSudoUser).
	User        string
	ServerUsers map[string]string
	// Sudo runs hactl's commands through sudo (for a non-root User).
	Sudo bool
	// RunAs is the user the DB-GPT processes run as (default: hactl's).
	RunAs string
	// LogMaxSize caps each component's log, e.g. "256KiB" (default: hactl's).
	LogMaxSize string
	// Jump, when set, is the bastion every server is reached through.
	Jump *JumpParams
	// ServerEnv is each server's env (server name → variables), e.g. a
	// dbgpt-sim knob for every process on server3.
	ServerEnv map[string]map[string]string
}

// JumpParams are a jump block's values; the key is the servers' key_file.
type JumpParams struct {
	Address string
	User    string // default: the server's user
}

var haTemplate = template.Must(template.New("cluster.hcl").Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).Parse(`# The DB-GPT HA guide's topology on the hactl e2e test cluster.
# The registry password is the sensitive variable registry_password
# (HACTL_VAR_registry_password).
cluster {
  name          = "e2e"
  dbgpt_version = "{{.Version}}"
}

variable "registry_password" {
  type      = string
  sensitive = true
}

defaults {
  user             = "{{.User}}"
{{- if .Sudo}}
  sudo             = true
{{- end}}
{{- if .RunAs}}
  run_as           = "{{.RunAs}}"
{{- end}}
{{- if .LogMaxSize}}
  log_max_size     = "{{.LogMaxSize}}"
{{- end}}
  key_file         = "{{.KeyFile}}"
  known_hosts_file = "{{.KnownHostsFile}}"
  host_key_policy  = "strict"
  deploy_dir       = "{{.DeployDir}}"
{{- if .ConnectTimeout}}
  connect_timeout  = "{{.ConnectTimeout}}"
{{- end}}
{{- if .CommandTimeout}}
  command_timeout  = "{{.CommandTimeout}}"
{{- end}}
{{- with .Jump}}

  jump {
    address = "{{.Address}}"
{{- if .User}}
    user    = "{{.User}}"
{{- end}}
  }
{{- end}}
}
{{range $name := .ServerNames}}
server "{{$name}}" {
  address = "{{index $.Servers $name}}"
{{- with index $.ServerUsers $name}}
  user    = "{{.}}"
{{- end}}
{{- with index $.ServerEnv $name}}
  env     = {
{{- range $k, $v := .}}
    {{$k}} = "{{$v}}"
{{- end}}
  }
{{- end}}
}
{{end}}
registry "mysql" {
  host            = "{{.DBHost}}"
  port            = {{.DBPort}}
  database        = "dbgpt"
  user            = "{{.DBUser}}"
  password        = var.registry_password
  create_database = true
}

model "glm-4-9b-chat" {
  type = "llm"
  path = "/app/models/glm-4-9b-chat"
}

model "text2vec" {
  type = "text2vec"
  path = "/app/models/text2vec-large-chinese"
}
{{range $i, $s := .ControllerServers}}
controller "controller{{$i | inc}}" {
  server             = server.{{$s}}
  port               = 8000
  heartbeat_interval = {{$.HeartbeatInterval}}
  heartbeat_timeout  = {{$.HeartbeatTimeout}}
}
{{end}}
{{- if not .WithoutGLM}}
worker "glm-4-9b-chat" {
  server             = server.server3
  model              = model.glm-4-9b-chat
  port               = 8001
  heartbeat_interval = {{.HeartbeatInterval}}
}
{{end}}
worker "text2vec" {
  server             = server.{{.Text2VecServer}}
  model              = model.text2vec
  port               = {{.Text2VecPort}}
  heartbeat_interval = {{.HeartbeatInterval}}
}

webserver {
  server            = server.server3
  port              = 5670
  light             = true
  remote_embedding  = true
{{- if not .NoDefaultModels}}
  default_llm       = model.glm-4-9b-chat
  default_embedding = model.text2vec
{{- end}}
}
`))

// HAClusterFile renders the HA guide's topology (controllers on server1 and
// server2 sharing the MySQL registry, both workers and a light webserver on
// server3) as a cluster file.
func HAClusterFile(p HAParams) []byte {
	if p.DeployDir == "" {
		p.DeployDir = "/opt/hactl/e2e"
	}
	if p.User == "" {
		p.User = User
	}
	if p.HeartbeatInterval == 0 {
		p.HeartbeatInterval = 20
	}
	if p.HeartbeatTimeout == 0 {
		p.HeartbeatTimeout = 60
	}
	if p.Text2VecServer == "" {
		p.Text2VecServer = Server3
	}
	if p.Text2VecPort == 0 {
		p.Text2VecPort = 8003
	}
	var buf bytes.Buffer
	err := haTemplate.Execute(&buf, struct {
		HAParams
		ServerNames, ControllerServers []string
	}{p, Hosts, []string{Server1, Server2}})
	if err != nil {
		panic(err) // the template and its data are fixed: a bug here
	}
	return buf.Bytes()
}

// HAParams returns the parameters of this cluster: its addresses, key,
// known_hosts file (which has the bastion's key too), database, the version
// dbgpt claims, and with Options.Bastion the jump host (the bastion, as root).
func (c *Cluster) HAParams() HAParams {
	servers := map[string]string{}
	for _, h := range Hosts {
		servers[h] = c.IP(h)
	}
	p := HAParams{Version: c.SimVersion, Servers: servers, KeyFile: c.KeyPath, KnownHostsFile: c.KnownHostsPath,
		DBHost: c.IP(DBHost), DBPort: DBPort, DBUser: DBUser, User: User}
	if c.opts.Bastion {
		p.Jump = &JumpParams{Address: c.IP(Bastion), User: User}
	}
	return p
}

// WriteClusterFile writes HAClusterFile(p) into the run's directory and
// returns its path; p usually starts from c.HAParams().
func (c *Cluster) WriteClusterFile(p HAParams) string {
	path := filepath.Join(c.Dir, "cluster.hcl")
	if err := os.WriteFile(path, HAClusterFile(p), 0o600); err != nil {
		c.t.Fatalf("test cluster: %v", err)
	}
	return path
}
