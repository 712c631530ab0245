package cli

import (
	"os"
	"strings"
	"testing"
)

func TestTOMLGeneration(t *testing.T) {
	for v, want := range map[string]bool{"0.5.9": false, "0.6.3": false, "v0.6.0": false, "0.7.0": true, "0.7.1rc1": true, "0.8.2": true, "1.0.0": true} {
		if got := TOMLGeneration(v); got != want {
			t.Errorf("TOMLGeneration(%q) = %v", v, got)
		}
	}
}

func TestPrettyTable(t *testing.T) {
	got := PrettyTable([]string{"Model Name", "Port"}, [][]string{{"glm-4-9b-chat", "8001"}, {"qwen", "8"}})
	want := `+---------------+------+
|   Model Name  | Port |
+---------------+------+
| glm-4-9b-chat | 8001 |
|      qwen     |  8   |
+---------------+------+`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestResolvePlaceholders(t *testing.T) {
	t.Setenv("SIM_A", "alpha")
	os.Unsetenv("SIM_MISSING")
	v, err := resolve(map[string]any{"a": "x-${env:SIM_A}-${env:SIM_MISSING:-dflt}", "b": []any{"${env:SIM_MISSING:-}"},
		"c": []map[string]any{{"d": "${env:SIM_A:-no}"}}, "n": int64(3)}, "")
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if m["a"] != "x-alpha-dflt" || m["b"].([]any)[0] != "" || m["c"].([]map[string]any)[0]["d"] != "alpha" || m["n"] != int64(3) {
		t.Errorf("resolved %v", m)
	}
	_, err = resolve(map[string]any{"s": map[string]any{"pw": "${env:SIM_MISSING}"}}, "")
	if pe, ok := err.(*pyExc); !ok || pe.Exc != "ValueError: Environment variable SIM_MISSING not found" || !strings.Contains(pe.Where, "s.pw") {
		t.Errorf("missing variable: %v", err)
	}
}

func TestPythonBool(t *testing.T) {
	tab := map[string]any{"t": true, "f": false, "sf": "false", "empty": "", "zero": int64(0)}
	for k, want := range map[string]bool{"t": true, "f": false, "sf": true, "empty": false, "zero": false, "absent": true} {
		if got := tBool(tab, k, true); got != want {
			t.Errorf("tBool(%s) = %v, want %v", k, got, want)
		}
	}
}

func TestEnvFallback(t *testing.T) {
	env := map[string]string{"CONTROLLER_REGISTRY_DB_PASSWORD": "pw1", "REGISTRY_DB_USER": "u", "registry_db_host": "h", "HEARTBEAT_TIMEOUT_SECS": "", "GLM_4_9B_MODEL_PATH": "/m"}
	p, err := flagsController.Parse([]string{"--registry_db_host", "cli"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.env = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if p.Str("registry_db_password") != "pw1" || p.Str("registry_db_user") != "u" || p.Str("registry_db_host") != "cli" || p.Str("heartbeat_timeout_secs") != "60" {
		t.Errorf("controller env: pw=%q user=%q host=%q timeout=%q", p.Str("registry_db_password"), p.Str("registry_db_user"), p.Str("registry_db_host"), p.Str("heartbeat_timeout_secs"))
	}
	// The worker's flags come from its model's class; unknown ones fail.
	cmd, mc := flagsWorkerFor([]string{"--model_name", "glm-4-9b", "--model_path", "/m"})
	if mc.Name != "ModelParameters" {
		t.Errorf("local LLM class %s", mc.Name)
	}
	if _, err := cmd.Parse([]string{"--model_name", "glm-4-9b", "--some_model_flag", "v"}, nil); err == nil || err.Error() != "No such option '--some_model_flag'." {
		t.Errorf("unknown flag: %v", err)
	}
	w, err := cmd.Parse([]string{"--model_name", "glm-4-9b", "--load_8bit"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.env = p.env
	s, err := workerFromFlags(w, mc)
	if err != nil || s.ModelPath != "/m" || !w.Bool("load_8bit") {
		t.Errorf("worker: %+v %v", s, err)
	}
}

func TestWorkerModelClass(t *testing.T) {
	for _, c := range []struct {
		args       []string
		class      string
		has, hasnt string
	}{
		{[]string{"--model_name", "glm-4-9b-chat", "--model_path", "/m"}, "ModelParameters", "--load_8bit", "--proxy_api_key"},
		{[]string{"--model_name", "gpt-4o", "--model_path", "chatgpt_proxyllm"}, "ProxyModelParameters", "--proxyllm_backend", "--load_8bit"},
		{[]string{"--model_name", "chatgpt_proxyllm", "--model_path", "x"}, "ProxyModelParameters", "--proxy_api_base", "--num_gpus"},
		{[]string{"--model_name", "bge", "--model_path", "/m", "--worker_type", "text2vec"}, "EmbeddingModelParameters", "--normalize_embeddings", "--prompt_template"},
		{[]string{"--model_name", "proxy_openai", "--model_path", "proxy_openai", "--worker_type", "text2vec"}, "ProxyEmbeddingParameters", "--proxy_backend", "--normalize_embeddings"},
		// Embeddings: by model name only, never by path.
		{[]string{"--model_name", "emb", "--model_path", "proxy_openai", "--worker_type", "text2vec"}, "EmbeddingModelParameters", "--device", "--proxy_api_key"},
		{[]string{}, "ModelParameters", "--max_gpu_memory", "--proxy_server_url"},
	} {
		cmd, mc := flagsWorkerFor(c.args)
		var b strings.Builder
		cmd.Help(&b)
		if mc.Name != c.class || !strings.Contains(b.String(), "  "+c.has+" ") || strings.Contains(b.String(), c.hasnt+" ") {
			t.Errorf("%v: class %s, want %s with %s and without %s; help:\n%s", c.args, mc.Name, c.class, c.has, c.hasnt, b.String())
		}
	}
}

func TestProxyKeyLookup(t *testing.T) {
	env := map[string]string{"GPT_4O_PROXY_API_KEY": "k1", "PROXY_API_KEY": "bare"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model_name", "gpt-4o", "--model_path", "chatgpt_proxyllm"}, "GPT_4O_PROXY_API_KEY"},
		{[]string{"--model_name", "other", "--model_path", "chatgpt_proxyllm"}, "PROXY_API_KEY"},
		{[]string{"--model_name", "gpt-4o", "--model_path", "chatgpt_proxyllm", "--proxy_api_key", "x"}, "--proxy_api_key"},
	} {
		cmd, mc := flagsWorkerFor(c.args)
		p, err := cmd.Parse(c.args, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.env = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		s, err := workerFromFlags(p, mc)
		if err != nil || !s.NoPath || s.APIKeySource != c.want {
			t.Errorf("%v: %+v %v, want key from %s", c.args, s, err, c.want)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]int64{"200KiB": 200 << 10, "1MiB": 1 << 20, "4096": 4096, "3k": 3 << 10, "0": 0} {
		if got, err := parseRate(in); err != nil || got != want {
			t.Errorf("parseRate(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "fast", "-1", "1.5MiB"} {
		if _, err := parseRate(in); err == nil {
			t.Errorf("parseRate(%q): no error", in)
		}
	}
}
