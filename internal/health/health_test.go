package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/schema"
)

type directDialer struct{ dialled []string }

func (d *directDialer) DialContext(ctx context.Context, s *schema.Server, network, addr string) (net.Conn, error) {
	d.dialled = append(d.dialled, s.Name+">"+addr)
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func hb(t time.Time) *dbgpt.Time { return dbgpt.NewTime(t) }

func TestJudgeRows(t *testing.T) {
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	wall := func(d time.Duration) *dbgpt.Time {
		// as the controller writes it: local wall clock without zone, read in time.Local
		u := now.Add(-d)
		return hb(time.Date(u.Year(), u.Month(), u.Day(), u.Hour(), u.Minute(), u.Second(), 0, time.Local))
	}
	inst := func(name string, port int, healthy bool, h *dbgpt.Time) dbgpt.Instance {
		i := dbgpt.NewInstance(name, "10.0.0.4", port)
		i.Healthy, i.LastHeartbeat = healthy, h
		return i
	}
	rows := []dbgpt.Instance{
		inst("glm@llm", 8001, true, wall(3*time.Second)),       // live
		inst("glm@llm", 8002, true, wall(90*time.Second)),      // stale although healthy
		inst("t2v@text2vec", 8003, false, wall(2*time.Second)), // unhealthy
		inst("t2v@text2vec", 8003, true, wall(1*time.Second)),  // duplicate key
		inst("WorkerManager@service", 8001, true, nil),         // never beat: stale
		inst("glm@llm", 8009, true, wall(1*time.Second)),       // no worker there
		inst("x@llm", 8001, true, hb(now.Add(10*time.Second))), // future: clamped to 0
	}
	declared := map[string]bool{"10.0.0.4:8001": true, "10.0.0.4:8002": true, "10.0.0.4:8003": true}
	got := JudgeRows(rows, now, 60*time.Second, nil, declared)
	want := []string{"live", "stale", "unhealthy, duplicate", "live, duplicate", "stale", "stale registration", "live"}
	for i, r := range got {
		if r.State() != want[i] {
			t.Errorf("row %d (%s %s): state %q, want %q (age %s)", i, r.ModelName, r.Endpoint(), r.State(), want[i], r.Age)
		}
	}
	if got[0].Age != 3*time.Second {
		t.Errorf("age = %s, want 3s", got[0].Age)
	}
	if got[4].Age >= 0 {
		t.Errorf("row without heartbeat: age %s, want negative", got[4].Age)
	}
	if got[5].Live() || !got[0].Live() {
		t.Errorf("Live(): stale registration %v, live row %v", got[5].Live(), got[0].Live())
	}
}

func TestWorkerRowsProblem(t *testing.T) {
	srv := &schema.Server{Name: "server3", Address: "10.0.0.4"}
	w := &schema.Worker{Name: "llm", Server: srv, Port: 8001, Model: &schema.Model{Name: "glm", WorkerType: "llm"}}
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	row := func(name string, age time.Duration, healthy bool) dbgpt.Instance {
		i := dbgpt.NewInstance(name, "10.0.0.4", 8001)
		i.Healthy, i.LastHeartbeat = healthy, hb(now.Add(-age))
		return i
	}
	cases := []struct {
		rows []dbgpt.Instance
		want string
	}{
		{[]dbgpt.Instance{row("glm@llm", time.Second, true), row("WorkerManager@service", time.Second, true)}, ""},
		{[]dbgpt.Instance{row("glm@llm", time.Second, true)}, "WorkerManager@service at 10.0.0.4:8001: not registered"},
		{[]dbgpt.Instance{row("glm@llm", 70*time.Second, true), row("WorkerManager@service", time.Second, true)}, "glm@llm at 10.0.0.4:8001: stale: last heartbeat 1m10s ago (timeout 1m0s)"},
		{[]dbgpt.Instance{row("glm@llm", time.Second, false), row("WorkerManager@service", time.Second, true)}, "glm@llm at 10.0.0.4:8001: marked unhealthy"},
		// one live row among a duplicate pair is enough
		{[]dbgpt.Instance{row("glm@llm", 90*time.Second, false), row("glm@llm", time.Second, true), row("WorkerManager@service", time.Second, true)}, ""},
	}
	for i, tc := range cases {
		err := WorkerRowsProblem(JudgeRows(tc.rows, now, time.Minute, nil, nil), w, time.Minute)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("case %d: %v", i, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("case %d: error %v, want %q", i, err, tc.want)
		}
	}
}

// requestTimeout bounds one request to a local stub: generous, as the
// tests share a loaded machine.
const requestTimeout = 30 * time.Second

// controllerStub is a real HTTP server answering like a controller.
func controllerStub(t *testing.T, modelsStatus int, rows []dbgpt.Instance) (*schema.Cluster, *schema.Controller) {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/health":
			w.Write([]byte(`{"status":"ok"}`))
		case "/api/controller/models":
			if modelsStatus != 200 {
				http.Error(w, "Internal Server Error", modelsStatus)
				return
			}
			json.NewEncoder(w).Encode(rows)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	host, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	srv := &schema.Server{Name: "server1", Address: host}
	ctl := &schema.Controller{Name: "ctrl1", Server: srv, Port: p, HeartbeatTimeoutSecs: 6}
	return &schema.Cluster{Servers: []*schema.Server{srv}, Controllers: []*schema.Controller{ctl}}, ctl
}

func TestCheckController(t *testing.T) {
	ctx := context.Background()
	c, ctl := controllerStub(t, 200, nil)
	d := &directDialer{}
	cl := NewClient(d, c, requestTimeout)
	defer cl.Close()
	if err := CheckController(ctx, cl, ctl); err != nil {
		t.Fatalf("healthy controller: %v", err)
	}
	if len(d.dialled) == 0 || !strings.HasPrefix(d.dialled[0], "server1>") {
		t.Errorf("not dialled through the provider from server1: %v", d.dialled)
	}

	c, ctl = controllerStub(t, 500, nil)
	cl = NewClient(d, c, requestTimeout)
	err := CheckController(ctx, cl, ctl)
	if err == nil || !errors.Is(err, ErrRegistryUnreadable) ||
		!strings.Contains(err.Error(), "registry table missing or database unreachable: HTTP 500") {
		t.Fatalf("controller without registry table: %v", err)
	}

	ctl.Port = 1 // nothing listens
	if err := CheckController(ctx, cl, ctl); err == nil || !strings.Contains(err.Error(), "/api/health") {
		t.Fatalf("unreachable controller: %v", err)
	}
}

func TestPeerClockFromDateHeader(t *testing.T) {
	// The controller's clock runs one hour ahead; its rows were written by
	// that clock 2 s ago, so they are fresh although an hour in our future.
	ahead := time.Hour
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer := time.Now().Add(ahead).UTC()
		w.Header().Set("Date", peer.Format(http.TimeFormat))
		i := dbgpt.NewInstance("glm@llm", "10.0.0.4", 8001)
		i.Healthy = true
		i.LastHeartbeat = hb(peer.Add(-2 * time.Second).Truncate(time.Second))
		json.NewEncoder(w).Encode([]dbgpt.Instance{i})
	}))
	defer ts.Close()
	host, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	srv := &schema.Server{Name: "server1", Address: host}
	ctl := &schema.Controller{Name: "ctrl1", Server: srv, Port: p, HeartbeatTimeoutSecs: 6}
	c := &schema.Cluster{Servers: []*schema.Server{srv}, Controllers: []*schema.Controller{ctl}}
	cl := NewClient(&directDialer{}, c, requestTimeout)
	rows, err := JudgeThrough(context.Background(), cl, ctl, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].Liveness != Live || rows[0].Age > 4*time.Second {
		t.Fatalf("row judged %s, age %s; want live, about 2s", rows[0].Liveness, rows[0].Age)
	}
}

func TestWaitForReturnsLastReason(t *testing.T) {
	// The deadline passes while check keeps failing: the error is the last
	// reason. The third attempt ends the context itself so that the count
	// does not depend on how fast this machine is.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	err := WaitFor(ctx, time.Minute, 10*time.Millisecond, func(context.Context) error {
		if n++; n == 3 {
			cancel()
		}
		return errors.New("attempt " + strconv.Itoa(n))
	})
	if err == nil || !strings.Contains(err.Error(), "attempt 3") || n != 3 {
		t.Fatalf("err %v after %d attempts", err, n)
	}
	// The timeout ends the wait.
	start := time.Now()
	err = WaitFor(context.Background(), 200*time.Millisecond, 10*time.Millisecond, func(context.Context) error {
		return errors.New("never")
	})
	if err == nil || !strings.Contains(err.Error(), "never") {
		t.Fatalf("timeout: %v", err)
	}
	if el := time.Since(start); el < 200*time.Millisecond || el > 30*time.Second {
		t.Errorf("timeout of 200ms ended the wait after %s", el)
	}
	// Success on the third attempt.
	n = 0
	err = WaitFor(context.Background(), time.Minute, 10*time.Millisecond, func(context.Context) error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("%v after %d attempts", err, n)
	}
}

type zoneDialer struct {
	directDialer
	off time.Duration
}

func (z *zoneDialer) UTCOffset(context.Context, *schema.Server) (time.Duration, error) {
	return z.off, nil
}

// A controller host 8 hours east of UTC writes last_heartbeat in its local
// time. Told the zone, hactl ages rows right; not told, it sees heartbeats
// from the future and falls back to the healthy column.
func TestHeartbeatZone(t *testing.T) {
	east := 8 * time.Hour
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local := time.Now().UTC().Add(east)
		fresh := dbgpt.NewInstance("glm@llm", "10.0.0.4", 8001)
		fresh.Healthy, fresh.LastHeartbeat = true, hb(local.Add(-2*time.Second).Truncate(time.Second))
		old := dbgpt.NewInstance("glm@llm", "10.0.0.4", 8002)
		old.Healthy, old.LastHeartbeat = true, hb(local.Add(-time.Hour).Truncate(time.Second))
		json.NewEncoder(w).Encode([]dbgpt.Instance{fresh, old})
	}))
	defer ts.Close()
	host, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	srv := &schema.Server{Name: "server1", Address: host}
	ctl := &schema.Controller{Name: "ctrl1", Server: srv, Port: p, HeartbeatTimeoutSecs: 6}
	c := &schema.Cluster{Servers: []*schema.Server{srv}, Controllers: []*schema.Controller{ctl}}

	rows, err := JudgeThrough(context.Background(), NewClient(&zoneDialer{off: east}, c, requestTimeout), ctl, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].State() != "live" || rows[0].Age > 4*time.Second || rows[1].State() != "stale" || rows[1].Future {
		t.Errorf("zone known: %s age %s, %s age %s", rows[0].State(), rows[0].Age, rows[1].State(), rows[1].Age)
	}

	rows, err = JudgeThrough(context.Background(), NewClient(&directDialer{}, c, requestTimeout), ctl, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rows[0].Future || !rows[1].Future || rows[0].State() != "live" {
		t.Errorf("zone unknown: future %v %v, state %s", rows[0].Future, rows[1].Future, rows[0].State())
	}
}

// A worker's failed check says what is still awaited: its port, then its
// registration through the controllers that do not list it yet.
func TestCheckWorkerSaysWhatIsAwaited(t *testing.T) {
	ctx := context.Background()
	worker := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(worker.Close)
	_, wport, _ := net.SplitHostPort(worker.Listener.Addr().String())
	port, _ := strconv.Atoi(wport)
	c, ctl1 := controllerStub(t, 200, nil)
	ctl2 := &schema.Controller{Name: "ctrl2", Server: ctl1.Server, Port: 1} // nothing listens
	_, ctl3 := controllerStub(t, 200, nil)
	ctl3.Name, ctl3.Server = "ctrl3", ctl1.Server
	w := &schema.Worker{Name: "llm", Server: ctl1.Server, Port: port, Model: &schema.Model{Name: "glm", WorkerType: "llm"}}
	cl := NewClient(&directDialer{}, c, requestTimeout)
	defer cl.Close()

	err := CheckWorkerThrough(ctx, cl, w, []*schema.Controller{ctl1, ctl2, ctl3})
	var a *Awaiting
	if !errors.As(err, &a) || a.What != "glm to register through ctrl1, ctrl3; ctrl2 to answer" ||
		!strings.Contains(err.Error(), "through controller.ctrl1: glm@llm at") {
		t.Fatalf("err = %v (awaiting %+v)", err, a)
	}

	w.Port = 1
	err = CheckWorkerThrough(ctx, cl, w, []*schema.Controller{ctl1})
	if !errors.As(err, &a) || a.What != "glm to load (port 1 does not answer yet)" || !strings.Contains(err.Error(), "port 1 does not answer") {
		t.Fatalf("err = %v (awaiting %+v)", err, a)
	}
}

func TestNotServingYet(t *testing.T) {
	notReg := fmt.Errorf("through controller.c1: %w", fmt.Errorf("glm@llm at h:1: %w", ErrNotRegistered))
	noBeat := fmt.Errorf("through controller.c2: %w", fmt.Errorf("glm@llm at h:1: %w", ErrNoHeartbeatYet))
	marked := errors.New("through controller.c2: glm@llm at h:1: marked unhealthy")
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&Awaiting{What: "x", Err: errors.New("port 1 does not answer")}, true},
		{notReg, true},
		{errors.Join(notReg, noBeat), true},
		{errors.Join(notReg, marked), false},
		{fmt.Errorf("controller.c1: %w: HTTP 500", ErrRegistryUnreadable), false},
	} {
		if got := NotServingYet(tc.err); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.err, got, tc.want)
		}
	}
}
