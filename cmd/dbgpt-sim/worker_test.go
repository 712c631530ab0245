package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/sim/worker"
	"github.com/hactl/hactl/internal/testdb"
)

func rowsAt(t *testing.T, srvRows func() []dbgpt.Row, port int) map[string]dbgpt.Row {
	out := map[string]dbgpt.Row{}
	for _, r := range srvRows() {
		if r.Port == port {
			if _, dup := out[r.ModelName]; dup {
				t.Errorf("duplicate row %s at port %d", r.ModelName, port)
			}
			out[r.ModelName] = r
		}
	}
	return out
}

// The HA guide in small: two controllers on one MariaDB registry, one
// worker given both; kill the first controller and the worker's rows stay
// healthy through the second; SIGTERM deregisters.
// TestWorkerPortBeforeRegistration covers the order of port and registration.
func TestWorkerHA(t *testing.T) {
	t.Parallel()
	srv := testdb.Start(t)
	ctx := context.Background()
	name := srv.NewDatabase(t, "ha")
	db := srv.Open(t, name)
	if err := dbgpt.EnsureSchema(ctx, db, dbgpt.MySQL); err != nil {
		t.Fatal(err)
	}
	list := func() []dbgpt.Row {
		rows, err := dbgpt.ListRows(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	c1, base1 := mysqlController(t, srv, name)
	c2, base2 := mysqlController(t, srv, name)

	model := t.TempDir()
	wport := freePort(t)
	// model_path through the model-name prefixed environment variable.
	w := start(t, []string{"GLM_4_9B_CHAT_MODEL_PATH=" + model, "DBGPT_SIM_MANAGER_HEARTBEAT=1s"},
		"start", "worker", "--model_name", "glm-4-9b-chat", "--host", "127.0.0.1", "--port", itoa(wport),
		"--controller_addr", base1+","+base2, "--worker_register_host", "127.0.0.1", "--heartbeat_interval", "1")

	eventually(t, patience, "worker port to open", func() bool { return portOpen(wport) })
	eventually(t, patience, "both worker rows", func() bool {
		rows := rowsAt(t, list, wport)
		return rows["glm-4-9b-chat@llm"].Healthy && rows[dbgpt.WorkerManagerModelName].Healthy
	})
	rows := rowsAt(t, list, wport)
	if r := rows["glm-4-9b-chat@llm"]; r.Host != "127.0.0.1" || r.Weight != 1 || !r.CheckHealthy || !r.Enabled {
		t.Errorf("model row %+v", r)
	}
	// Registered through the first healthy controller: POST models, then heartbeat.
	log1 := c1.err.String()
	iReg, iBeat := strings.Index(log1, `"POST /api/controller/models HTTP/1.1" 200`), strings.Index(log1, `"POST /api/controller/heartbeat HTTP/1.1" 200`)
	if iReg < 0 || iBeat < iReg {
		t.Errorf("worker did not register then heartbeat through the first controller:\n%s", log1)
	}
	// Both controllers list the same healthy instances.
	h1, h2 := listRaw(t, base1, "?healthy_only=true"), listRaw(t, base2, "?healthy_only=true")
	if len(h1) != 2 || len(h2) != 2 {
		t.Errorf("healthy instances: %d via controller 1, %d via controller 2", len(h1), len(h2))
	}

	// Kill controller 1: heartbeats move to controller 2, and the rows carry
	// healthy heartbeats from more than one heartbeat timeout (2 s) after
	// the kill (last_heartbeat keeps whole seconds).
	c1.cmd.Process.Kill()
	since := time.Now().Truncate(time.Second).Add(3 * time.Second)
	eventually(t, patience, "healthy heartbeats through controller 2 since "+since.Format(time.TimeOnly), func() bool {
		rows := rowsAt(t, list, wport)
		for _, n := range []string{"glm-4-9b-chat@llm", dbgpt.WorkerManagerModelName} {
			if r := rows[n]; !r.Healthy || r.LastHeartbeat == nil || r.LastHeartbeat.Before(since) {
				return false
			}
		}
		return true
	})
	if !strings.Contains(c2.err.String(), `"POST /api/controller/heartbeat HTTP/1.1" 200`) {
		t.Error("controller 2 got no heartbeat after controller 1 died")
	}

	// SIGTERM: DELETE for each row, exit 0, rows stay unhealthy.
	w.signal(syscall.SIGTERM)
	if code := w.wait(patience); code != 0 {
		t.Errorf("worker exit code %d after SIGTERM", code)
	}
	rows = rowsAt(t, list, wport)
	if len(rows) != 2 || rows["glm-4-9b-chat@llm"].Healthy || rows[dbgpt.WorkerManagerModelName].Healthy {
		t.Errorf("after SIGTERM: %+v", rows)
	}
	if n := strings.Count(c2.err.String(), `"DELETE /api/controller/models?`); n != 2 {
		t.Errorf("controller 2 saw %d DELETEs, want 2", n)
	}
	if portOpen(wport) {
		t.Error("worker port still open after exit")
	}
}

// The worker's port answers before it registers: a stub controller looks at
// the port when the registration arrives.
func TestWorkerPortBeforeRegistration(t *testing.T) {
	t.Parallel()
	wport := freePort(t)
	var mu sync.Mutex
	var registrations []bool // port answering at each POST of a model
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/health":
			w.Write([]byte(`{"status":"ok"}`))
		case r.Method == "POST" && r.URL.Path == modelsPath:
			open := portOpen(wport)
			mu.Lock()
			registrations = append(registrations, open)
			mu.Unlock()
			w.Write([]byte("true"))
		default: // heartbeats, deregistration
			w.Write([]byte("true"))
		}
	}))
	defer stub.Close()
	start(t, nil, "start", "worker", "--model_name", "m", "--model_path", t.TempDir(), "--host", "127.0.0.1",
		"--port", itoa(wport), "--controller_addr", stub.URL, "--worker_register_host", "127.0.0.1")
	eventually(t, patience, "both registrations", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(registrations) >= 2
	})
	mu.Lock()
	defer mu.Unlock()
	for i, open := range registrations {
		if !open {
			t.Errorf("registration %d arrived before the worker's port answered", i+1)
		}
	}
}

func TestWorkerRefusals(t *testing.T) {
	t.Parallel()
	// Missing model path: the load fails, the error is logged, and the
	// process exits 0 (observed on v0.6.3); the port never opened.
	port := freePort(t)
	_, errOut, code := run(t, nil, "start", "worker", "--model_name", "m", "--model_path", "/nonexistent/model", "--port", itoa(port))
	if code != 0 || !strings.Contains(errOut, "/nonexistent/model") || !strings.Contains(errOut, "Traceback (most recent call last):") {
		t.Errorf("missing model path: exit %d\n%s", code, errOut)
	}
	// TOML generation likewise.
	cfg := writeFile(t, "w.toml", "[service.model.worker]\nport = "+itoa(port)+"\n[[models.llms]]\nname = \"m\"\nprovider = \"hf\"\npath = \"/nonexistent/m2\"\n")
	_, errOut, code = run(t, []string{"DBGPT_SIM_VERSION=0.7.0"}, "start", "worker", "-c", cfg)
	if code != 0 || !strings.Contains(errOut, "/nonexistent/m2") {
		t.Errorf("TOML missing model path: exit %d\n%s", code, errOut)
	}
	// Two models for one worker.
	cfg = writeFile(t, "w2.toml", "[[models.llms]]\nname = \"a\"\npath = \"/tmp\"\n[[models.embeddings]]\nname = \"b\"\npath = \"/tmp\"\n")
	_, errOut, code = run(t, []string{"DBGPT_SIM_VERSION=0.7.0"}, "start", "worker", "-c", cfg)
	if code == 0 || !strings.Contains(errOut, "exactly one model") {
		t.Errorf("two models: exit %d\n%s", code, errOut)
	}
	// Registration fails (no controller): the worker exits non-zero.
	dead := freePort(t)
	start := time.Now()
	_, errOut, code = run(t, nil, "start", "worker", "--model_name", "m", "--model_path", t.TempDir(), "--host", "127.0.0.1",
		"--port", itoa(port), "--controller_addr", url(dead))
	if code == 0 || !strings.Contains(errOut, "registering m@llm") {
		t.Errorf("no controller: exit %d\n%s", code, errOut)
	}
	if time.Since(start) < 2*time.Second {
		t.Errorf("worker gave up after %s, before the 2 s wait for a healthy controller", time.Since(start))
	}
}

// TOML generation worker: the model from [[models.embeddings]], registered
// as <name>@text2vec at worker_register_host; in the flags generation the
// flags of the model's parameter class are accepted.
func TestWorkerTOMLAndPassThrough(t *testing.T) {
	t.Parallel()
	cport := freePort(t)
	c := start(t, []string{"DBGPT_SIM_VERSION=0.7.0"}, "start", "controller", "-c",
		writeFile(t, "c.toml", "[service.model.controller]\nhost = \"127.0.0.1\"\nport = "+itoa(cport)+"\n"))
	waitUp(t, c, url(cport))
	wport := freePort(t)
	cfg := writeFile(t, "w.toml", `[service.model.worker]
host = "127.0.0.1"
port = `+itoa(wport)+`
controller_addr = "${env:CTL}"
worker_register_host = "10.1.2.3"
heartbeat_interval = 1

[[models.embeddings]]
name = "bge-large-zh"
provider = "hf"
path = "`+t.TempDir()+`"
`)
	w := start(t, []string{"DBGPT_SIM_VERSION=0.7.0", "CTL=" + url(cport)}, "start", "worker", "-c", cfg)
	eventually(t, patience, "embedding worker rows", func() bool {
		l := listRaw(t, url(cport), "?healthy_only=true")
		return find(l, "bge-large-zh@text2vec", "10.1.2.3", wport) != nil && find(l, "WorkerManager@service", "10.1.2.3", wport) != nil
	})
	w.signal(syscall.SIGINT)
	if code := w.wait(patience); code != 0 {
		t.Errorf("exit %d after SIGINT", code)
	}

	// Flags generation: the model class's flags (ModelParameters here).
	wport2 := freePort(t)
	w2 := start(t, nil, "start", "worker", "--model_name", "glm-4-9b-chat", "--model_path", t.TempDir(),
		"--host", "127.0.0.1", "--port", itoa(wport2), "--controller_addr", url(cport), "--worker_register_host", "127.0.0.1",
		"--max_gpu_memory", "20Gib", "--load_8bit", "--device=cpu", "--prompt_template", "vicuna_v1.1")
	eventually(t, patience, "glm-4-9b-chat row", func() bool {
		r := find(listRaw(t, url(cport), ""), "glm-4-9b-chat@llm", "127.0.0.1", wport2)
		return r != nil && r["prompt_template"] == "vicuna_v1.1"
	})
	w2.signal(syscall.SIGTERM)
	w2.wait(patience)
}

// Without worker_register_host the worker registers the machine's outbound
// address, not its bind address.
func TestWorkerOutboundAddress(t *testing.T) {
	t.Parallel()
	cport := freePort(t)
	c := start(t, nil, "start", "controller", "--host", "127.0.0.1", "--port", itoa(cport))
	waitUp(t, c, url(cport))
	wport := freePort(t)
	start(t, nil, "start", "worker", "--model_name", "m", "--model_path", t.TempDir(), "--host", "127.0.0.1",
		"--port", itoa(wport), "--controller_addr", url(cport))
	want := worker.OutboundIP()
	eventually(t, patience, "row at the outbound address "+want, func() bool {
		return find(listRaw(t, url(cport), ""), "m@llm", want, wport) != nil
	})
}
