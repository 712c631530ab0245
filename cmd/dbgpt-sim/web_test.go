package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func seed(t *testing.T, base string) {
	for _, b := range []map[string]any{
		{"model_name": "glm-4-9b-chat@llm", "host": "10.0.0.3", "port": 8001},
		{"model_name": "glm-4-9b-chat@llm", "host": "10.0.0.4", "port": 8001},
		{"model_name": "qwen@llm", "host": "10.0.0.5", "port": 8001},
		{"model_name": "text2vec@text2vec", "host": "10.0.0.3", "port": 8002},
		{"model_name": "WorkerManager@service", "host": "10.0.0.3", "port": 8001},
	} {
		if code, _ := do(t, "POST", base+modelsPath, b); code != 200 {
			t.Fatal("seeding failed")
		}
	}
	do(t, "DELETE", base+modelsPath+"?model_name=qwen@llm&host=10.0.0.5&port=8001", nil)
}

func TestWebserverAndAPIServer(t *testing.T) {
	t.Parallel()
	cport := freePort(t)
	c := start(t, nil, "start", "controller", "--host", "127.0.0.1", "--port", itoa(cport))
	waitUp(t, c, url(cport))
	seed(t, url(cport))
	dead := url(freePort(t))

	// Light webserver, first controller in the list down: forwards to the healthy one.
	wport := freePort(t)
	w := start(t, nil, "start", "webserver", "--light", "--host", "127.0.0.1", "--port", itoa(wport), "--controller_addr", dead+","+url(cport))
	waitUp(t, w, url(wport))
	if code, b := do(t, "GET", url(wport)+"/api/health", nil); code != 200 || !strings.Contains(b, "ok") {
		t.Errorf("webserver health: %d %s", code, b)
	}
	_, direct := do(t, "GET", url(cport)+modelsPath+"?healthy_only=true", nil)
	eventually(t, patience, "webserver to forward to the healthy controller", func() bool {
		code, b := do(t, "GET", url(wport)+modelsPath+"?healthy_only=true", nil)
		return code == 200 && b == direct
	})

	// TOML generation: light = "false" is a string, and bool("false") is True.
	wport2 := freePort(t)
	w2 := start(t, []string{"DBGPT_SIM_VERSION=0.7.0"}, "start", "webserver", "-c", writeFile(t, "web.toml", `[service.web]
host = "127.0.0.1"
port = `+itoa(wport2)+`
light = "false"
controller_addr = "`+url(cport)+`"
[service.web.database]
type = "sqlite"
path = "${env:WEB_DB:-pilot/meta_data/dbgpt.db}"
[models]
default_llm = "glm-4-9b-chat"
`))
	waitUp(t, w2, url(wport2))
	eventually(t, patience, "string \"false\" to mean light mode", func() bool {
		code, b := do(t, "GET", url(wport2)+modelsPath+"?healthy_only=true", nil)
		return code == 200 && b == direct
	})
	// Not light (flags generation default): its own embedded controller, empty.
	wport3 := freePort(t)
	w3 := start(t, nil, "start", "webserver", "--host", "127.0.0.1", "--port", itoa(wport3))
	waitUp(t, w3, url(wport3))
	if code, b := do(t, "GET", url(wport3)+modelsPath, nil); code != 200 || b != "[]" {
		t.Errorf("non-light webserver: %d %s", code, b)
	}

	// API server with keys: healthy llm models only, OpenAI-style.
	aport := freePort(t)
	a := start(t, []string{"APISERVER_API_KEYS=k1,k2"}, "start", "apiserver", "--host", "127.0.0.1", "--port", itoa(aport), "--controller_addr", url(cport))
	eventually(t, patience, "apiserver port", func() bool { return portOpen(aport) })
	_ = a
	if code, b := do(t, "GET", url(aport)+"/api/v1/models", nil); code != 401 || !strings.Contains(b, "invalid_api_key") {
		t.Errorf("no key: %d %s", code, b)
	}
	req, _ := http.NewRequest("GET", url(aport)+"/api/v1/models", nil)
	req.Header.Set("Authorization", "Bearer k2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ml struct {
		Object string `json:"object"`
		Data   []struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			OwnedBy string `json:"owned_by"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&ml)
	resp.Body.Close()
	if resp.StatusCode != 200 || ml.Object != "list" || len(ml.Data) != 1 || ml.Data[0].ID != "glm-4-9b-chat" || ml.Data[0].Object != "model" {
		t.Errorf("models: %d %+v", resp.StatusCode, ml)
	}
	req.Header.Set("Authorization", "Bearer wrong")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("wrong key: %v %v", resp.StatusCode, err)
	}

	// TOML apiserver with api_keys as a list, no keys needed when empty.
	aport2 := freePort(t)
	start(t, []string{"DBGPT_SIM_VERSION=0.7.0"}, "start", "apiserver", "-c", writeFile(t, "api.toml",
		"[service.model.api]\nhost = \"127.0.0.1\"\nport = "+itoa(aport2)+"\ncontroller_addr = \""+url(cport)+"\"\napi_keys = []\n"))
	eventually(t, patience, "TOML apiserver to list models", func() bool {
		if !portOpen(aport2) {
			return false
		}
		code, b := do(t, "GET", url(aport2)+"/api/v1/models", nil)
		return code == 200 && strings.Contains(b, `"id":"glm-4-9b-chat"`) && !strings.Contains(b, "qwen")
	})
}

func TestModelList(t *testing.T) {
	t.Parallel()
	cport := freePort(t)
	c := start(t, nil, "start", "controller", "--host", "127.0.0.1", "--port", itoa(cport))
	waitUp(t, c, url(cport))
	seed(t, url(cport))
	out, errOut, code := run(t, nil, "model", "--address", url(cport), "list")
	if code != 0 {
		t.Fatalf("model list: exit %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4+5 {
		t.Fatalf("model list has %d lines:\n%s", len(lines), out)
	}
	cols := strings.Split(strings.Trim(lines[1], "|"), "|")
	want := []string{"Model Name", "Model Type", "Host", "Port", "Healthy", "Enabled", "Prompt Template", "Last Heartbeat"}
	for i, w := range want {
		if i >= len(cols) || strings.TrimSpace(cols[i]) != w {
			t.Errorf("column %d = %q, want %q", i, cols, w)
		}
	}
	if !strings.HasPrefix(lines[0], "+-") || lines[0] != lines[2] || lines[0] != lines[len(lines)-1] {
		t.Errorf("borders:\n%s", out)
	}
	if !strings.Contains(out, "| glm-4-9b-chat |    llm     | 10.0.0.3 | 8001 |   True  |   True  |                 | ") {
		t.Errorf("row layout:\n%s", out)
	}
	if !strings.Contains(out, "|      qwen     |    llm     | 10.0.0.5 | 8001 |  False  |") {
		t.Errorf("unhealthy row layout:\n%s", out)
	}
	// CONTROLLER_ADDRESS and --model_name.
	out, _, code = run(t, []string{"CONTROLLER_ADDRESS=" + url(cport)}, "model", "list", "--model_name", "text2vec", "--model_type", "text2vec")
	if code != 0 || strings.Count(out, "\n") != 5 || !strings.Contains(out, "text2vec") {
		t.Errorf("filtered list:\n%s", out)
	}
	// No controller: an error, non-zero exit.
	if _, _, code := run(t, []string{"CONTROLLER_ADDRESS=" + url(freePort(t))}, "model", "list"); code == 0 {
		t.Error("model list without a controller exited 0")
	}
}
