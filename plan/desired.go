package plan

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/schema"
)

// Sensitive is how a secret value is shown in attributes, plans and manifests.
const Sensitive = "(sensitive)"

// Dependency levels.
const (
	LevelController = 1
	LevelWorker     = 2
	LevelFrontend   = 3 // webserver and apiserver
)

// Desired renders every component the cluster file wants, in dependency
// order: controllers, workers, webserver, apiserver (file order within each).
func Desired(c *schema.Cluster) ([]*Component, error) {
	var out []*Component
	add := func(role, name string, srv *schema.Server, port, level int, attrs map[string]string, startTimeout time.Duration) error {
		l, err := dbgpt.Render(c, role, name)
		if err != nil {
			return err
		}
		addr := role + "." + name
		if role == schema.RoleWebserver || role == schema.RoleAPIServer {
			addr = role
		}
		attrs["server"] = srv.Name
		attrs["address"] = net.JoinHostPort(srv.Address, strconv.Itoa(port))
		attrs["port"] = strconv.Itoa(port)
		attrs["dbgpt_version"] = c.Version
		attrs["dbgpt_command"] = srv.DBGPTCommand
		setIf(attrs, "run_as", srv.RunAs)
		if srv.LogMaxSize != 0 && srv.LogMaxSize != schema.DefaultLogMaxSize {
			attrs["log_max_size"] = schema.FormatSize(srv.LogMaxSize)
		}
		comp := &Component{
			Address: addr, Role: role, Name: name, Server: srv, Port: port,
			Launch: l, Level: level, Attributes: attrs, StartTimeout: startTimeout,
		}
		comp.Hash = hashComponent(comp)
		out = append(out, comp)
		return nil
	}
	ctlAddr := strings.Join(c.ControllerURLs(), ",")
	for _, ctl := range c.Controllers {
		a := map[string]string{
			"host":               ctl.Host,
			"heartbeat_interval": strconv.Itoa(ctl.HeartbeatIntervalSecs),
			"heartbeat_timeout":  strconv.Itoa(ctl.HeartbeatTimeoutSecs),
		}
		setIf(a, "log_level", ctl.LogLevel)
		registryAttrs(c, a)
		envAttrs(c, a, schema.MergedEnv(ctl.Server, ctl.Env))
		if err := add(schema.RoleController, ctl.Name, ctl.Server, ctl.Port, LevelController, a, 0); err != nil {
			return nil, err
		}
	}
	for _, w := range c.Workers {
		m := w.Model
		a := map[string]string{
			"host":                 w.Host,
			"model":                w.RegistryModelName(),
			"controller_addr":      ctlAddr,
			"worker_register_host": w.Server.Address,
			"heartbeat_interval":   strconv.Itoa(w.HeartbeatIntervalSecs),
		}
		setIf(a, "model.path", m.Path)
		setIf(a, "model.provider", m.Provider)
		setIf(a, "model.api_base", m.APIBase)
		if m.APIKey.IsSet() {
			a["model.api_key"] = Sensitive
		}
		setIf(a, "model.backend", m.Backend)
		setIf(a, "device", w.Device)
		setIf(a, "prompt_template", w.PromptTemplate)
		setIf(a, "log_level", w.LogLevel)
		if w.LimitConcurrency > 0 {
			a["limit_model_concurrency"] = strconv.Itoa(w.LimitConcurrency)
		}
		extraArgsAttr(a, w.ExtraArgs)
		for k, v := range m.Params {
			a["model.params."+k] = redact(c, v)
		}
		envAttrs(c, a, schema.MergedEnv(w.Server, w.Env))
		// The start timeout is how long to wait, not how the process runs:
		// it is neither hashed nor shown, so changing it restarts nothing.
		if err := add(schema.RoleWorker, w.Name, w.Server, w.Port, LevelWorker, a, m.StartTimeout); err != nil {
			return nil, err
		}
	}
	if ws := c.Webserver; ws != nil {
		a := map[string]string{
			"host":             ws.Host,
			"light":            strconv.FormatBool(ws.Light),
			"remote_embedding": strconv.FormatBool(ws.RemoteEmbedding),
			"remote_rerank":    strconv.FormatBool(ws.RemoteRerank),
			"controller_addr":  ctlAddr,
		}
		if ws.DefaultLLM != nil {
			a["default_llm"] = ws.DefaultLLM.Name
		}
		if ws.DefaultEmbedding != nil {
			a["default_embedding"] = ws.DefaultEmbedding.Name
		}
		setIf(a, "log_level", ws.LogLevel)
		extraArgsAttr(a, ws.ExtraArgs)
		envAttrs(c, a, schema.MergedEnv(ws.Server, ws.Env))
		if err := add(schema.RoleWebserver, schema.RoleWebserver, ws.Server, ws.Port, LevelFrontend, a, 0); err != nil {
			return nil, err
		}
	}
	if as := c.APIServer; as != nil {
		a := map[string]string{
			"host":            as.Host,
			"controller_addr": ctlAddr,
		}
		if len(as.APIKeys) > 0 {
			a["api_keys"] = Sensitive
		}
		setIf(a, "log_level", as.LogLevel)
		extraArgsAttr(a, as.ExtraArgs)
		envAttrs(c, a, schema.MergedEnv(as.Server, as.Env))
		if err := add(schema.RoleAPIServer, schema.RoleAPIServer, as.Server, as.Port, LevelFrontend, a, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func registryAttrs(c *schema.Cluster, a map[string]string) {
	r := c.Registry
	if r == nil {
		a["registry.type"] = schema.RegistryEmbedded
		return
	}
	a["registry.type"] = r.Type
	switch r.Type {
	case schema.RegistryMySQL:
		a["registry.host"] = r.Host
		a["registry.port"] = strconv.Itoa(r.Port)
		a["registry.database"] = r.Database
		a["registry.user"] = r.User
		if r.Password.IsSet() {
			a["registry.password"] = Sensitive
		}
		if r.PoolSize > 0 {
			a["registry.pool_size"] = strconv.Itoa(r.PoolSize)
		}
		if r.MaxOverflow > 0 {
			a["registry.max_overflow"] = strconv.Itoa(r.MaxOverflow)
		}
	case schema.RegistrySQLite:
		a["registry.path"] = r.Path
	}
}

// Attribute names are the cluster file's: a component's own attribute as
// its block spells it (port, heartbeat_timeout), one it takes from the
// block it refers to as the file would refer to it (model.path,
// model.params.KEY, registry.host), a map's entries as KEY under the map's
// name (env.KEY). Derived ones keep a plain name: address (server address
// and port), server, model (the name the worker registers, NAME@TYPE),
// controller_addr, worker_register_host, dbgpt_version, dbgpt_command.

// Kind is the type of an attribute's value. Attributes are kept as strings
// (as manifests on the hosts store them); the kind says how to show one.
type Kind int

// Kinds.
const (
	KindString Kind = iota
	KindNumber
	KindBool
)

// attrKinds are the attributes that are not strings, by name: a name has
// one kind wherever it appears (a component, the registry create, an
// observed manifest), so a change that only has the observed side (a
// destroy) is typed too.
var attrKinds = map[string]Kind{
	"port":                    KindNumber,
	"heartbeat_interval":      KindNumber,
	"heartbeat_timeout":       KindNumber,
	"limit_model_concurrency": KindNumber,
	"registry.port":           KindNumber,
	"registry.pool_size":      KindNumber,
	"registry.max_overflow":   KindNumber,
	"light":                   KindBool,
	"remote_embedding":        KindBool,
	"remote_rerank":           KindBool,
}

// KindOf returns the kind of the attribute named name.
func KindOf(name string) Kind { return attrKinds[name] }

// legacyNames maps attribute names of manifests written before the
// attributes took the file's spelling to today's names. registry_host
// ("host:port") is split by currentNames.
var legacyNames = map[string]string{
	"heartbeat_interval_secs": "heartbeat_interval",
	"heartbeat_timeout_secs":  "heartbeat_timeout",
	"model_path":              "model.path",
	"provider":                "model.provider",
	"registry_type":           "registry.type",
	"registry_database":       "registry.database",
	"registry_user":           "registry.user",
	"registry_password":       "registry.password",
	"registry_pool_size":      "registry.pool_size",
	"registry_max_overflow":   "registry.max_overflow",
	"registry_path":           "registry.path",
}

const (
	legacyParamPrefix  = "param."
	legacyRegistryHost = "registry_host"
)

// currentNames returns observed attributes (a manifest's, possibly written
// by an older hactl) under today's names, so an old manifest compares
// attribute by attribute with the desired side. It never changes m.
func currentNames(m map[string]string) map[string]string {
	old := false
	for k := range m {
		if _, ok := legacyNames[k]; ok || k == legacyRegistryHost || strings.HasPrefix(k, legacyParamPrefix) {
			old = true
			break
		}
	}
	if !old {
		return m
	}
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		switch n, ok := legacyNames[k]; {
		case ok:
			out[n] = v
		case strings.HasPrefix(k, legacyParamPrefix):
			out["model.params."+strings.TrimPrefix(k, legacyParamPrefix)] = v
		case k == legacyRegistryHost:
			if host, port, err := net.SplitHostPort(v); err == nil {
				out["registry.host"], out["registry.port"] = host, port
			} else {
				out["registry.host"] = v
			}
		default:
			out[k] = v
		}
	}
	return out
}

func envAttrs(c *schema.Cluster, a map[string]string, env map[string]string) {
	for k, v := range env {
		a["env."+k] = redact(c, v)
	}
}

func extraArgsAttr(a map[string]string, args []string) {
	if len(args) > 0 {
		a["extra_args"] = strings.Join(args, " ")
	}
}

func setIf(a map[string]string, k, v string) {
	if v != "" {
		a[k] = v
	}
}

func redact(c *schema.Cluster, v string) string {
	if v == "" {
		return v
	}
	for _, s := range c.Secrets() {
		if s != "" && strings.Contains(v, s) {
			return Sensitive
		}
	}
	return v
}

// hashComponent digests everything whose change needs a restart: where the
// process runs, its port and its whole Launch, secrets included. Every field
// is length-prefixed so no two different inputs share an encoding.
func hashComponent(comp *Component) string {
	h := sha256.New()
	put := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	put("hactl-component-v1")
	put(comp.Address)
	put(comp.Role)
	put(comp.Server.Name)
	put(comp.Server.Address)
	put(comp.Server.DeployDir)
	put(comp.Server.DBGPTCommand)
	// Hashed only when set, so components deployed before these existed
	// keep their hash.
	if u := comp.Server.RunAs; u != "" {
		put("run_as")
		put(u)
	}
	if n := comp.Server.LogMaxSize; n != 0 && n != schema.DefaultLogMaxSize {
		put("log_max_size")
		put(strconv.FormatInt(n, 10))
	}
	put(strconv.Itoa(comp.Port))
	put(strconv.Itoa(len(comp.Launch.Args)))
	for _, a := range comp.Launch.Args {
		put(a)
	}
	putMap(h, put, "env", comp.Launch.Env)
	put("secret_env")
	put(secretDigest(comp))
	names := make([]string, 0, len(comp.Launch.Files))
	for n := range comp.Launch.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	put(strconv.Itoa(len(names)))
	for _, n := range names {
		f := comp.Launch.Files[n]
		put(n)
		put(strconv.FormatBool(f.Secret))
		put(string(f.Content))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// secretDigest digests the component's secrets through PBKDF2 (salted with
// the component's address), so the settings hash, which lands in manifests
// and plan files, is no quick way to test guesses of a weak password.
func secretDigest(comp *Component) string {
	return SecretDigest("hactl-secrets-v1|"+comp.Address, comp.Launch.SecretEnv)
}

const secretIterations = 20000

func putMap(_ hash.Hash, put func(string), label string, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	put(label)
	put(strconv.Itoa(len(keys)))
	for _, k := range keys {
		put(k)
		put(m[k])
	}
}

// String is for error messages.
func (c *Component) String() string {
	if c.Server == nil {
		return c.Address
	}
	return fmt.Sprintf("%s on %s", c.Address, c.Server.Name)
}
