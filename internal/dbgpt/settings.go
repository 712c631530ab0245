package dbgpt

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hactl/hactl/internal/dbgpt/catalog"
	"github.com/hactl/hactl/schema"
)

// Settings rendering: the command line, environment and files of each role,
// for each DB-GPT generation, exactly as DBGPT-PROTOCOL.md describes them.
//
// Secrets never reach Args or Env:
//   - flags generation: through DB-GPT's environment lookup, in SecretEnv
//     (controller: CONTROLLER_REGISTRY_DB_PASSWORD; apiserver: APISERVER_API_KEYS
//     and API_KEYS, the prefixed and the bare name of --api_keys, so either
//     lookup order finds it; a sensitive model parameter: <MODEL_NAME>_<KEY>,
//     the worker's <model_name>_ prefix upper-cased with '-' as '_');
//   - TOML generation: the file holds "${env:NAME}" and SecretEnv holds NAME.
//
// A proxy model's API key is a secret too: 0.6 reads a worker's
// proxy_api_key from <MODEL_NAME>_PROXY_API_KEY (catalog.EnvKey06); 0.7's
// model table holds api_key = "${env:HACTL_MODEL_API_KEY}".

// TOMLFile is the settings file name of the TOML generation, relative to the
// component directory (the process's working directory). DB-GPT is given its
// absolute path: the 0.7 webserver resolves a relative one against its
// install root.
const TOMLFile = "dbgpt.toml"

// Paths under the component directory.
const (
	// LogDir is where DB-GPT writes its log files (DBGPT_LOG_DIR), so two
	// components on one host do not share them.
	LogDir = "logs"
	// DataDir keeps what a component stores across deploys: the
	// webserver's SQLite meta database.
	DataDir = "data"
	// WebMetaDB is the 0.7 webserver's SQLite meta database, under DataDir.
	WebMetaDB = "dbgpt-meta.db"
	// WebMetaDBName06 is the 0.6 webserver's LOCAL_DB_NAME for SQLite
	// under DataDir: 0.6 adds ".db".
	WebMetaDBName06 = "dbgpt"
)

// DataReadme is the file that marks the webserver's data directory.
const DataReadme = "README"

const dataReadme = "hactl keeps this directory across deploys and destroy (hactl destroy --purge-registry deletes it):\n" +
	"the DB-GPT webserver's SQLite meta database (chat history, knowledge spaces, apps) is here.\n"

// The environment DB-GPT 0.6's webserver reads for its metadata database.
const (
	EnvLocalDBType     = "LOCAL_DB_TYPE"
	EnvLocalDBHost     = "LOCAL_DB_HOST"
	EnvLocalDBPort     = "LOCAL_DB_PORT"
	EnvLocalDBUser     = "LOCAL_DB_USER"
	EnvLocalDBName     = "LOCAL_DB_NAME"
	EnvLocalDBPassword = "LOCAL_DB_PASSWORD" // secret
)

// EnvLogDir is DB-GPT's log directory variable.
const EnvLogDir = "DBGPT_LOG_DIR"

// Environment variable names that carry secrets.
const (
	EnvControllerRegistryPassword = "CONTROLLER_REGISTRY_DB_PASSWORD" // flags generation
	EnvAPIServerAPIKeys           = "APISERVER_API_KEYS"              // flags generation, prefixed lookup
	EnvAPIKeys                    = "API_KEYS"                        // flags generation, bare lookup
	EnvTOMLRegistryPassword       = "HACTL_REGISTRY_PASSWORD"         // TOML generation
	EnvTOMLAPIKeys                = "HACTL_API_KEYS"                  // TOML generation
	EnvTOMLModelAPIKey            = "HACTL_MODEL_API_KEY"             // TOML generation
)

// Render renders the component of the given role and name ("webserver" and
// "apiserver" for the singletons).
func Render(c *schema.Cluster, role, name string) (Launch, error) {
	switch role {
	case schema.RoleController:
		for _, ctl := range c.Controllers {
			if ctl.Name == name {
				return RenderController(c, ctl)
			}
		}
	case schema.RoleWorker:
		for _, w := range c.Workers {
			if w.Name == name {
				return RenderWorker(c, w)
			}
		}
	case schema.RoleWebserver:
		if c.Webserver != nil {
			return RenderWebserver(c)
		}
	case schema.RoleAPIServer:
		if c.APIServer != nil {
			return RenderAPIServer(c)
		}
	default:
		return Launch{}, fmt.Errorf("unknown role %q", role)
	}
	return Launch{}, fmt.Errorf("cluster %q has no %s %q", c.Name, role, name)
}

// RenderController renders one model controller.
func RenderController(c *schema.Cluster, ctl *schema.Controller) (Launch, error) {
	l := newLaunch()
	if err := l.addEnv(c, ctl.Server, ctl.Env, "controller "+ctl.Name); err != nil {
		return Launch{}, err
	}
	reg := c.Registry
	if reg == nil {
		reg = &schema.Registry{Type: schema.RegistryEmbedded}
	}
	if c.Generation == schema.GenerationTOML {
		t := &tomlDoc{}
		s := t.table("service.model.controller")
		s.str("host", ctl.Host)
		s.int("port", ctl.Port)
		s.int("heartbeat_interval_secs", ctl.HeartbeatIntervalSecs)
		s.int("heartbeat_timeout_secs", ctl.HeartbeatTimeoutSecs)
		switch reg.Type {
		case schema.RegistryMySQL:
			d := t.table("service.model.controller.registry.database")
			d.str("type", "mysql")
			d.str("host", reg.Host)
			d.int("port", reg.Port)
			d.str("database", reg.Database)
			d.str("user", reg.User)
			// Always written: without the key DB-GPT 0.7 falls back to
			// ${env:DBGPT_DB_PASSWORD} and exits when that is not set.
			if reg.Password.IsSet() {
				d.str("password", envRef(EnvTOMLRegistryPassword))
				l.SecretEnv[EnvTOMLRegistryPassword] = reg.Password.Reveal()
			} else {
				d.str("password", "")
			}
			if reg.PoolSize > 0 {
				d.int("pool_size", reg.PoolSize)
			}
			if reg.MaxOverflow > 0 {
				d.int("max_overflow", reg.MaxOverflow)
			}
		case schema.RegistrySQLite:
			d := t.table("service.model.controller.registry.database")
			d.str("type", "sqlite")
			d.str("path", reg.Path)
		}
		logLevel(t, "service.model.controller.log", ctl.LogLevel)
		if err := l.tomlArgs(schema.RoleController, t); err != nil {
			return Launch{}, err
		}
		return l.Launch, nil
	}

	a := []string{"start", "controller", "--host", ctl.Host, "--port", itoa(ctl.Port)}
	switch reg.Type {
	case schema.RegistryMySQL:
		a = append(a, "--registry_type", "database",
			"--registry_db_type", "mysql",
			"--registry_db_name", reg.Database,
			"--registry_db_host", reg.Host,
			"--registry_db_port", itoa(reg.Port),
			"--registry_db_user", reg.User)
		if reg.PoolSize > 0 {
			a = append(a, "--registry_db_pool_size", itoa(reg.PoolSize))
		}
		if reg.MaxOverflow > 0 {
			a = append(a, "--registry_db_max_overflow", itoa(reg.MaxOverflow))
		}
		if reg.Password.IsSet() {
			l.SecretEnv[EnvControllerRegistryPassword] = reg.Password.Reveal()
		}
	case schema.RegistrySQLite:
		a = append(a, "--registry_type", "database",
			"--registry_db_type", "sqlite",
			"--registry_db_name", reg.Path)
	default:
		a = append(a, "--registry_type", "embedded")
	}
	a = append(a, "--heartbeat_interval_secs", itoa(ctl.HeartbeatIntervalSecs),
		"--heartbeat_timeout_secs", itoa(ctl.HeartbeatTimeoutSecs))
	if ctl.LogLevel != "" {
		a = append(a, "--log_level", ctl.LogLevel)
	}
	l.Args = a
	return l.Launch, nil
}

// RenderWorker renders one model worker.
func RenderWorker(c *schema.Cluster, w *schema.Worker) (Launch, error) {
	l := newLaunch()
	where := "worker " + w.Name
	if err := l.addEnv(c, w.Server, w.Env, where); err != nil {
		return Launch{}, err
	}
	m := w.Model
	ctlAddr := strings.Join(c.ControllerURLs(), ",")
	params := slices.Sorted(maps.Keys(m.Params))

	if c.Generation == schema.GenerationTOML {
		if len(w.ExtraArgs) > 0 {
			return Launch{}, fmt.Errorf("%s: extra_args are not supported by DB-GPT %s (the TOML generation takes no setting flags); use the model's params", where, c.Version)
		}
		t := &tomlDoc{}
		s := t.table("service.model.worker")
		s.str("host", w.Host)
		s.int("port", w.Port)
		s.str("worker_type", m.WorkerType)
		s.str("controller_addr", ctlAddr)
		s.str("worker_register_host", w.Server.Address)
		s.int("heartbeat_interval", w.HeartbeatIntervalSecs)
		logLevel(t, "service.model.worker.log", w.LogLevel)
		mt := t.arrayTable(modelTable(m.WorkerType))
		mt.str("name", m.Name)
		provider := m.Provider
		if provider == "" {
			provider = schema.ProviderHF
		}
		mt.str("provider", provider)
		if !m.IsProxy() {
			mt.str("path", m.Path)
		}
		if m.IsProxy() {
			switch {
			case m.Provider == schema.ProviderOpenAI && m.WorkerType == schema.WorkerTypeText2Vec:
				// Its class takes the full embeddings URL (api_url), not a base.
				mt.str("api_url", catalog.OpenAIEmbeddingURL(m.APIBase))
			case m.APIBase != "":
				mt.str("api_base", m.APIBase)
			}
			if m.APIKey.IsSet() {
				mt.str("api_key", envRef(EnvTOMLModelAPIKey))
				l.SecretEnv[EnvTOMLModelAPIKey] = m.APIKey.Reveal()
			}
			if m.Backend != "" {
				mt.str("backend", m.Backend)
			}
		}
		if w.Device != "" {
			mt.str("device", w.Device)
		}
		if w.LimitConcurrency > 0 {
			mt.int("concurrency", w.LimitConcurrency)
		}
		if w.PromptTemplate != "" {
			mt.str("prompt_template", w.PromptTemplate)
		}
		for _, k := range params {
			v := m.Params[k]
			if isSensitive(c, v) {
				env := "HACTL_MODEL_" + envName(k)
				l.SecretEnv[env] = v
				mt.str(k, envRef(env))
				continue
			}
			mt.value(k, v)
		}
		if err := l.tomlArgs(schema.RoleWorker, t); err != nil {
			return Launch{}, err
		}
		return l.Launch, nil
	}

	modelPath := m.Path
	if m.IsProxy() {
		adapter, ok := catalog.Adapter06(m.Provider, m.WorkerType)
		if !ok {
			return Launch{}, fmt.Errorf("%s: DB-GPT %s has no adapter for a %s model of provider %s", where, c.Version, m.WorkerType, m.Provider)
		}
		modelPath = adapter
	}
	a := []string{"start", "worker",
		"--model_name", m.Name,
		"--model_path", modelPath,
		"--worker_type", m.WorkerType,
		"--host", w.Host,
		"--port", itoa(w.Port),
		"--controller_addr", ctlAddr,
		"--worker_register_host", w.Server.Address,
		"--heartbeat_interval", itoa(w.HeartbeatIntervalSecs),
	}
	if m.IsProxy() {
		a = append(a, proxyFlags06(m)...)
		if m.APIKey.IsSet() {
			l.SecretEnv[catalog.EnvKey06(m.Name, catalog.Flag06APIKey)] = m.APIKey.Reveal()
		}
	}
	if w.Device != "" {
		a = append(a, "--device", w.Device)
	}
	if w.LimitConcurrency > 0 {
		a = append(a, "--limit_model_concurrency", itoa(w.LimitConcurrency))
	}
	if w.PromptTemplate != "" {
		a = append(a, "--prompt_template", w.PromptTemplate)
	}
	if w.LogLevel != "" {
		a = append(a, "--log_level", w.LogLevel)
	}
	for _, k := range params {
		v := m.Params[k]
		if isSensitive(c, v) {
			// DB-GPT reads a worker's settings from <model_name>_<KEY> too.
			l.SecretEnv[catalog.EnvKey06(m.Name, k)] = v
			continue
		}
		a = append(a, "--"+k, v)
	}
	if err := checkExtraArgs(c, w.ExtraArgs, where, "pass it as a model param instead"); err != nil {
		return Launch{}, err
	}
	a = append(a, w.ExtraArgs...)
	l.Args = a
	return l.Launch, nil
}

// RenderWebserver renders the webserver.
func RenderWebserver(c *schema.Cluster) (Launch, error) {
	ws := c.Webserver
	l := newLaunch()
	if err := l.addEnv(c, ws.Server, ws.Env, "webserver"); err != nil {
		return Launch{}, err
	}
	// Written so that the data directory exists before DB-GPT opens its
	// SQLite file there (0.6 creates only its own pilot/meta_data).
	l.Files[DataDir+"/"+DataReadme] = File{Content: []byte(dataReadme)}
	ctlAddr := strings.Join(c.ControllerURLs(), ",")
	if c.Generation == schema.GenerationTOML {
		t := &tomlDoc{}
		s := t.table("service.web")
		s.str("host", ws.Host)
		s.int("port", ws.Port)
		s.bool("light", ws.Light)
		s.str("controller_addr", ctlAddr)
		s.bool("remote_embedding", ws.RemoteEmbedding)
		if ws.RemoteRerank {
			s.bool("remote_rerank", true)
		}
		d := t.table("service.web.database")
		if reg, ok := webMetaRegistry(c); ok {
			d.str("type", "mysql")
			d.str("host", reg.Host)
			d.int("port", reg.Port)
			d.str("database", reg.Database)
			d.str("user", reg.User)
			// Always written, as the controller's: without it 0.7 falls
			// back to ${env:DBGPT_DB_PASSWORD}.
			if reg.Password.IsSet() {
				d.str("password", envRef(EnvTOMLRegistryPassword))
				l.SecretEnv[EnvTOMLRegistryPassword] = reg.Password.Reveal()
			} else {
				d.str("password", "")
			}
		} else {
			d.str("type", "sqlite")
			// Absolute: 0.7 resolves a relative path against its install root.
			d.str("path", ComponentDir+"/"+DataDir+"/"+WebMetaDB)
		}
		logLevel(t, "service.web.log", ws.LogLevel)
		if ws.DefaultLLM != nil || ws.DefaultEmbedding != nil {
			m := t.table("models")
			if ws.DefaultLLM != nil {
				m.str("default_llm", ws.DefaultLLM.Name)
			}
			if ws.DefaultEmbedding != nil {
				m.str("default_embedding", ws.DefaultEmbedding.Name)
			}
		}
		if err := l.tomlArgs(schema.RoleWebserver, t); err != nil {
			return Launch{}, err
		}
		return l.Launch, nil
	}
	a := []string{"start", "webserver", "--host", ws.Host, "--port", itoa(ws.Port)}
	if ws.Light {
		a = append(a, "--light")
	}
	if ws.RemoteEmbedding {
		a = append(a, "--remote_embedding")
	}
	if ws.RemoteRerank {
		a = append(a, "--remote_rerank")
	}
	a = append(a, "--controller_addr", ctlAddr)
	if ws.LogLevel != "" {
		a = append(a, "--log_level", ws.LogLevel)
	}
	if ws.DefaultLLM != nil {
		l.Env["LLM_MODEL"] = ws.DefaultLLM.Name
	}
	if ws.DefaultEmbedding != nil {
		l.Env["EMBEDDING_MODEL"] = ws.DefaultEmbedding.Name
	}
	metaDatabase06(c, l)
	if err := checkExtraArgs(c, ws.ExtraArgs, "webserver", "pass it through env instead"); err != nil {
		return Launch{}, err
	}
	l.Args = append(a, ws.ExtraArgs...)
	return l.Launch, nil
}

// webMetaRegistry returns the registry when the webserver keeps its
// metadata in the registry's MySQL database (validate refuses
// meta_database = "registry" with any other registry).
func webMetaRegistry(c *schema.Cluster) (*schema.Registry, bool) {
	if c.Webserver.MetaDatabase != schema.MetaDatabaseRegistry || c.Registry == nil || c.Registry.Type != schema.RegistryMySQL {
		return nil, false
	}
	return c.Registry, true
}

// metaDatabase06 sets the environment DB-GPT 0.6 reads for its metadata
// database (dbgpt/_private/config.py; dbgpt/app/base.py _initialize_db):
// LOCAL_DB_TYPE, and for mysql LOCAL_DB_HOST, LOCAL_DB_PORT, LOCAL_DB_USER,
// LOCAL_DB_NAME and LOCAL_DB_PASSWORD (a secret). For sqlite 0.6 opens
// <install>/pilot/meta_data/<LOCAL_DB_NAME>.db with os.path.join, which
// drops the prefix when the name is absolute: an absolute LOCAL_DB_NAME puts
// the file in the component's data directory (LOCAL_DB_PATH is read by
// config.py but not used for the metadata database).
func metaDatabase06(c *schema.Cluster, l *launchBuilder) {
	if reg, ok := webMetaRegistry(c); ok {
		l.Env[EnvLocalDBType] = "mysql"
		l.Env[EnvLocalDBHost] = reg.Host
		l.Env[EnvLocalDBPort] = itoa(reg.Port)
		l.Env[EnvLocalDBUser] = reg.User
		l.Env[EnvLocalDBName] = reg.Database
		// Unset, 0.6 would use its built-in default password.
		l.SecretEnv[EnvLocalDBPassword] = reg.Password.Reveal()
		return
	}
	l.Env[EnvLocalDBType] = "sqlite"
	l.Env[EnvLocalDBName] = ComponentDir + "/" + DataDir + "/" + WebMetaDBName06
}

// RenderAPIServer renders the API server.
func RenderAPIServer(c *schema.Cluster) (Launch, error) {
	as := c.APIServer
	l := newLaunch()
	if err := l.addEnv(c, as.Server, as.Env, "apiserver"); err != nil {
		return Launch{}, err
	}
	ctlAddr := strings.Join(c.ControllerURLs(), ",")
	var keys []string
	for _, k := range as.APIKeys {
		if k.IsSet() {
			keys = append(keys, k.Reveal())
		}
	}
	if c.Generation == schema.GenerationTOML {
		t := &tomlDoc{}
		s := t.table("service.model.api")
		s.str("host", as.Host)
		s.int("port", as.Port)
		s.str("controller_addr", ctlAddr)
		if len(keys) > 0 {
			s.str("api_keys", envRef(EnvTOMLAPIKeys))
			l.SecretEnv[EnvTOMLAPIKeys] = strings.Join(keys, ",")
		}
		logLevel(t, "service.model.api.log", as.LogLevel)
		if err := l.tomlArgs(schema.RoleAPIServer, t); err != nil {
			return Launch{}, err
		}
		return l.Launch, nil
	}
	a := []string{"start", "apiserver", "--host", as.Host, "--port", itoa(as.Port), "--controller_addr", ctlAddr}
	if as.LogLevel != "" {
		a = append(a, "--log_level", as.LogLevel)
	}
	if len(keys) > 0 {
		l.SecretEnv[EnvAPIServerAPIKeys] = strings.Join(keys, ",")
		l.SecretEnv[EnvAPIKeys] = strings.Join(keys, ",")
	}
	if err := checkExtraArgs(c, as.ExtraArgs, "apiserver", "pass it through env instead"); err != nil {
		return Launch{}, err
	}
	l.Args = append(a, as.ExtraArgs...)
	return l.Launch, nil
}

// proxyFlags06 are a 0.6 proxy worker's flags: the server URL and backend
// under the names of its parameter class (ProxyModelParameters for an LLM,
// ProxyEmbeddingParameters for an embedding model). The key goes by
// environment.
func proxyFlags06(m *schema.Model) []string {
	var a []string
	base := m.APIBase
	if base == "" && m.Provider == schema.ProviderOpenAI {
		base = catalog.OpenAIAPIBase
	}
	if m.WorkerType == schema.WorkerTypeText2Vec {
		if base != "" {
			a = append(a, "--"+catalog.Flag06ServerURL, base)
		}
		if m.Backend != "" {
			a = append(a, "--"+catalog.Flag06EmbBackend, m.Backend)
		}
		return a
	}
	switch {
	case m.Provider == schema.ProviderOpenAI:
		a = append(a, "--"+catalog.Flag06ServerURL, catalog.OpenAIChatURL(base), "--"+catalog.Flag06APIBase, base)
	case base != "":
		a = append(a, "--"+catalog.Flag06ServerURL, base)
	}
	if m.Backend != "" {
		a = append(a, "--"+catalog.Flag06LLMBackend, m.Backend)
	}
	return a
}

// checkExtraArgs refuses a sensitive value in extra_args (validate refuses
// it first): it would be on the command line.
func checkExtraArgs(c *schema.Cluster, args []string, where, instead string) error {
	for _, x := range args {
		if isSensitive(c, x) {
			return fmt.Errorf("%s: extra_args holds a sensitive value, which would be visible on the command line; %s", where, instead)
		}
	}
	return nil
}

// logLevel writes a role's log table (0.7).
func logLevel(t *tomlDoc, header, level string) {
	if level != "" {
		t.table(header).str("level", level)
	}
}

type launchBuilder struct{ Launch }

func newLaunch() *launchBuilder {
	return &launchBuilder{Launch{
		Env:       map[string]string{},
		SecretEnv: map[string]string{},
		Files:     map[string]File{},
	}}
}

// addEnv sets DB-GPT's log directory and adds the component's environment
// (its server's env under its own); values holding a secret go to SecretEnv.
func (l *launchBuilder) addEnv(c *schema.Cluster, srv *schema.Server, own map[string]string, where string) error {
	l.Env[EnvLogDir] = ComponentDir + "/" + LogDir
	for k, v := range schema.MergedEnv(srv, own) {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fmt.Errorf("%s: invalid environment variable name %q", where, k)
		}
		if isSensitive(c, v) {
			l.SecretEnv[k] = v
			delete(l.Env, k)
		} else {
			l.Env[k] = v
		}
	}
	return nil
}

func (l *launchBuilder) tomlArgs(role string, t *tomlDoc) error {
	if ref := strayEnvRef(t.String(), l.SecretEnv); ref != "" {
		// schema refuses these in validate; this catches a value that got
		// past it.
		return fmt.Errorf("%s: a setting holds %q, which DB-GPT would replace by its own environment variable (its configuration loader has no escape for ${env:...})", role, ref)
	}
	l.Args = []string{"start", role, "-c", ComponentDir + "/" + TOMLFile}
	// The file holds only ${env:...} references to secrets, but it is still
	// the component's settings: owner-only like every settings file.
	l.Files[TOMLFile] = File{Content: []byte(t.String()), Secret: true}
	return nil
}

func modelTable(workerType string) string {
	switch workerType {
	case schema.WorkerTypeText2Vec:
		return "models.embeddings"
	case schema.WorkerTypeReranker:
		return "models.rerankers"
	default:
		return "models.llms"
	}
}

func isSensitive(c *schema.Cluster, v string) bool {
	if v == "" {
		return false
	}
	for _, s := range c.Secrets() {
		if s != "" && strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// envName upper-cases a name and turns every character that is not a
// letter, digit or '_' into '_'.
func envName(s string) string {
	b := []byte(strings.ToUpper(s))
	for i, ch := range b {
		if !(ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

func envRef(name string) string { return "${env:" + name + "}" }

func itoa(i int) string { return strconv.Itoa(i) }
