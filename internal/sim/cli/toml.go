package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/hactl/hactl/internal/sim/upstream"
)

var envRef = regexp.MustCompile(`\$\{env:([^}:]+)(?::-([^}]*))?\}`)

// tomlFile is a loaded configuration with placeholders resolved.
type tomlFile struct {
	path string
	root map[string]any
}

// pyExc is a Python exception that ends a process: report prints it as a
// traceback, exit 1.
type pyExc struct {
	Where string // "File ..., in ..." line of the raising frame
	Exc   string // e.g. "ValueError: Environment variable X not found"
}

func (e *pyExc) Error() string { return e.Exc }

func valueError(where, format string, args ...any) *pyExc {
	return &pyExc{Where: where, Exc: "ValueError: " + fmt.Sprintf(format, args...)}
}

const whereConfig = `packages/dbgpt-core/src/dbgpt/util/configure/manager.py", line 234, in replace_env_var`

func loadTOML(path string) (*tomlFile, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, &pyExc{Where: `packages/dbgpt-app/src/dbgpt_app/config.py", line 512, in load_config`,
			Exc: "FileNotFoundError: Configuration file not found: " + path}
	}
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	var root map[string]any
	if _, err := toml.Decode(string(data), &root); err != nil {
		return nil, fmt.Errorf("parsing config file %s: %w", path, err)
	}
	v, err := resolve(root, "")
	if err != nil {
		return nil, err
	}
	return &tomlFile{path: path, root: v.(map[string]any)}, nil
}

// resolve replaces ${env:NAME} and ${env:NAME:-default} in every string.
func resolve(v any, at string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			r, err := resolve(e, join(at, k))
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
		return x, nil
	case []map[string]any:
		for i := range x {
			r, err := resolve(x[i], fmt.Sprintf("%s[%d]", at, i))
			if err != nil {
				return nil, err
			}
			x[i] = r.(map[string]any)
		}
		return x, nil
	case []any:
		for i := range x {
			r, err := resolve(x[i], fmt.Sprintf("%s[%d]", at, i))
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
		return x, nil
	case string:
		var firstErr error
		out := envRef.ReplaceAllStringFunc(x, func(m string) string {
			sub := envRef.FindStringSubmatch(m)
			if val, ok := os.LookupEnv(sub[1]); ok {
				return val
			}
			if strings.Contains(m, ":-") {
				return sub[2]
			}
			if firstErr == nil {
				// DB-GPT names the variable only; the sim adds the key in
				// the frame line, as a traceback would show the value.
				firstErr = valueError(whereConfig+" (resolving "+at+")", "Environment variable %s not found", sub[1])
			}
			return ""
		})
		return out, firstErr
	}
	return v, nil
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// table returns the table at a dotted path, or nil.
func (f *tomlFile) table(path string) map[string]any {
	cur := f.root
	for _, k := range strings.Split(path, ".") {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur
}

func tStr(t map[string]any, at, key, def string) (string, error) {
	v, ok := t[key]
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		if x {
			return "True", nil
		}
		return "False", nil
	}
	return "", fmt.Errorf("%s.%s: expected a string, got %T", at, key, v)
}

func tInt(t map[string]any, at, key string, def int) (int, error) {
	v, ok := t[key]
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case int64:
		return int(x), nil
	case float64:
		return int(x), nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%s.%s: invalid literal for int() with base 10: '%s'", at, key, x)
		}
		return n, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("%s.%s: expected an integer, got %T", at, key, v)
}

// tBool converts as Python's bool(): a TOML boolean as is, but any non-empty
// string is true, "false" included.
func tBool(t map[string]any, key string, def bool) bool {
	v, ok := t[key]
	if !ok || v == nil {
		return def
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x != ""
	case int64:
		return x != 0
	case float64:
		return x != 0
	}
	return true
}

func tAddrs(t map[string]any, at string) ([]string, error) {
	v, ok := t["controller_addr"]
	if !ok {
		return nil, nil
	}
	if l, ok := v.([]any); ok {
		var out []string
		for _, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s.controller_addr: expected strings", at)
			}
			out = append(out, upstream.SplitAddrs(s)...)
		}
		return out, nil
	}
	s, err := tStr(t, at, "controller_addr", "")
	return upstream.SplitAddrs(s), err
}

const (
	ctlPath    = "service.model.controller"
	regDBPath  = "service.model.controller.registry.database"
	workerPath = "service.model.worker"
	webPath    = "service.web"
	apiPath    = "service.model.api"
)

func controllerFromTOML(f *tomlFile) (ControllerSettings, error) {
	s := ControllerSettings{Host: "0.0.0.0", Port: 8000, HeartbeatInterval: 20 * time.Second, HeartbeatTimeout: 60 * time.Second}
	var err error
	if s.Log, err = tomlLog(f, ctlPath, "dbgpt_model_controller.log"); err != nil {
		return s, err
	}
	t := f.table(ctlPath)
	if t == nil {
		return s, nil
	}
	if s.Host, err = tStr(t, ctlPath, "host", "0.0.0.0"); err != nil {
		return s, err
	}
	if s.Port, err = tInt(t, ctlPath, "port", 8000); err != nil {
		return s, err
	}
	var n int
	if n, err = tInt(t, ctlPath, "heartbeat_interval_secs", 20); err != nil {
		return s, err
	}
	s.HeartbeatInterval = time.Duration(n) * time.Second
	if n, err = tInt(t, ctlPath, "heartbeat_timeout_secs", 60); err != nil {
		return s, err
	}
	s.HeartbeatTimeout = time.Duration(n) * time.Second
	db := f.table(regDBPath)
	if db == nil {
		return s, nil
	}
	d := &DBSettings{PoolSize: 5, MaxOverflow: 10}
	for _, kv := range []struct {
		key string
		dst *string
		def string
	}{{"type", &d.Type, ""}, {"host", &d.Host, ""}, {"database", &d.Name, "dbgpt"}, {"user", &d.User, ""},
		{"password", &d.Password, ""}, {"path", &d.Path, ""}} {
		if *kv.dst, err = tStr(db, regDBPath, kv.key, kv.def); err != nil {
			return s, err
		}
	}
	if d.Port, err = tInt(db, regDBPath, "port", 3306); err != nil {
		return s, err
	}
	if d.PoolSize, err = tInt(db, regDBPath, "pool_size", 5); err != nil {
		return s, err
	}
	if d.MaxOverflow, err = tInt(db, regDBPath, "max_overflow", 10); err != nil {
		return s, err
	}
	if _, ok := db["password"]; !ok && d.Type == "mysql" {
		// The class's default is "${env:DBGPT_DB_PASSWORD}", resolved when
		// the file is parsed.
		v, err := resolve("${env:DBGPT_DB_PASSWORD}", regDBPath+".password")
		if err != nil {
			return s, err
		}
		d.Password = v.(string)
	}
	if d.Type != "mysql" && d.Type != "sqlite" {
		return s, fmt.Errorf("%s.type: unsupported registry database type %q (mysql or sqlite)", regDBPath, d.Type)
	}
	if d.Type == "sqlite" && d.Path != "" {
		d.Path = rootRelative(d.Path)
	}
	s.DB = d
	return s, nil
}

// rootRelative resolves a relative path in the TOML against the install
// root, as 0.7 does (not against the working directory).
func rootRelative(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(InstallRoot(), p)
}

// tomlLog reads a role's [<role>.log] table, falling back to [log].
func tomlLog(f *tomlFile, rolePath, defFile string) (LogSettings, error) {
	l := LogSettings{File: defFile}
	for _, at := range []string{"log", rolePath + ".log"} {
		t := f.table(at)
		if t == nil {
			continue
		}
		var err error
		if l.Level, err = tStr(t, at, "level", l.Level); err != nil {
			return l, err
		}
		if l.File, err = tStr(t, at, "file", l.File); err != nil {
			return l, err
		}
	}
	return l, nil
}

func workerFromTOML(f *tomlFile) (WorkerSettings, error) {
	s := WorkerSettings{Host: "0.0.0.0", Port: 8001, Register: true, SendHeartbeat: true, HeartbeatInterval: 20 * time.Second,
		ControllerAddr: []string{"http://127.0.0.1:8000"}}
	t := f.table(workerPath)
	if t == nil {
		t = map[string]any{}
	}
	var err error
	if s.Log, err = tomlLog(f, workerPath, "dbgpt_model_worker_manager.log"); err != nil {
		return s, err
	}
	if s.Host, err = tStr(t, workerPath, "host", "0.0.0.0"); err != nil {
		return s, err
	}
	if s.Port, err = tInt(t, workerPath, "port", 8001); err != nil {
		return s, err
	}
	if s.RegisterHost, err = tStr(t, workerPath, "worker_register_host", ""); err != nil {
		return s, err
	}
	if addrs, err := tAddrs(t, workerPath); err != nil {
		return s, err
	} else if len(addrs) > 0 {
		s.ControllerAddr = addrs
	}
	n, err := tInt(t, workerPath, "heartbeat_interval", 20)
	if err != nil {
		return s, err
	}
	s.HeartbeatInterval = time.Duration(n) * time.Second
	s.Register = tBool(t, "register", true)
	s.SendHeartbeat = tBool(t, "send_heartbeat", true)
	want, err := tStr(t, workerPath, "worker_type", "")
	if err != nil {
		return s, err
	}
	type found struct {
		typ, section string
		m            map[string]any
		at           string
	}
	var models []found
	models_ := f.table("models")
	for _, sec := range []struct{ key, typ string }{{"llms", "llm"}, {"embeddings", "text2vec"}, {"rerankers", "reranker"}} {
		if models_ == nil {
			break
		}
		if want != "" && want != sec.typ {
			continue
		}
		list, _ := models_[sec.key].([]map[string]any)
		for i, m := range list {
			models = append(models, found{sec.typ, sec.key, m, fmt.Sprintf("models.%s[%d]", sec.key, i)})
		}
	}
	if len(models) != 1 {
		return s, fmt.Errorf("%s: a worker serves exactly one model, found %d in [[models.llms]], [[models.embeddings]] and [[models.rerankers]]", f.path, len(models))
	}
	m := models[0]
	s.WorkerType = m.typ
	if s.ModelName, err = tStr(m.m, m.at, "name", ""); err != nil {
		return s, err
	}
	if s.ModelName == "" {
		return s, fmt.Errorf("%s.name: model name is required", m.at)
	}
	provider, err := tStr(m.m, m.at, "provider", "")
	if err != nil {
		return s, err
	}
	keys := tomlProviderKeys(m.section, provider)
	if keys == nil {
		return s, valueError(`packages/dbgpt-core/src/dbgpt/model/adapter/model_adapter.py", line 71, in get_llm_model_adapter`,
			"Can not find adapter for model %s", s.ModelName)
	}
	s.ParamClass = provider
	has := map[string]bool{}
	for _, k := range keys {
		has[k] = true
	}
	// Keys the class lacks vanish when the table becomes the dataclass.
	for k := range m.m {
		if !has[k] {
			s.Dropped = append(s.Dropped, k)
			delete(m.m, k)
		}
	}
	sort.Strings(s.Dropped)
	s.NoPath = strings.HasPrefix(provider, "proxy/")
	if s.ModelPath, err = tStr(m.m, m.at, "path", ""); err != nil {
		return s, err
	}
	if provider == "proxy/openai" {
		if err := openAIKey(&s, m.m, m.section, m.at); err != nil {
			return s, err
		}
	}
	if t, _ := tStr(m.m, m.at, "prompt_template", ""); t != "" {
		s.PromptTemplate = &t
	}
	return s, nil
}

// openAIKey checks a proxy/openai model's key: the LLM class's api_key
// defaults to "${env:OPENAI_API_KEY}" (resolved at parse time); an empty key
// fails when the OpenAI client is created.
func openAIKey(s *WorkerSettings, m map[string]any, section, at string) error {
	k, present := m["api_key"]
	key, _ := k.(string)
	switch {
	case present && key != "":
		s.APIKeySource = at + ".api_key"
		return nil
	case os.Getenv("OPENAI_API_KEY") != "":
		s.APIKeySource = "OPENAI_API_KEY"
		return nil
	case !present && section == "llms":
		_, err := resolve("${env:OPENAI_API_KEY}", at+".api_key")
		return err
	}
	return &pyExc{Where: `openai/_client.py", line 110, in __init__`,
		Exc: "openai.OpenAIError: The api_key client option must be set either by passing api_key to the client or by setting the OPENAI_API_KEY environment variable"}
}

func webFromTOML(f *tomlFile) (WebSettings, error) {
	s := WebSettings{Host: "0.0.0.0", Port: 5670, ControllerAddr: []string{"http://127.0.0.1:8000"},
		MetaDB: rootRelative("pilot/meta_data/dbgpt.db")}
	var err error
	if s.Log, err = tomlLog(f, webPath, "dbgpt_webserver.log"); err != nil {
		return s, err
	}
	if db := f.table(webPath + ".database"); db != nil {
		typ, err := tStr(db, webPath+".database", "type", "sqlite")
		if err != nil {
			return s, err
		}
		s.MetaDB = ""
		switch typ {
		case "sqlite":
			p, err := tStr(db, webPath+".database", "path", "pilot/meta_data/dbgpt.db")
			if err != nil {
				return s, err
			}
			s.MetaDB = rootRelative(p)
		case "mysql":
			at := webPath + ".database"
			d := &DBSettings{Type: "mysql", PoolSize: 5, MaxOverflow: 10}
			for _, kv := range []struct {
				key string
				dst *string
				def string
			}{{"host", &d.Host, ""}, {"database", &d.Name, "dbgpt"}, {"user", &d.User, ""}, {"password", &d.Password, ""}} {
				if *kv.dst, err = tStr(db, at, kv.key, kv.def); err != nil {
					return s, err
				}
			}
			if d.Port, err = tInt(db, at, "port", 3306); err != nil {
				return s, err
			}
			if _, ok := db["password"]; !ok {
				// As the registry's: the default is "${env:DBGPT_DB_PASSWORD}".
				v, err := resolve("${env:DBGPT_DB_PASSWORD}", at+".password")
				if err != nil {
					return s, err
				}
				d.Password = v.(string)
			}
			s.MetaMySQL = d
		default:
			return s, fmt.Errorf("%s.database.type: unsupported database type %q (mysql or sqlite)", webPath, typ)
		}
	}
	t := f.table(webPath)
	if t == nil {
		return s, nil
	}
	if s.Host, err = tStr(t, webPath, "host", "0.0.0.0"); err != nil {
		return s, err
	}
	if s.Port, err = tInt(t, webPath, "port", 5670); err != nil {
		return s, err
	}
	s.Light = tBool(t, "light", false)
	if addrs, err := tAddrs(t, webPath); err != nil {
		return s, err
	} else if len(addrs) > 0 {
		s.ControllerAddr = addrs
	}
	return s, nil
}

func apiFromTOML(f *tomlFile) (APISettings, error) {
	s := APISettings{Host: "0.0.0.0", Port: 8100, ControllerAddr: []string{"http://127.0.0.1:8000"}}
	var err error
	if s.Log, err = tomlLog(f, apiPath, "dbgpt_model_apiserver.log"); err != nil {
		return s, err
	}
	t := f.table(apiPath)
	if t == nil {
		return s, nil
	}
	if s.Host, err = tStr(t, apiPath, "host", "0.0.0.0"); err != nil {
		return s, err
	}
	if s.Port, err = tInt(t, apiPath, "port", 8100); err != nil {
		return s, err
	}
	if addrs, err := tAddrs(t, apiPath); err != nil {
		return s, err
	} else if len(addrs) > 0 {
		s.ControllerAddr = addrs
	}
	switch k := t["api_keys"].(type) {
	case []any:
		for _, e := range k {
			if str, ok := e.(string); ok && str != "" {
				s.APIKeys = append(s.APIKeys, str)
			}
		}
	case string:
		for _, e := range strings.Split(k, ",") {
			if e = strings.TrimSpace(e); e != "" {
				s.APIKeys = append(s.APIKeys, e)
			}
		}
	}
	return s, nil
}
