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
	if err == nil || !strings.Contains(err.Error(), "SIM_MISSING") || !strings.Contains(err.Error(), "s.pw") {
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
	w, err := flagsWorker.Parse([]string{"--model_name", "glm-4-9b", "--some_model_flag", "v", "--bare"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.env = p.env
	s, err := workerFromFlags(w)
	if err != nil || s.ModelPath != "/m" || w.Extra["some_model_flag"] != "v" || w.Extra["bare"] != "true" {
		t.Errorf("worker: %+v %v extra=%v", s, err, w.Extra)
	}
}
