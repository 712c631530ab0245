package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/testdb"
)

func itoa(n int) string { return strconv.Itoa(n) }

const (
	modelsPath    = "/api/controller/models"
	heartbeatPath = "/api/controller/heartbeat"
)

type detail struct {
	Detail []struct {
		Type  string `json:"type"`
		Loc   []any  `json:"loc"`
		Msg   string `json:"msg"`
		Input any    `json:"input"`
	} `json:"detail"`
}

// check422 sends a bad request and checks FastAPI's first detail item.
func check422(t *testing.T, method, u string, body any, typ string, loc ...any) {
	t.Helper()
	code, b := do(t, method, u, body)
	var d detail
	if code != 422 || json.Unmarshal([]byte(b), &d) != nil || len(d.Detail) == 0 {
		t.Errorf("%s %s %v: %d %s, want 422 with detail", method, u, body, code, b)
		return
	}
	e := d.Detail[0]
	gotLoc, _ := json.Marshal(e.Loc)
	wantLoc, _ := json.Marshal(loc)
	if e.Type != typ || string(gotLoc) != string(wantLoc) || e.Msg == "" {
		t.Errorf("%s %s %v: detail %+v, want type %s loc %s", method, u, body, e, typ, wantLoc)
	}
}

func listRaw(t *testing.T, base, query string) []map[string]any {
	t.Helper()
	code, b := do(t, "GET", base+modelsPath+query, nil)
	if code != 200 {
		t.Fatalf("GET %s%s: %d %s", modelsPath, query, code, b)
	}
	var out []map[string]any
	if err := json.Unmarshal([]byte(b), &out); err != nil {
		t.Fatalf("list answer %q: %v", b, err)
	}
	return out
}

func find(list []map[string]any, name, host string, port int) map[string]any {
	for _, m := range list {
		if m["model_name"] == name && m["host"] == host && m["port"] == float64(port) {
			return m
		}
	}
	return nil
}

// apiTable exercises every row of the protocol's API table on a running
// controller. seconds: last_heartbeat must have no fractions (MySQL).
func apiTable(t *testing.T, base string, seconds bool) {
	// GET /api/health
	if code, b := do(t, "GET", base+"/api/health", nil); code != 200 || b != `{"status":"ok"}` {
		t.Errorf("health: %d %s", code, b)
	}
	// 422 for missing or mistyped fields, body and query.
	check422(t, "POST", base+modelsPath, map[string]any{"model_name": "a@llm", "host": "h"}, "missing", "body", "port")
	check422(t, "POST", base+modelsPath, map[string]any{"model_name": "a@llm", "host": "h", "port": "abc"}, "int_parsing", "body", "port")
	check422(t, "POST", base+modelsPath, map[string]any{"model_name": 1, "host": "h", "port": 1}, "string_type", "body", "model_name")
	check422(t, "POST", base+modelsPath, map[string]any{"model_name": "a", "host": "h", "port": 1, "check_healthy": "maybe"}, "bool_parsing", "body", "check_healthy")
	check422(t, "POST", base+modelsPath, map[string]any{"model_name": "a", "host": "h", "port": 1, "weight": "heavy"}, "float_parsing", "body", "weight")
	check422(t, "POST", base+heartbeatPath, nil, "missing", "body")
	check422(t, "POST", base+heartbeatPath, "{not json", "json_invalid", "body", 1)
	check422(t, "DELETE", base+modelsPath+"?model_name=a&host=h", nil, "missing", "query", "port")
	check422(t, "DELETE", base+modelsPath+"?model_name=a&host=h&port=x", nil, "int_parsing", "query", "port")
	check422(t, "GET", base+modelsPath+"?healthy_only=maybe", nil, "bool_parsing", "query", "healthy_only")
	code, b := do(t, "POST", base+modelsPath, `{"host":"h"}`)
	var d detail
	json.Unmarshal([]byte(b), &d)
	if code != 422 || len(d.Detail) != 2 || d.Detail[0].Loc[1] != "model_name" || d.Detail[1].Loc[1] != "port" {
		t.Errorf("two missing fields: %d %s", code, b)
	}

	// Unknown model → [].
	if code, b := do(t, "GET", base+modelsPath+"?model_name=nope@llm", nil); code != 200 || b != "[]" {
		t.Errorf("unknown model: %d %s", code, b)
	}

	// POST register → true; the row is healthy, with now as last_heartbeat,
	// whatever healthy/last_heartbeat were sent; the exact JSON shape.
	reg := map[string]any{"model_name": "glm-4-9b-chat@llm", "host": "10.0.0.3", "port": 8001, "weight": 1.0, "check_healthy": true,
		"healthy": false, "enabled": true, "prompt_template": nil, "last_heartbeat": nil}
	before := time.Now().Add(-time.Second)
	if code, b := do(t, "POST", base+modelsPath, reg); code != 200 || b != "true" {
		t.Fatalf("register: %d %s", code, b)
	}
	_, b = do(t, "GET", base+modelsPath+"?model_name=glm-4-9b-chat@llm", nil)
	want := regexp.MustCompile(`^\[\{"model_name":"glm-4-9b-chat@llm","host":"10\.0\.0\.3","port":8001,"weight":1\.0,"check_healthy":true,"healthy":true,"enabled":true,"prompt_template":null,"last_heartbeat":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?)"\}\]$`)
	m := want.FindStringSubmatch(b)
	if m == nil {
		t.Fatalf("list answer shape: %s", b)
	}
	if seconds && m[2] != "" {
		t.Errorf("last_heartbeat %s has fractions of a second (MySQL registry)", m[1])
	}
	beat, err := time.ParseInLocation("2006-01-02T15:04:05", m[1][:19], time.Local)
	if err != nil || beat.Before(before.Truncate(time.Second)) || beat.After(time.Now().Add(time.Second)) {
		t.Errorf("last_heartbeat %s is not the controller's local now (%v)", m[1], time.Now())
	}
	// A port given as a numeric string is accepted (pydantic lax mode).
	if code, b := do(t, "POST", base+modelsPath, map[string]any{"model_name": "lax@llm", "host": "h", "port": "8001"}); code != 200 || b != "true" {
		t.Errorf("numeric string port: %d %s", code, b)
	}

	// Upsert rules: a new row keeps weight, check_healthy, enabled,
	// prompt_template; registering again changes only weight, prompt_template,
	// healthy and last_heartbeat.
	do(t, "POST", base+modelsPath, map[string]any{"model_name": "up@llm", "host": "10.0.0.3", "port": 8002, "weight": 0.5,
		"check_healthy": false, "enabled": false, "prompt_template": "vicuna"})
	r := find(listRaw(t, base, "?model_name=up@llm"), "up@llm", "10.0.0.3", 8002)
	if r == nil || r["weight"] != 0.5 || r["check_healthy"] != false || r["enabled"] != false || r["prompt_template"] != "vicuna" || r["healthy"] != true {
		t.Errorf("new row: %v", r)
	}
	do(t, "DELETE", base+modelsPath+"?model_name=up@llm&host=10.0.0.3&port=8002", nil)
	do(t, "POST", base+modelsPath, map[string]any{"model_name": "up@llm", "host": "10.0.0.3", "port": 8002, "weight": 2,
		"check_healthy": true, "enabled": true, "prompt_template": nil})
	rows := listRaw(t, base, "?model_name=up@llm")
	r = find(rows, "up@llm", "10.0.0.3", 8002)
	if len(rows) != 1 || r["weight"] != 2.0 || r["check_healthy"] != false || r["enabled"] != false || r["prompt_template"] != nil || r["healthy"] != true {
		t.Errorf("re-registered row: %v", rows)
	}

	// POST heartbeat → true, registering an unknown instance.
	hb := map[string]any{"model_name": "WorkerManager@service", "host": "10.0.0.3", "port": 8001}
	if code, b := do(t, "POST", base+heartbeatPath, hb); code != 200 || b != "true" {
		t.Fatalf("heartbeat: %d %s", code, b)
	}
	if r := find(listRaw(t, base, ""), "WorkerManager@service", "10.0.0.3", 8001); r == nil || r["healthy"] != true {
		t.Errorf("heartbeat of unknown instance did not register it: %v", r)
	}

	// DELETE → true, marks unhealthy, keeps the row; healthy_only hides it.
	if code, b := do(t, "DELETE", base+modelsPath+"?model_name=WorkerManager@service&host=10.0.0.3&port=8001&remove_from_registry=false", nil); code != 200 || b != "true" {
		t.Fatalf("deregister: %d %s", code, b)
	}
	if r := find(listRaw(t, base, ""), "WorkerManager@service", "10.0.0.3", 8001); r == nil || r["healthy"] != false {
		t.Errorf("deregistered row: %v", r)
	}
	if r := find(listRaw(t, base, "?healthy_only=true"), "WorkerManager@service", "10.0.0.3", 8001); r != nil {
		t.Errorf("healthy_only lists an unhealthy row: %v", r)
	}
	if r := find(listRaw(t, base, "?healthy_only=true&model_name=glm-4-9b-chat@llm"), "glm-4-9b-chat@llm", "10.0.0.3", 8001); r == nil {
		t.Error("healthy_only with model_name misses a healthy row")
	}
	// Heartbeat makes it healthy again.
	do(t, "POST", base+heartbeatPath, hb)
	if r := find(listRaw(t, base, "?healthy_only=true"), "WorkerManager@service", "10.0.0.3", 8001); r == nil {
		t.Error("heartbeat did not make the row healthy again")
	}
	// DELETE keeps the row, unhealthy, whatever remove_from_registry says
	// (0.6.3 has no such parameter); an unknown instance is still true.
	if code, b := do(t, "DELETE", base+modelsPath+"?model_name=WorkerManager@service&host=10.0.0.3&port=8001&remove_from_registry=true", nil); code != 200 || b != "true" {
		t.Fatalf("deregister remove: %d %s", code, b)
	}
	if r := find(listRaw(t, base, ""), "WorkerManager@service", "10.0.0.3", 8001); r == nil || r["healthy"] != false {
		t.Errorf("remove_from_registry: row %v, want it kept and unhealthy", r)
	}
	if code, b := do(t, "DELETE", base+modelsPath+"?model_name=ghost@llm&host=h&port=1", nil); code != 200 || b != "true" {
		t.Errorf("deregister unknown: %d %s", code, b)
	}
	// Unknown route and method, as FastAPI answers.
	if code, b := do(t, "GET", base+"/api/nothing", nil); code != 404 || b != `{"detail":"Not Found"}` {
		t.Errorf("unknown route: %d %s", code, b)
	}
	if code, _ := do(t, "PUT", base+modelsPath, nil); code != 405 {
		t.Errorf("PUT models: %d", code)
	}

	// The hactl client against the same controller.
	ctx := context.Background()
	cl := dbgpt.NewClient(&http.Client{Timeout: 10 * time.Second}, base)
	if err := cl.Health(ctx); err != nil {
		t.Errorf("client health: %v", err)
	}
	inst := dbgpt.NewInstance("cl@text2vec", "10.0.0.9", 9000)
	if err := cl.Register(ctx, inst); err != nil {
		t.Errorf("client register: %v", err)
	}
	if err := cl.Heartbeat(ctx, inst); err != nil {
		t.Errorf("client heartbeat: %v", err)
	}
	got, err := cl.ListModels(ctx, "cl@text2vec", true)
	if err != nil || len(got) != 1 || !got[0].Healthy || got[0].LastHeartbeat == nil || got[0].Port != 9000 {
		t.Errorf("client list: %+v %v", got, err)
	}
	if err := cl.Deregister(ctx, inst); err != nil {
		t.Errorf("client deregister: %v", err)
	}
	if got, _ := cl.ListModels(ctx, "cl@text2vec", true); len(got) != 0 {
		t.Errorf("client list after deregister: %+v", got)
	}
	if got, err := cl.ListModels(ctx, "none@llm", false); err != nil || got == nil || len(got) != 0 {
		t.Errorf("client list unknown: %+v %v", got, err)
	}
}

// staleness checks the checker: a check_healthy row turns unhealthy after
// the timeout (controller started with interval 1 s, timeout 2 s); a row
// with check_healthy=false stays healthy.
func staleness(t *testing.T, base string) {
	// A MySQL registry keeps whole seconds, so a row may look up to 1 s
	// older than it is: a live checker (1 s interval, 2 s timeout) may mark
	// it stale from 1 s after registration on, never before.
	before := time.Now()
	do(t, "POST", base+modelsPath, map[string]any{"model_name": "stale@llm", "host": "s", "port": 1})
	do(t, "POST", base+modelsPath, map[string]any{"model_name": "keep@llm", "host": "s", "port": 1, "check_healthy": false})
	if r := find(listRaw(t, base, ""), "stale@llm", "s", 1); r == nil || r["healthy"] != true && time.Since(before) < time.Second {
		t.Fatalf("fresh row: %v", r)
	}
	eventually(t, patience, "stale row to turn unhealthy", func() bool {
		r := find(listRaw(t, base, ""), "stale@llm", "s", 1)
		return r != nil && r["healthy"] == false
	})
	if el := time.Since(before); el < time.Second {
		t.Errorf("row turned unhealthy %s after registration, before the 2 s timeout could pass", el)
	}
	if r := find(listRaw(t, base, ""), "keep@llm", "s", 1); r == nil || r["healthy"] != true {
		t.Errorf("check_healthy=false row: %v", r)
	}
}

func mysqlController(t *testing.T, srv *testdb.DB, dbName string, extraEnv ...string) (*proc, string) {
	port := freePort(t)
	p := start(t, append([]string{"CONTROLLER_REGISTRY_DB_PASSWORD=" + srv.Password}, extraEnv...),
		"start", "controller", "--host", "127.0.0.1", "--port", itoa(port),
		"--registry_type", "database", "--registry_db_type", "mysql", "--registry_db_name", dbName,
		"--registry_db_host", srv.Host, "--registry_db_port", itoa(srv.Port), "--registry_db_user", srv.User,
		"--heartbeat_interval_secs", "1", "--heartbeat_timeout_secs", "2")
	waitUp(t, p, url(port))
	return p, url(port)
}

func TestControllerMariaDB(t *testing.T) {
	t.Parallel()
	srv := testdb.Start(t)
	ctx := context.Background()

	t.Run("api", func(t *testing.T) {
		t.Parallel()
		name := srv.NewDatabase(t, "api")
		db := srv.Open(t, name)
		if err := dbgpt.EnsureSchema(ctx, db, dbgpt.MySQL); err != nil {
			t.Fatal(err)
		}
		p, base := mysqlController(t, srv, name)
		apiTable(t, base, true)
		// What the API did is in the table: no fractions, gmt columns set,
		// sys_code NULL.
		rows, err := dbgpt.ListRows(ctx, db)
		if err != nil || len(rows) == 0 {
			t.Fatalf("rows: %v %v", rows, err)
		}
		var frac int
		db.QueryRow("SELECT COUNT(*) FROM " + dbgpt.RegistryTable + " WHERE MICROSECOND(last_heartbeat) <> 0").Scan(&frac)
		if frac != 0 {
			t.Errorf("%d rows with fractional last_heartbeat", frac)
		}
		for _, r := range rows {
			if r.SysCode != nil || r.GmtCreated.IsZero() {
				t.Errorf("row %+v", r)
			}
		}
		staleness(t, base)
		if strings.Contains(p.err.String(), srv.Password) {
			t.Error("the registry password is in the controller's log")
		}
	})

	// Registry table missing: starts, health ok, every registry call 500,
	// the database error in the log, the checker dead.
	t.Run("missing table", func(t *testing.T) {
		t.Parallel()
		name := srv.NewDatabase(t, "notable")
		p, base := mysqlController(t, srv, name, "DBGPT_SIM_TRACE_CHECKER=1")
		if code, b := do(t, "GET", base+"/api/health", nil); code != 200 || b != `{"status":"ok"}` {
			t.Errorf("health: %d %s", code, b)
		}
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", modelsPath, nil},
			{"GET", modelsPath + "?model_name=x@llm&healthy_only=true", nil},
			{"POST", modelsPath, map[string]any{"model_name": "a@llm", "host": "h", "port": 1}},
			{"POST", heartbeatPath, map[string]any{"model_name": "a@llm", "host": "h", "port": 1}},
			{"DELETE", modelsPath + "?model_name=a@llm&host=h&port=1", nil},
		} {
			if code, b := do(t, c.method, base+c.path, c.body); code != 500 || b != "Internal Server Error" {
				t.Errorf("%s %s: %d %q, want 500 Internal Server Error", c.method, c.path, code, b)
			}
		}
		// Validation still comes first.
		check422(t, "POST", base+modelsPath, map[string]any{"host": "h", "port": 1}, "missing", "body", "model_name")
		cl := dbgpt.NewClient(nil, base)
		if err := cl.Health(ctx); err != nil {
			t.Errorf("client health: %v", err)
		}
		if _, err := cl.ListModels(ctx, "", false); dbgpt.HTTPStatus(err) != 500 {
			t.Errorf("client list: %v (status %d), want 500", err, dbgpt.HTTPStatus(err))
		}
		// The checker's first pass runs at start-up and dies of the missing table.
		eventually(t, patience, "the database error and the checker's death in the log", func() bool {
			log := p.err.String()
			return strings.Contains(log, "dbgpt_cluster_registry_instance' doesn't exist") && strings.Contains(log, "_heartbeat_checker")
		})
		// Creating the table afterwards makes the API work, but the checker
		// stays dead: a row that never beats again stays healthy. The witness
		// that a live checker would have marked it: a control controller with
		// the same registry and timings, given the same row just after, marks
		// its copy stale and runs twice more.
		ctlName := srv.NewDatabase(t, "notablectl")
		dbgpt.EnsureSchema(ctx, srv.Open(t, ctlName), dbgpt.MySQL)
		control, controlBase := mysqlController(t, srv, ctlName, "DBGPT_SIM_TRACE_CHECKER=1")
		dbgpt.EnsureSchema(ctx, srv.Open(t, name), dbgpt.MySQL)
		late := map[string]any{"model_name": "late@llm", "host": "h", "port": 1}
		if code, b := do(t, "POST", base+modelsPath, late); code != 200 || b != "true" {
			t.Errorf("after creating the table: %d %s", code, b)
		}
		if code, b := do(t, "POST", controlBase+modelsPath, late); code != 200 || b != "true" {
			t.Fatalf("control controller: %d %s", code, b)
		}
		eventually(t, patience, "the control controller's checker to mark its late row stale", func() bool {
			r := find(listRaw(t, controlBase, ""), "late@llm", "h", 1)
			return r != nil && r["healthy"] == false
		})
		passes := checkerPasses(control)
		eventually(t, patience, "two more passes of the control controller's checker", func() bool {
			return checkerPasses(control) >= passes+2
		})
		if r := find(listRaw(t, base, ""), "late@llm", "h", 1); r == nil || r["healthy"] != true {
			t.Errorf("dead checker still marked rows stale: %v", r)
		}
		if n := checkerPasses(p); n != 0 {
			t.Errorf("the dead checker logged %d passes", n)
		}
	})

	// TOML generation, password through ${env:...}; the database unreachable
	// at first is only an error at the first query.
	t.Run("toml", func(t *testing.T) {
		t.Parallel()
		name := srv.NewDatabase(t, "toml")
		dbgpt.EnsureSchema(ctx, srv.Open(t, name), dbgpt.MySQL)
		port := freePort(t)
		cfg := filepath.Join(t.TempDir(), "controller.toml")
		os.WriteFile(cfg, []byte(`[service.model.controller]
host = "127.0.0.1"
port = `+itoa(port)+`
heartbeat_interval_secs = 1
heartbeat_timeout_secs = 2

[service.model.controller.registry.database]
type = "mysql"
host = "${env:REG_HOST:-127.0.0.1}"
port = `+itoa(srv.Port)+`
database = "`+name+`"
user = "${env:REG_USER}"
password = "${env:REG_PASSWORD}"
`), 0o600)
		p := start(t, []string{"DBGPT_SIM_VERSION=0.7.0", "REG_USER=" + srv.User, "REG_PASSWORD=" + srv.Password}, "start", "controller", "-c", cfg)
		waitUp(t, p, url(port))
		apiTable(t, url(port), true)
		staleness(t, url(port))
	})
}

func TestControllerSQLite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "registry.db")
	port := freePort(t)
	p := start(t, nil, "start", "controller", "--host", "127.0.0.1", "--port", itoa(port), "--registry_type", "database",
		"--registry_db_type", "sqlite", "--registry_db_name", path, "--heartbeat_interval_secs", "1", "--heartbeat_timeout_secs", "2")
	waitUp(t, p, url(port))
	apiTable(t, url(port), false)
	staleness(t, url(port))
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := dbgpt.ListRows(context.Background(), db)
	if err != nil || len(rows) < 3 {
		t.Fatalf("sqlite rows: %d %v", len(rows), err)
	}

	// A second controller on the same file shares the registry (HA on one machine).
	port2 := freePort(t)
	p2 := start(t, []string{"DBGPT_SIM_VERSION=0.7.0"}, "start", "controller", "-c", writeFile(t, "c2.toml", `
[service.model.controller]
port = `+itoa(port2)+`
[service.model.controller.registry.database]
type = "sqlite"
path = "`+path+`"
`))
	waitUp(t, p2, url(port2))
	if a, b := listRaw(t, url(port), ""), listRaw(t, url(port2), ""); len(a) != len(b) || len(a) == 0 {
		t.Errorf("controllers on one SQLite file disagree: %d vs %d rows", len(a), len(b))
	}
}

func TestControllerEmbedded(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	logFile := filepath.Join(t.TempDir(), "controller.log")
	p := start(t, nil, "start", "controller", "--host", "127.0.0.1", "--port", itoa(port),
		"--heartbeat_interval_secs", "1", "--heartbeat_timeout_secs", "2", "--log_file", logFile)
	waitUp(t, p, url(port))
	apiTable(t, url(port), false)
	staleness(t, url(port))
	b, _ := os.ReadFile(logFile)
	if !strings.Contains(string(b), "Uvicorn running on http://127.0.0.1:"+itoa(port)) || !strings.Contains(string(b), `"GET /api/health HTTP/1.1" 200 OK`) {
		t.Errorf("log file lacks the uvicorn lines:\n%s", b)
	}
	// --host is honoured: nothing answers on another loopback address.
	if portOpenAt("127.0.0.2", port) {
		t.Error("controller bound to 127.0.0.1 answers on 127.0.0.2")
	}
	// TOML generation without a registry table: in-memory registry.
	port2 := freePort(t)
	p2 := start(t, []string{"DBGPT_SIM_VERSION=0.7.0"}, "start", "controller", "-c", writeFile(t, "e.toml", "[service.model.controller]\nport = "+itoa(port2)+"\n"))
	waitUp(t, p2, url(port2))
	if l := listRaw(t, url(port2), ""); len(l) != 0 {
		t.Errorf("fresh in-memory registry lists %v", l)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A registry database that does not answer: the controller still starts and
// says ok on /api/health; registry calls answer 500 and the log says why.
func TestControllerDatabaseDown(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	p := start(t, []string{"CONTROLLER_REGISTRY_DB_PASSWORD=x"}, "start", "controller", "--host", "127.0.0.1", "--port", itoa(port),
		"--registry_type", "database", "--registry_db_type", "mysql", "--registry_db_host", "127.0.0.1",
		"--registry_db_port", itoa(freePort(t)), "--registry_db_user", "u", "--registry_db_name", "dbgpt")
	waitUp(t, p, url(port))
	if code, b := do(t, "GET", url(port)+modelsPath, nil); code != 500 || b != "Internal Server Error" {
		t.Errorf("list with the database down: %d %s", code, b)
	}
	eventually(t, patience, "connection error in the log", func() bool {
		l := p.err.String()
		return strings.Contains(l, "connection refused") && strings.Contains(l, "_heartbeat_checker")
	})
}
