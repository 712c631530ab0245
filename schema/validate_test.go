package schema

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// ruleCase is a cluster file (after a first line `cluster { name = "t" }`
// unless the case starts with its own cluster block) and the diagnostics one
// rule alone adds to it, each written
// "error|warning LINE:COLUMN Summary: fragment of the detail".
type ruleCase struct {
	name  string
	lines []string
	want  []string
}

func (rc ruleCase) src() string {
	if len(rc.lines) > 0 && strings.HasPrefix(rc.lines[0], "cluster ") {
		return strings.Join(rc.lines, "\n") + "\n"
	}
	return "cluster { name = \"t\" }\n" + strings.Join(rc.lines, "\n") + "\n"
}

// runRule decodes the file's blocks (which must decode without error) and
// returns the diagnostics r adds, quiet as usageRules see it after a clean
// file.
func runRule(t *testing.T, r rule, src string) hcl.Diagnostics {
	t.Helper()
	d := newDecoder("cluster.hcl", LoadOptions{Environ: []string{"HOME=/home/op"}, AllowUnsetVariables: true}, hclparse.NewParser())
	if d.decodeBlocks([]byte(src)) == nil || d.diags.HasErrors() {
		t.Fatalf("the case does not decode: %s", d.diags.Error())
	}
	before := len(d.diags)
	r(d.newValidation())
	return d.diags[before:]
}

func formatDiag(d *hcl.Diagnostic) string {
	sev := "error"
	if d.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	return fmt.Sprintf("%s %d:%d %s: %s", sev, d.Subject.Start.Line, d.Subject.Start.Column, d.Summary, d.Detail)
}

func testRule(t *testing.T, r rule, cases []ruleCase) {
	t.Helper()
	breaks, keeps := false, false
	for _, rc := range cases {
		breaks, keeps = breaks || len(rc.want) > 0, keeps || len(rc.want) == 0
	}
	if !breaks || !keeps {
		t.Fatal("a rule needs a case that breaks it and one that does not")
	}
	for _, rc := range cases {
		t.Run(rc.name, func(t *testing.T) {
			diags := runRule(t, r, rc.src())
			var got []string
			for _, d := range diags {
				got = append(got, formatDiag(d))
			}
			ok := len(got) == len(rc.want)
			for i := 0; ok && i < len(got); i++ {
				head, frag, _ := strings.Cut(rc.want[i], ": ")
				ok = strings.HasPrefix(got[i], head+": ") && strings.Contains(got[i], frag)
			}
			if !ok {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(rc.want, "\n  "))
			}
		})
	}
}

// Every rule has a test below.
func TestEveryRuleTested(t *testing.T) {
	src, err := os.ReadFile("validate_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append(append([]rule{}, structureRules...), usageRules...) {
		name := runtime.FuncForPC(reflect.ValueOf(r).Pointer()).Name()
		name = name[strings.LastIndex(name, ".")+1:]
		if !strings.Contains(string(src), "testRule(t, "+name+",") {
			t.Errorf("%s has no testRule call", name)
		}
	}
}

// Servers used by the cases: s1 and s2 are two machines, s1b is s1's
// machine under another name, lo is a loopback address.
var (
	s1  = `server "s1" { address = "10.0.0.1" }`
	s2  = `server "s2" { address = "10.0.0.2" }`
	s1b = `server "s1b" { address = "10.0.0.1" }`
	lo  = `server "lo" { address = "127.0.0.1" }`
	llm = `model "m" {
  type = "llm"
  path = "/m"
}`
)

func TestRuleClusterHasController(t *testing.T) {
	testRule(t, ruleClusterHasController, []ruleCase{
		{name: "none", lines: []string{s1}, want: []string{"error 1:1 No controller: at least one controller block"}},
		{name: "one", lines: []string{s1, `controller "c" { server = server.s1 }`}},
	})
}

func TestRulePortsUniquePerMachine(t *testing.T) {
	testRule(t, rulePortsUniquePerMachine, []ruleCase{
		{name: "defaults differ", lines: []string{s1, llm, `controller "c" { server = server.s1 }`, `worker "w" {
  server = server.s1
  model  = model.m
}`}},
		{name: "same server", lines: []string{s1, llm, `controller "c" { server = server.s1 }`, `worker "w" {
  server = server.s1
  model  = model.m
  port   = 8000
}`}, want: []string{`error 11:12 Port already in use: controller.c and worker.w both use port 8000 on server "s1" (controller.c is declared at cluster.hcl:7,1-15)`}},
		{name: "same address", lines: []string{s1, s1b, `controller "c" { server = server.s1 }`, `controller "d" { server = server.s1b }`},
			want: []string{`error 5:1 Port already in use: controller.c and controller.d both use port 8000 on servers "s1" and "s1b" (the same machine)`}},
		{name: "other machine", lines: []string{s1, s2, `controller "c" { server = server.s1 }`, `controller "d" { server = server.s2 }`}},
		{name: "port unknown", lines: []string{`variable "p" { type = number }`, s1, `controller "c" { server = server.s1 }`, `controller "d" {
  server = server.s1
  port   = var.p
}`}},
	})
}

func TestRuleEmbeddedRegistrySingleController(t *testing.T) {
	testRule(t, ruleEmbeddedRegistrySingleController, []ruleCase{
		{name: "one controller", lines: []string{s1, `controller "c" { server = server.s1 }`}},
		{name: "two without registry", lines: []string{s1, s2, `controller "c" { server = server.s1 }`, `controller "d" { server = server.s2 }`},
			want: []string{"error 5:1 High availability needs a database registry: The cluster has 2 controllers but no mysql or sqlite registry"}},
		{name: "two with sqlite", lines: []string{s1, `registry "sqlite" { path = "/r.db" }`, `controller "c" { server = server.s1 }`, `controller "d" {
  server = server.s1
  port   = 8002
}`}},
	})
}

func TestRuleSQLiteControllersOnOneMachine(t *testing.T) {
	testRule(t, ruleSQLiteControllersOnOneMachine, []ruleCase{
		{name: "one machine", lines: []string{s1, s1b, `registry "sqlite" { path = "/r.db" }`, `controller "c" { server = server.s1 }`, `controller "d" {
  server = server.s1b
  port   = 8002
}`}},
		{name: "two machines, reported once", lines: []string{s1, s2, `registry "sqlite" { path = "/r.db" }`, `controller "c" { server = server.s1 }`,
			`controller "d" { server = server.s2 }`, `controller "e" { server = server.s2 }`},
			want: []string{`error 6:27 SQLite registry on several servers: controller.d runs on server "s2" but controller.c on server "s1"`}},
		{name: "mysql", lines: []string{s1, s2, mysql("10.0.0.9"), `controller "c" { server = server.s1 }`, `controller "d" { server = server.s2 }`}},
	})
}

func mysql(host string) string {
	return `registry "mysql" {
  host     = "` + host + `"
  database = "d"
  user     = "u"
  password = "pw1"
}`
}

func TestRuleMySQLHostNotLoopbackAcrossMachines(t *testing.T) {
	testRule(t, ruleMySQLHostNotLoopbackAcrossMachines, []ruleCase{
		{name: "loopback, two machines", lines: []string{s1, s2, mysql("127.0.0.1"), `controller "c" { server = server.s1 }`, `controller "d" { server = server.s2 }`},
			want: []string{`error 5:14 Registry host is loopback: The registry host "127.0.0.1" is the loopback address, but controllers run on 2 different servers`}},
		{name: "localhost, one machine", lines: []string{s1, s1b, mysql("localhost"), `controller "c" { server = server.s1 }`, `controller "d" {
  server = server.s1b
  port   = 8002
}`}},
		{name: "shared host", lines: []string{s1, s2, mysql("db.example"), `controller "c" { server = server.s1 }`, `controller "d" { server = server.s2 }`}},
	})
}

func TestRuleMySQLPasswordSet(t *testing.T) {
	testRule(t, ruleMySQLPasswordSet, []ruleCase{
		{name: "no password", lines: []string{s1, `registry "mysql" {
  host     = "db"
  database = "d"
  user     = "u"
}`, `controller "c" { server = server.s1 }`}, want: []string{"warning 3:1 Registry without password: The mysql registry has no password."}},
		{name: "password", lines: []string{s1, mysql("db"), `controller "c" { server = server.s1 }`}},
		{name: "password not set yet", lines: []string{`variable "pw" {
  type      = string
  sensitive = true
}`, s1, `registry "mysql" {
  host     = "db"
  database = "d"
  user     = "u"
  password = var.pw
}`, `controller "c" { server = server.s1 }`}},
	})
}

func TestRuleHeartbeatTimeoutAboveInterval(t *testing.T) {
	testRule(t, ruleHeartbeatTimeoutAboveInterval, []ruleCase{
		{name: "defaults", lines: []string{s1, `controller "c" { server = server.s1 }`}},
		{name: "equal", lines: []string{s1, `controller "c" {
  server             = server.s1
  heartbeat_interval = 30
  heartbeat_timeout  = 30
}`}, want: []string{"error 6:24 Heartbeat timeout too short: controller.c: heartbeat_timeout (30 s) must be longer than heartbeat_interval (30 s)."}},
	})
}

func TestRuleHeartbeatTimeoutAboveWorkerManagerBeat(t *testing.T) {
	ctl := func(timeout, interval int) string {
		return fmt.Sprintf(`controller "c" {
  server             = server.s1
  heartbeat_interval = %d
  heartbeat_timeout  = %d
}`, interval, timeout)
	}
	w := `worker "w" {
  server = server.s1
  model  = model.m
}`
	testRule(t, ruleHeartbeatTimeoutAboveWorkerManagerBeat, []ruleCase{
		{name: "at the beat", lines: []string{s1, llm, ctl(20, 5), w},
			want: []string{"warning 10:24 Heartbeat timeout shorter than the worker manager's beat: heartbeat_timeout = 20 that row turns stale"}},
		{name: "above the beat", lines: []string{s1, llm, ctl(21, 5), w}},
		{name: "no workers", lines: []string{s1, ctl(10, 5)}},
		{name: "already too short", lines: []string{s1, llm, ctl(5, 5), w}},
	})
}

func TestRuleWorkerHeartbeatBelowControllerTimeout(t *testing.T) {
	w := func(interval int) string {
		return fmt.Sprintf(`worker "w" {
  server             = server.s1
  model              = model.m
  heartbeat_interval = %d
}`, interval)
	}
	ctls := []string{`controller "c" { server = server.s1 }`, `controller "d" {
  server            = server.s1
  port              = 8002
  heartbeat_timeout = 45
}`}
	testRule(t, ruleWorkerHeartbeatBelowControllerTimeout, []ruleCase{
		{name: "below", lines: append([]string{s1, llm}, append(ctls, w(44))...)},
		{name: "at the smallest timeout", lines: append([]string{s1, llm}, append(ctls, w(45))...),
			want: []string{"error 16:24 Heartbeat interval too long: worker.w sends a heartbeat every 45 s, but a controller marks workers unhealthy after 45 s"}},
		{name: "no controllers", lines: []string{s1, llm, w(100)}},
	})
}

func TestRuleModelsServed(t *testing.T) {
	testRule(t, ruleModelsServed, []ruleCase{
		{name: "not served", lines: []string{s1, llm, `controller "c" { server = server.s1 }`}, want: []string{`warning 3:1 Model not served: No worker serves model "m".`}},
		{name: "served", lines: []string{s1, llm, `controller "c" { server = server.s1 }`, `worker "w" {
  server = server.s1
  model  = model.m
}`}},
	})
}

// webserverCase is a cluster with an llm model m (served by worker w when
// served), a text2vec model e (served by worker we when served) and the
// webserver's arguments.
func webserverCase(name string, served bool, wsArgs string, want ...string) ruleCase {
	lines := []string{s1, llm, `model "e" {
  type = "text2vec"
  path = "/e"
}`, `controller "c" { server = server.s1 }`}
	if served {
		lines = append(lines, `worker "w" {
  server = server.s1
  model  = model.m
}`, `worker "we" {
  server = server.s1
  model  = model.e
  port   = 8002
}`)
	}
	lines = append(lines, "webserver {\n  server = server.s1\n"+wsArgs+"}")
	return ruleCase{name: name, lines: lines, want: want}
}

func TestRuleDefaultLLMServedLLM(t *testing.T) {
	testRule(t, ruleDefaultLLMServedLLM, []ruleCase{
		webserverCase("served llm", true, "  default_llm = model.m\n"),
		webserverCase("text2vec", true, "  default_llm = model.e\n",
			`error 23:17 Wrong model type: default_llm must be an llm model, but model "e" is a text2vec model.`),
		webserverCase("not served", false, "  default_llm = model.m\n",
			`error 14:17 Default model not served: default_llm is model "m", but no worker serves it. Add a worker with model = model.m.`),
		webserverCase("none", false, ""),
	})
}

func TestRuleDefaultEmbeddingServedText2Vec(t *testing.T) {
	testRule(t, ruleDefaultEmbeddingServedText2Vec, []ruleCase{
		webserverCase("served text2vec", true, "  default_embedding = model.e\n"),
		webserverCase("llm", true, "  default_embedding = model.m\n",
			`error 23:23 Wrong model type: default_embedding must be a text2vec model, but model "m" is an llm model.`),
		webserverCase("not served", false, "  default_embedding = model.e\n",
			`error 14:23 Default model not served: default_embedding is model "e", but no worker serves it.`),
	})
}

func TestRuleRemoteEmbeddingHasWorker(t *testing.T) {
	testRule(t, ruleRemoteEmbeddingHasWorker, []ruleCase{
		webserverCase("served", true, "  remote_embedding = true\n"),
		webserverCase("not served", false, "  remote_embedding = true\n",
			"warning 14:22 No embedding worker: remote_embedding is on but no worker serves a text2vec model."),
		// ruleDefaultEmbeddingServedText2Vec says it then.
		webserverCase("default not served", false, "  remote_embedding  = true\n  default_embedding = model.e\n"),
		webserverCase("off", false, ""),
	})
}

func TestRuleWebserverLightWithSeveralControllers(t *testing.T) {
	two := func(light string, want ...string) ruleCase {
		return ruleCase{name: "light " + light, lines: []string{s1, s2, `controller "c" { server = server.s1 }`, `controller "d" { server = server.s2 }`,
			"webserver {\n  server = server.s1\n  light  = " + light + "\n}"}, want: want}
	}
	testRule(t, ruleWebserverLightWithSeveralControllers, []ruleCase{
		two("true"),
		two("false", "warning 8:12 Webserver not light: With light = false the webserver runs its own model manager"),
		{name: "one controller", lines: []string{s1, `controller "c" { server = server.s1 }`, "webserver {\n  server = server.s1\n  light  = false\n}"}},
	})
}

func TestRuleAPIServerHasLLM(t *testing.T) {
	testRule(t, ruleAPIServerHasLLM, []ruleCase{
		{name: "no llm served", lines: []string{s1, llm, `controller "c" { server = server.s1 }`, `apiserver { server = server.s1 }`},
			want: []string{"warning 8:1 API server without an LLM: No worker serves an llm model"}},
		{name: "llm served", lines: []string{s1, llm, `controller "c" { server = server.s1 }`, `worker "w" {
  server = server.s1
  model  = model.m
}`, `apiserver { server = server.s1 }`}},
	})
}

func TestRuleReachableAcrossMachines(t *testing.T) {
	testRule(t, ruleReachableAcrossMachines, []ruleCase{
		{name: "one machine", lines: []string{lo, `controller "c" {
  server = server.lo
  host   = "127.0.0.1"
}`}},
		{name: "loopback server", lines: []string{lo, s2, `controller "c" { server = server.lo }`, `controller "d" { server = server.s2 }`},
			want: []string{`warning 4:1 Unreachable from other servers: controller.c runs on server "lo" whose address 127.0.0.1 is loopback`}},
		{name: "loopback bind", lines: []string{s1, s2, llm, `controller "c" { server = server.s1 }`, `worker "w" {
  server = server.s2
  model  = model.m
  host   = "localhost"
}`}, want: []string{"warning 12:12 Unreachable from other servers: worker.w listens on localhost only"}},
		{name: "webserver bind is its own", lines: []string{s1, s2, `controller "c" { server = server.s1 }`, "webserver {\n  server = server.s2\n  host   = \"127.0.0.1\"\n}"}},
	})
}

const cluster07 = `cluster {
  name          = "t"
  dbgpt_version = "0.7.0"
}`

func TestRuleProviderKnown(t *testing.T) {
	model := func(typ, provider string) string {
		return "model \"m\" {\n  type     = \"" + typ + "\"\n  provider = \"" + provider + "\"\n  path     = \"/m\"\n}"
	}
	proxy := "model \"m\" {\n  type     = \"llm\"\n  provider = \"proxy/openai\"\n}"
	testRule(t, ruleProviderKnown, []ruleCase{
		{name: "0.6 proxy/openai", lines: []string{proxy}},
		{name: "0.6 hf", lines: []string{model("llm", "hf")}},
		{name: "0.6 default hf", lines: []string{llm}},
		{name: "0.6 vllm", lines: []string{model("llm", "vllm")},
			want: []string{`error 4:14 Provider not available in DB-GPT 0.6.3: Model "m": DB-GPT 0.6.3 cannot serve a llm model with provider "vllm" (hactl knows no 0.6 adapter for it). Providers for llm models with DB-GPT 0.6: "hf", "proxy/baichuan"`}},
		{name: "0.6 typo", lines: []string{"model \"m\" {\n  type     = \"llm\"\n  provider = \"proxy/opnai\"\n}"},
			want: []string{`error 4:14 Provider not available in DB-GPT 0.6.3: Did you mean "proxy/openai"?`}},
		{name: "0.6 no embedding adapter", lines: []string{"model \"proxy_zhipu\" {\n  type     = \"text2vec\"\n  provider = \"proxy/zhipu\"\n}"},
			want: []string{`error 4:14 Provider not available in DB-GPT 0.6.3: Providers for text2vec models with DB-GPT 0.6: "hf", "proxy/ollama", "proxy/openai", "proxy/tongyi".`}},
		{name: "0.7 vllm", lines: []string{cluster07, model("llm", "vllm")}},
		{name: "0.7 any proxy", lines: []string{cluster07, "model \"m\" {\n  type     = \"llm\"\n  provider = \"proxy/siliconflow\"\n}"}},
		{name: "0.7 unknown", lines: []string{cluster07, model("llm", "huggingface")},
			want: []string{`error 7:14 Unknown provider: DB-GPT 0.7.0 has no provider "huggingface". Providers: "hf", "llama.cpp", "llama_cpp_server", "vllm", or a proxy`}},
	})
}

func TestRuleProxyEmbeddingName06(t *testing.T) {
	emb := func(name string) string {
		return "model \"" + name + "\" {\n  type     = \"text2vec\"\n  provider = \"proxy/openai\"\n}"
	}
	testRule(t, ruleProxyEmbeddingName06, []ruleCase{
		{name: "adapter name", lines: []string{emb("proxy_openai")}},
		{name: "own name", lines: []string{emb("embedding")},
			want: []string{`error 2:1 Proxy embedding name in DB-GPT 0.6.3: a proxy/openai embedding model must be named "proxy_openai"`}},
		{name: "0.7 own name", lines: []string{cluster07, emb("embedding")}},
	})
}

func TestRuleProxyAPIBase06(t *testing.T) {
	zhipu := "model \"glm\" {\n  type     = \"llm\"\n  provider = \"proxy/zhipu\"\n}"
	testRule(t, ruleProxyAPIBase06, []ruleCase{
		{name: "zhipu without", lines: []string{zhipu}, want: []string{`error 2:1 Missing api_base: hactl knows no default for proxy/zhipu`}},
		{name: "zhipu with", lines: []string{strings.Replace(zhipu, "}", "  api_base = \"https://open.bigmodel.cn/api/paas/v4\"\n}", 1)}},
		{name: "openai has a default", lines: []string{"model \"m\" {\n  type     = \"llm\"\n  provider = \"proxy/openai\"\n}"}},
		{name: "0.7", lines: []string{cluster07, zhipu}},
	})
}

func TestRuleProxyHasKey(t *testing.T) {
	gpt := "model \"gpt-4o\" {\n  type     = \"llm\"\n  provider = \"proxy/openai\"\n}"
	withKey := "model \"gpt-4o\" {\n  type     = \"llm\"\n  provider = \"proxy/openai\"\n  api_key  = var.key\n}"
	keyVar := "variable \"key\" {\n  sensitive = true\n  default   = \"sk-123\"\n}"
	worker := func(env string) string {
		return "worker \"w\" {\n  server = server.s1\n  model  = model.gpt-4o\n  env    = {" + env + "}\n}"
	}
	testRule(t, ruleProxyHasKey, []ruleCase{
		{name: "0.7 no key", lines: []string{cluster07, s1, gpt, worker("")},
			want: []string{`error 6:1 Proxy model without an API key: Model "gpt-4o" (proxy/openai) has no api_key, and worker.w's environment has no OPENAI_API_KEY`}},
		{name: "0.7 key", lines: []string{cluster07, s1, keyVar, withKey, worker("")}},
		{name: "0.7 OPENAI_API_KEY in the worker's env", lines: []string{cluster07, s1, gpt, worker(`OPENAI_API_KEY = "sk-1"`)}},
		{name: "0.7 OPENAI_API_KEY in the server's env", lines: []string{cluster07, "server \"s1\" {\n  address = \"10.0.0.1\"\n  env     = { OPENAI_API_KEY = \"sk-1\" }\n}", gpt, worker("")}},
		{name: "0.7 key from an unset variable", lines: []string{cluster07, s1, "variable \"key\" { sensitive = true }", withKey, worker("")}},
		{name: "0.6 no key", lines: []string{s1, gpt, worker("")},
			want: []string{`error 3:1 Proxy model without an API key: worker.w's environment has no GPT_4O_PROXY_API_KEY or PROXY_API_KEY: DB-GPT 0.6.3 exits`}},
		{name: "0.6 key in env", lines: []string{s1, gpt, worker(`GPT_4O_PROXY_API_KEY = "sk-1"`)}},
		{name: "0.7 embedding needs none", lines: []string{cluster07, s1, "model \"gpt-4o\" {\n  type     = \"text2vec\"\n  provider = \"proxy/openai\"\n}", worker("")}},
	})
}

func TestRuleDefaultEmbeddingKnown06(t *testing.T) {
	ws := func(model string) string {
		return "webserver {\n  server            = server.s1\n  default_embedding = model." + model + "\n}"
	}
	emb := func(name string) string {
		return "model \"" + name + "\" {\n  type = \"text2vec\"\n  path = \"/m\"\n}"
	}
	testRule(t, ruleDefaultEmbeddingKnown06, []ruleCase{
		{name: "known", lines: []string{s1, emb("text2vec"), ws("text2vec")}},
		{name: "unknown", lines: []string{s1, emb("text2vec-large"), ws("text2vec-large")},
			want: []string{`error 9:23 Embedding model unknown to DB-GPT 0.6.3: default_embedding is model "text2vec-large", but the DB-GPT 0.6.3 webserver knows only these embedding model names and exits with a KeyError at start on any other: bge-base-en,`}},
		{name: "typo", lines: []string{s1, emb("bge-large-zhh"), ws("bge-large-zhh")},
			want: []string{`error 9:23 Embedding model unknown to DB-GPT 0.6.3: Did you mean "bge-large-zh"?`}},
		{name: "0.7", lines: []string{cluster07, s1, emb("text2vec-large"), ws("text2vec-large")}},
	})
}

func TestRuleParamsKnown07(t *testing.T) {
	m := func(provider, params string) string {
		path := "  path     = \"/m\"\n"
		if strings.HasPrefix(provider, "proxy/") {
			path = ""
		}
		return "model \"m\" {\n  type     = \"llm\"\n  provider = \"" + provider + "\"\n" + path + "  params   = { " + params + " }\n}"
	}
	testRule(t, ruleParamsKnown07, []ruleCase{
		{name: "hf known", lines: []string{cluster07, m("hf", `torch_dtype = "float16"`)}},
		{name: "hf typo", lines: []string{cluster07, m("hf", `torch_dtyp = "float16"`)},
			want: []string{`warning 9:16 Parameter unknown to the provider: DB-GPT 0.7.0's hf llm model takes no "torch_dtyp": it would drop it without a word. Did you mean "torch_dtype"? It takes: attn_implementation,`}},
		{name: "openai known", lines: []string{cluster07, m("proxy/openai", `api_type = "azure"`)}},
		{name: "openai unknown", lines: []string{cluster07, m("proxy/openai", `trust_remote_code = "true"`)},
			want: []string{`warning 8:16 Parameter unknown to the provider: DB-GPT 0.7.0's proxy/openai llm model takes no "trust_remote_code"`}},
		{name: "unknown provider says nothing", lines: []string{cluster07, m("proxy/zhipu", `anything = "x"`)}},
		{name: "0.6 says nothing", lines: []string{m("hf", `torch_dtyp = "float16"`)}},
	})
}

func TestRuleExtraArgsNeedsFlagsGeneration(t *testing.T) {
	w := `worker "w" {
  server     = server.s1
  model      = model.m
  extra_args = []
}`
	ws := `webserver {
  server     = server.s1
  extra_args = ["--disable_alembic_upgrade"]
}`
	testRule(t, ruleExtraArgsNeedsFlagsGeneration, []ruleCase{
		{name: "0.6", lines: []string{s1, llm, w, ws}},
		{name: "0.7", lines: []string{cluster07, s1, llm, w}, want: []string{"error 13:16 Setting not available in DB-GPT 0.7.0: worker.w: extra_args exists only in the flags generation"}},
		{name: "0.7 webserver", lines: []string{cluster07, s1, ws}, want: []string{"error 8:16 Setting not available in DB-GPT 0.7.0: webserver: extra_args exists only"}},
		{name: "0.7 without", lines: []string{cluster07, s1, llm, `worker "w" {
  server = server.s1
  model  = model.m
}`}},
	})
}

func TestRuleManagedDatabaseNeedsMySQL(t *testing.T) {
	compose := func(managed string) string {
		return "compose {\n  dbgpt_image      = \"x\"\n  managed_database = " + managed + "\n}"
	}
	testRule(t, ruleManagedDatabaseNeedsMySQL, []ruleCase{
		{name: "embedded", lines: []string{compose("true")}, want: []string{`error 4:22 Managed database needs a mysql registry: but the registry is "embedded"`}},
		{name: "sqlite, not managed", lines: []string{`registry "sqlite" { path = "/r.db" }`, compose("false")}},
		{name: "mysql", lines: []string{mysql("db"), compose("true")}},
		{name: "no compose block", lines: []string{`registry "sqlite" { path = "/r.db" }`}},
	})
}

func TestRuleServersUsed(t *testing.T) {
	testRule(t, ruleServersUsed, []ruleCase{
		{name: "unused", lines: []string{s1, s2, `controller "c" { server = server.s1 }`}, want: []string{`warning 3:1 Server not used: No component runs on server "s2".`}},
		{name: "used", lines: []string{s1, `controller "c" { server = server.s1 }`}},
	})
}

// After an error in the cluster, the usage rules' warnings about unused
// declarations are not given.
func TestValidateQuietAfterErrors(t *testing.T) {
	src := ruleCase{lines: []string{s1, s2, llm, `controller "c" { server = server.s1 }`, `controller "d" { server = server.s2 }`, `apiserver { server = server.s1 }`}}.src()
	_, diags, _ := Decode("cluster.hcl", []byte(src), LoadOptions{})
	var got []string
	for _, d := range diags {
		got = append(got, formatDiag(d))
	}
	if len(got) != 1 || !strings.Contains(got[0], "High availability needs a database registry") {
		t.Errorf("got %q, want only the registry error", got)
	}
	// Without the error, the warnings are there.
	_, diags, _ = Decode("cluster.hcl", []byte(strings.Replace(src, `controller "d" { server = server.s2 }`, "", 1)), LoadOptions{})
	var summaries []string
	for _, d := range diags {
		summaries = append(summaries, d.Summary)
	}
	if want := []string{"Server not used", "Model not served", "API server without an LLM"}; strings.Join(summaries, "|") != strings.Join(want, "|") {
		t.Errorf("warnings %q, want %q", summaries, want)
	}
}

func TestRuleMetaDatabaseNeedsMySQL(t *testing.T) {
	ws := func(meta string) string {
		return "webserver {\n  server        = server.s1\n  meta_database = \"" + meta + "\"\n}"
	}
	testRule(t, ruleMetaDatabaseNeedsMySQL, []ruleCase{
		{name: "embedded", lines: []string{s1, ws("registry")}, want: []string{`error 5:19 Meta database needs a mysql registry: but the registry is "embedded"`}},
		{name: "sqlite registry", lines: []string{s1, `registry "sqlite" { path = "/r.db" }`, ws("registry")}, want: []string{`error 6:19 Meta database needs a mysql registry: but the registry is "sqlite"`}},
		{name: "mysql", lines: []string{s1, mysql("db"), ws("registry")}},
		{name: "sqlite meta database", lines: []string{s1, ws("sqlite")}},
	})
}

func TestMetaDatabaseDecoded(t *testing.T) {
	for _, tc := range []struct{ attr, want, err string }{
		{"", MetaDatabaseSQLite, ""},
		{`meta_database = "registry"`, MetaDatabaseRegistry, ""},
		{`meta_database = "postgres"`, "", `Invalid meta database`},
	} {
		src := ruleCase{lines: []string{s1, mysql("db"), `controller "c" { server = server.s1 }`, "webserver {\n  server = server.s1\n  " + tc.attr + "\n}"}}.src()
		c, diags, _ := Decode("cluster.hcl", []byte(src), LoadOptions{AllowUnsetVariables: true})
		if tc.err != "" {
			found := false
			for _, d := range diags {
				found = found || d.Summary == tc.err
			}
			if !found {
				t.Errorf("%s: diagnostics %q, want %q", tc.attr, diags.Error(), tc.err)
			}
			continue
		}
		if c == nil || c.Webserver == nil || c.Webserver.MetaDatabase != tc.want {
			t.Errorf("%s: got %+v (%s), want meta database %q", tc.attr, c, diags.Error(), tc.want)
		}
	}
}
