package status

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/internal/jsonschematest"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/registry"
	"github.com/hactl/hactl/schema"
)

// fakeProvider observes a fixed list and dials directly; every other method
// is left unimplemented (Gather must not call them).
type fakeProvider struct {
	providers.Provider
	observed []providers.Observed
	obsErr   error
	regFile  string // the SQLite registry on this machine
	rowsErr  error  // reaching the registry's file fails with it
}

func (f *fakeProvider) Observe(context.Context, *schema.Cluster) ([]providers.Observed, error) {
	return f.observed, f.obsErr
}

func (f *fakeProvider) DialContext(ctx context.Context, _ *schema.Server, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (f *fakeProvider) Registry(c *schema.Cluster) *registry.DB {
	return registry.New(c, fileAccess{f.regFile, f.rowsErr})
}

type fileAccess struct {
	path string
	err  error
}

func (a fileAccess) Places() []registry.Place { return nil }
func (a fileAccess) SQLiteFile() (registry.File, error) {
	if a.err != nil {
		return nil, a.err
	}
	return registry.LocalFile("server1", a.path), nil
}

// writeRegistry creates the SQLite registry at path holding rows.
func writeRegistry(t *testing.T, path string, rows ...dbgpt.Instance) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := dbgpt.EnsureSchema(context.Background(), db, dbgpt.SQLite); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var beat any
		if r.LastHeartbeat != nil {
			beat = r.LastHeartbeat.In(time.Local).Format(time.DateTime)
		}
		if _, err := db.Exec("INSERT INTO "+dbgpt.RegistryTable+" (model_name, host, port, healthy, last_heartbeat) VALUES (?, ?, ?, ?, ?)",
			r.ModelName, r.Host, r.Port, r.Healthy, beat); err != nil {
			t.Fatal(err)
		}
	}
}

func listen(t *testing.T, h http.HandlerFunc) int {
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return p
}

func TestGatherOneControllerDown(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	row := func(name string, port int, age time.Duration, healthy bool) dbgpt.Instance {
		i := dbgpt.NewInstance(name, "127.0.0.1", port)
		i.Healthy, i.LastHeartbeat = healthy, dbgpt.NewTime(now.Add(-age))
		return i
	}
	workerPort := listen(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	rows := []dbgpt.Instance{
		row("glm@llm", workerPort, time.Second, true),
		row("WorkerManager@service", workerPort, time.Second, true),
		row("glm@llm", 1, 30*time.Second, false), // old port: no worker there any more
		row("WorkerManager@service", 1, 30*time.Second, false),
		row("glm@llm", workerPort, 40*time.Second, true), // duplicate, stale although healthy
	}
	ctlPort := listen(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/health":
			w.Write([]byte(`{"status":"ok"}`))
		case "/api/controller/models":
			json.NewEncoder(w).Encode(rows)
		}
	})
	srv := &schema.Server{Name: "server1", Address: "127.0.0.1"}
	ctl1 := &schema.Controller{Name: "ctrl1", Server: srv, Port: ctlPort, HeartbeatTimeoutSecs: 6}
	ctl2 := &schema.Controller{Name: "ctrl2", Server: srv, Port: 1, HeartbeatTimeoutSecs: 6} // down
	w := &schema.Worker{Name: "llm", Server: srv, Port: workerPort, Model: &schema.Model{Name: "glm", WorkerType: "llm"}}
	c := &schema.Cluster{Name: "t", Version: "0.6.3", Servers: []*schema.Server{srv},
		Controllers: []*schema.Controller{ctl1, ctl2}, Workers: []*schema.Worker{w}}
	p := &fakeProvider{observed: []providers.Observed{
		{Address: "controller.ctrl1", Role: "controller", Server: "server1", Port: ctlPort, Running: true, PID: 10, StartedAt: time.Now().Add(-time.Minute)},
		{Address: "controller.ctrl2", Role: "controller", Server: "server1", Port: 1, Running: false},
		{Address: "worker.llm", Role: "worker", Server: "server1", Port: workerPort, Running: true, PID: 12},
		{Address: "worker.old", Role: "worker", Server: "server1", Port: 1, Running: true, PID: 13},
	}}
	r, err := Gather(context.Background(), p, c, Options{RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.ModelsSource != SourceControllers || !r.Controllers[0].Answered || r.Controllers[1].Answered {
		t.Fatalf("source %s, controllers %+v", r.ModelsSource, r.Controllers)
	}
	states := map[string]string{}
	for _, comp := range r.Components {
		states[comp.Name] = comp.State
	}
	wantStates := map[string]string{"controller.ctrl1": "running", "controller.ctrl2": "down", "worker.llm": "running", "worker.old": "running"}
	for k, v := range wantStates {
		if states[k] != v {
			t.Errorf("%s: state %q, want %q (all: %v)", k, states[k], v, r.Components)
		}
	}
	var got []string
	for _, m := range r.Models {
		got = append(got, m.ModelName+":"+strconv.Itoa(m.Port)+":"+m.State)
	}
	want := []string{
		"glm:1:stale registration", "WorkerManager:1:stale registration",
		"glm:" + strconv.Itoa(workerPort) + ":live, duplicate", "glm:" + strconv.Itoa(workerPort) + ":stale, duplicate",
		"WorkerManager:" + strconv.Itoa(workerPort) + ":live",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("models\n got %v\nwant %v", got, want)
	}

	var buf bytes.Buffer
	if err := r.WriteText(&buf, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{"Models (through controller.ctrl1; controller.ctrl2 did not answer)", "worker.old", "running (not in file)", "MODEL NAME"} {
		if !strings.Contains(out, s) {
			t.Errorf("text output lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour codes without colour:\n%s", out)
	}
	// With colour, only escape codes are added: stripped, the text is the
	// same, so alignment holds.
	var col bytes.Buffer
	r.WriteText(&col, true)
	if !strings.Contains(col.String(), "\x1b[") {
		t.Errorf("no colour codes with colour on")
	}
	if stripped := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(col.String(), ""); stripped != out {
		t.Errorf("coloured text differs from plain text once codes are stripped:\n%s\n---\n%s", stripped, out)
	}
	buf.Reset()
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back.Models) != 5 {
		t.Fatalf("JSON round trip: %v, %d models", err, len(back.Models))
	}
}

func TestGatherFallsBackToDatabase(t *testing.T) {
	srv := &schema.Server{Name: "server1", Address: "127.0.0.1"}
	ctl := &schema.Controller{Name: "ctrl1", Server: srv, Port: 1, HeartbeatTimeoutSecs: 6}
	c := &schema.Cluster{Name: "t", Servers: []*schema.Server{srv}, Controllers: []*schema.Controller{ctl},
		Registry: &schema.Registry{Type: schema.RegistrySQLite, Path: "/var/lib/dbgpt/registry.db"}}
	i := dbgpt.NewInstance("glm@llm", "127.0.0.1", 8001)
	i.Healthy = true
	i.LastHeartbeat = dbgpt.NewTime(time.Now().UTC().Add(-2 * time.Second))
	p := &fakeProvider{regFile: filepath.Join(t.TempDir(), "registry.db")}
	writeRegistry(t, p.regFile, i)
	r, err := Gather(context.Background(), p, c, Options{RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.ModelsSource != SourceDatabase || len(r.Models) != 1 || r.Models[0].State != "stale registration" {
		t.Fatalf("source %s, models %+v", r.ModelsSource, r.Models)
	}
	var buf bytes.Buffer
	r.WriteText(&buf, false)
	if !strings.Contains(buf.String(), "read from the registry database: no controller answered") {
		t.Errorf("fallback not said:\n%s", buf.String())
	}
	if got := r.Components[0].State; got != StateNotDeployed {
		t.Errorf("controller not observed: state %q", got)
	}
	if r.NothingReached {
		t.Error("NothingReached, but the registry was read")
	}
}

// With every server, controller and the registry out of reach, the report
// says so (hactl status then exits 1); one answering source is enough not to.
func TestGatherNothingReached(t *testing.T) {
	srv := &schema.Server{Name: "server1", Address: "127.0.0.1"}
	ctl := &schema.Controller{Name: "ctrl1", Server: srv, Port: 1, HeartbeatTimeoutSecs: 6}
	c := &schema.Cluster{Name: "t", Servers: []*schema.Server{srv}, Controllers: []*schema.Controller{ctl},
		Registry: &schema.Registry{Type: schema.RegistrySQLite, Path: "/var/lib/dbgpt/registry.db"}}
	down := errors.New("server1: connection refused")
	p := &fakeProvider{obsErr: down, regFile: filepath.Join(t.TempDir(), "registry.db")} // no file yet
	r, err := Gather(context.Background(), p, c, Options{RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !r.NothingReached {
		t.Errorf("NothingReached false: %+v", r)
	}
	writeRegistry(t, p.regFile)
	r, err = Gather(context.Background(), p, c, Options{RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.NothingReached {
		t.Error("NothingReached, but the registry was read")
	}
}

// Every problem is said once in the text: a controller's failure at its
// row, not again under the models; the observation failure in one note, not
// on every row; values that are not known are "-" in the text and absent
// from the JSON, not 0.
func TestEachProblemOnceUnknownNotZero(t *testing.T) {
	workerPort := listen(t, func(w http.ResponseWriter, r *http.Request) {})
	srv := &schema.Server{Name: "server1", Address: "127.0.0.1"}
	ctl1 := &schema.Controller{Name: "ctrl1", Server: srv, Port: closedPort(t), HeartbeatTimeoutSecs: 6}
	ctl2 := &schema.Controller{Name: "ctrl2", Server: srv, Port: closedPort(t), HeartbeatTimeoutSecs: 6}
	w := &schema.Worker{Name: "llm", Server: srv, Port: workerPort, Model: &schema.Model{Name: "glm", WorkerType: "llm"}}
	c := &schema.Cluster{Name: "t", Version: "0.6.3", Servers: []*schema.Server{srv},
		Registry:    &schema.Registry{Type: schema.RegistrySQLite, Path: "/nonexistent/registry.db"},
		Controllers: []*schema.Controller{ctl1, ctl2}, Workers: []*schema.Worker{w}}
	dbDown := errors.New("db: connection refused")

	t.Run("observed", func(t *testing.T) {
		p := &fakeProvider{rowsErr: dbDown, observed: []providers.Observed{
			{Address: "controller.ctrl1", Role: "controller", Server: "server1", Port: ctl1.Port, Running: true, PID: 10, Restarts: 0, StartedAt: time.Now().Add(-time.Minute)},
			{Address: "controller.ctrl2", Role: "controller", Server: "server1", Port: ctl2.Port, Running: false, PID: 11, Restarts: 3},
			{Address: "worker.llm", Role: "worker", Server: "server1", Port: workerPort, Running: true, PID: 12, Restarts: 1},
		}}
		r, err := Gather(context.Background(), p, c, Options{RequestTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		out := text(t, r)
		for s, n := range map[string]int{
			"127.0.0.1:" + strconv.Itoa(ctl1.Port) + ": connect: connection refused": 1, // ctrl1's row only
			"127.0.0.1:" + strconv.Itoa(ctl2.Port) + ": connect: connection refused": 0, // down says it
			"controller.ctrl1: controller.ctrl1":                                     0, // the name once per line
			"db: connection refused":                                                 1,
			"no controller answered":                                                 1, // the heading, not a note too
		} {
			if got := strings.Count(out, s); got != n {
				t.Errorf("%q %d times, want %d:\n%s", s, got, n, out)
			}
		}
		// ctrl2 is down: no pid, no uptime, but its restarts are known.
		if !regexp.MustCompile(`(?m)^controller\.ctrl2 .* 127\.0\.0\.1:\d+\s+-\s+-\s+3\s+down$`).MatchString(out) {
			t.Errorf("ctrl2's row:\n%s", out)
		}
		js := jsonComponents(t, r)
		if _, ok := js["controller.ctrl2"]["pid"]; ok {
			t.Errorf("a down component has a pid: %v", js["controller.ctrl2"])
		}
		if _, ok := js["controller.ctrl2"]["uptime_seconds"]; ok {
			t.Errorf("a down component has an uptime: %v", js["controller.ctrl2"])
		}
		if js["controller.ctrl2"]["restarts"] != 3.0 || js["controller.ctrl1"]["restarts"] != 0.0 {
			t.Errorf("observed restarts missing: %v", js)
		}
		want := []string{"controller.ctrl1 is unhealthy", "controller.ctrl2 is down", "worker.llm is unhealthy"}
		if got := r.Degraded(); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("degraded: %q, want %q", got, want)
		}
	})

	t.Run("unobserved", func(t *testing.T) {
		obsErr := errors.New("server1: ssh: connection refused")
		p := &fakeProvider{obsErr: obsErr, rowsErr: dbDown}
		r, err := Gather(context.Background(), p, c, Options{RequestTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		out := text(t, r)
		if n := strings.Count(out, "could not be observed"); n != 0 {
			t.Errorf("the observation failure is repeated per row:\n%s", out)
		}
		if n := strings.Count(out, "observing the servers failed: server1: ssh: connection refused"); n != 1 {
			t.Errorf("the observation failure said %d times:\n%s", n, out)
		}
		if !regexp.MustCompile(`(?m)^worker\.llm .*\s+-\s+-\s+-\s+unknown$`).MatchString(out) {
			t.Errorf("the unobserved worker's pid, uptime and restarts should be '-':\n%s", out)
		}
		for name, comp := range jsonComponents(t, r) {
			for _, k := range []string{"pid", "uptime_seconds", "restarts", "started_at"} {
				if _, ok := comp[k]; ok {
					t.Errorf("%s: %s in the JSON of an unobserved component: %v", name, k, comp)
				}
			}
		}
	})
}

func TestDegraded(t *testing.T) {
	live := Model{ModelName: "glm", ModelType: "llm", Host: "h", Port: 1, Live: true, State: "live", Via: []string{"controller.c1", "controller.c2"}}
	r := &Report{
		ModelsSource: SourceControllers,
		Components: []Component{
			{Name: "controller.c1", State: StateRunning, InFile: true},
			{Name: "worker.old", State: StateDown, InFile: false}, // leaves with the next apply
		},
		Controllers: []Controller{{Name: "controller.c1", Answered: true}, {Name: "controller.c2", Answered: true}},
		Models:      []Model{live},
	}
	if got := r.Degraded(); len(got) != 0 || !r.Healthy() {
		t.Fatalf("healthy report degraded: %q", got)
	}
	once := live
	once.Via = []string{"controller.c1"}
	stale := live
	stale.Live, stale.State = false, "stale"
	r.Models = []Model{once, stale}
	want := []string{"glm@llm at h:1 is not listed by controller.c2", "glm@llm at h:1 is stale"}
	if got := r.Degraded(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("degraded %q, want %q", got, want)
	}
}

func text(t *testing.T, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.WriteText(&buf, false); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func jsonComponents(t *testing.T, r *Report) map[string]map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components []map[string]any `json:"components"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, c := range doc.Components {
		out[c["name"].(string)] = c
	}
	return out
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// A worker whose process runs but does not serve is starting within its
// model's start timeout, unhealthy past it; the text shows its age, the
// JSON its start timeout, and both match the status schema.
func TestStartingByAge(t *testing.T) {
	srv := &schema.Server{Name: "server1", Address: "10.0.0.1"}
	w := &schema.Worker{Name: "llm", Server: srv, Port: 8001, Model: &schema.Model{Name: "glm", WorkerType: "llm", StartTimeout: 30 * time.Minute}}
	c := &schema.Cluster{Name: "t", Version: "0.6.3", Servers: []*schema.Server{srv}, Workers: []*schema.Worker{w}}
	decl := declaredComponents(nil, c)
	if len(decl) != 1 || decl[0].startTimeout != 30*time.Minute {
		t.Fatalf("declared: %+v", decl)
	}
	notServing := []error{&health.Awaiting{What: "glm to load", Err: errors.New("worker.llm: port 8001 does not answer: connection refused")}}
	servesWrongly := []error{errors.New("worker.llm: through controller.c1: glm@llm at 10.0.0.1:8001: marked unhealthy (last heartbeat 1s ago)")}
	for _, tc := range []struct {
		age       time.Duration
		running   bool
		checkErr  []error
		wantState string
	}{
		{80 * time.Second, true, notServing, StateStarting},
		{31 * time.Minute, true, notServing, StateUnhealthy},
		{80 * time.Second, false, notServing, StateDown},
		{80 * time.Second, true, []error{nil}, StateRunning},
		{80 * time.Second, true, servesWrongly, StateUnhealthy},
	} {
		obs := []providers.Observed{{Address: "worker.llm", Role: "worker", Server: "server1", Port: 8001,
			Running: tc.running, PID: 7, StartedAt: time.Now().Add(-tc.age)}}
		comps, err := components(c, decl, tc.checkErr, obs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := comps[0]; got.State != tc.wantState || (got.StartTimeoutSeconds != nil) != (tc.wantState == StateStarting) {
			t.Errorf("age %s running %v: %+v, want %s", tc.age, tc.running, got, tc.wantState)
		}
		if tc.wantState != StateStarting {
			continue
		}
		r := &Report{Cluster: "t", Version: "0.6.3", Components: comps, Controllers: []Controller{}, Models: []Model{}, ModelsSource: SourceNone}
		var text bytes.Buffer
		if err := r.WriteText(&text, false); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"starting (1m20s of 30m)", "worker.llm: port 8001 does not answer"} {
			if !strings.Contains(text.String(), s) {
				t.Errorf("text lacks %q:\n%s", s, text.String())
			}
		}
		if d := r.Degraded(); len(d) != 1 || d[0] != "worker.llm is starting" {
			t.Errorf("degraded: %v", d)
		}
		var js bytes.Buffer
		if err := r.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		sch, err := jsonschematest.Load(jsonschematest.Status)
		if err != nil {
			t.Fatal(err)
		}
		if err := jsonschematest.Document(sch, js.Bytes()); err != nil {
			t.Errorf("%v\n%s", err, js.String())
		}
		for _, s := range []string{`"state": "starting"`, `"uptime_seconds": 80`, `"start_timeout_seconds": 1800`} {
			if !strings.Contains(js.String(), s) {
				t.Errorf("JSON lacks %s:\n%s", s, js.String())
			}
		}
	}
}

// publishingProvider publishes the webserver (like compose with
// compose.publish).
type publishingProvider struct{ fakeProvider }

func (p *publishingProvider) URL(address string) string {
	if address == "webserver" {
		return "http://127.0.0.1:15670"
	}
	return ""
}

// A provider that publishes components gives their URLs, in the text and
// the JSON (schema-valid); one that does not (SSH) gives none.
func TestPublishedURLs(t *testing.T) {
	srv := &schema.Server{Name: "server1", Address: "127.0.0.1"}
	c := &schema.Cluster{Name: "t", Version: "0.6.3", Servers: []*schema.Server{srv},
		Webserver: &schema.Webserver{Name: "webserver", Server: srv, Port: 1},
		Registry:  &schema.Registry{Type: schema.RegistryEmbedded}}
	obs := []providers.Observed{{Address: "webserver", Role: schema.RoleWebserver, Server: "server1", Port: 1, Running: true, PID: 7},
		{Address: "apiserver", Role: schema.RoleAPIServer, Server: "server1", Port: 2, Running: true, PID: 8}}
	for _, publishes := range []bool{true, false} {
		var p providers.Provider = &fakeProvider{observed: obs}
		if publishes {
			p = &publishingProvider{fakeProvider{observed: obs}}
		}
		r, err := Gather(context.Background(), p, c, Options{RequestTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var text, doc bytes.Buffer
		if err := r.WriteText(&text, false); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteJSON(&doc); err != nil {
			t.Fatal(err)
		}
		hasText := strings.Contains(text.String(), "Published on this machine:\n  webserver: http://127.0.0.1:15670\n")
		hasJSON := strings.Contains(doc.String(), `"url": "http://127.0.0.1:15670"`)
		if hasText != publishes || hasJSON != publishes || strings.Count(doc.String(), `"url"`) != map[bool]int{true: 1}[publishes] {
			t.Errorf("publishes %v: text %v json %v\n%s\n%s", publishes, hasText, hasJSON, text.String(), doc.String())
		}
		sch, err := jsonschematest.Load(jsonschematest.Status)
		if err != nil {
			t.Fatal(err)
		}
		if err := jsonschematest.Document(sch, doc.Bytes()); err != nil {
			t.Errorf("schema: %v", err)
		}
	}
}

// A controller that answers but whose heartbeat checker died is unhealthy,
// with the defect and the repair as the reason.
func TestDefectIsUnhealthy(t *testing.T) {
	srv := &schema.Server{Name: "server1", Address: "10.0.0.1"}
	ctl := &schema.Controller{Name: "c1", Server: srv, Port: 8000}
	c := &schema.Cluster{Name: "t", Version: "0.6.3", Servers: []*schema.Server{srv}, Controllers: []*schema.Controller{ctl}}
	decl := declaredComponents(nil, c)
	defect := plan.CheckerDefect("Exception in thread Thread-1 (_heartbeat_checker):")
	for _, tc := range []struct {
		defect string
		want   string
	}{{"", StateRunning}, {defect, StateUnhealthy}} {
		obs := []providers.Observed{{Address: "controller.c1", Role: "controller", Server: "server1", Port: 8000, Running: true, PID: 7, StartedAt: time.Now(), Defect: tc.defect}}
		comps, err := components(c, decl, []error{nil}, obs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := comps[0]; got.State != tc.want || tc.defect != "" && !strings.Contains(got.Reason, "heartbeat checker") {
			t.Errorf("defect %q: state %s reason %q, want %s", tc.defect, got.State, got.Reason, tc.want)
		}
	}
}
