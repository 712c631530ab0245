package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/schema"
)

// Component addresses, as plan.Component names them.
func ControllerAddress(ctl *schema.Controller) string { return "controller." + ctl.Name }
func WorkerAddress(w *schema.Worker) string           { return "worker." + w.Name }

// HeartbeatTimeout is the controller's heartbeat timeout (DB-GPT's default
// 60 s when unset).
func HeartbeatTimeout(ctl *schema.Controller) time.Duration {
	if ctl.HeartbeatTimeoutSecs <= 0 {
		return 60 * time.Second
	}
	return time.Duration(ctl.HeartbeatTimeoutSecs) * time.Second
}

// ErrRegistryUnreadable marks a controller that says ok on /api/health but
// answers 500 to registry calls: its registry table is missing or its
// database unreachable.
var ErrRegistryUnreadable = errors.New("registry table missing or database unreachable")

// ControllerModels lists every registry row through the controller. The
// error says which controller and why; a 500 wraps ErrRegistryUnreadable.
func ControllerModels(ctx context.Context, cl *Client, ctl *schema.Controller) ([]dbgpt.Instance, error) {
	rows, err := cl.listModels(ctx, ctl.URL())
	if err != nil {
		if st := dbgpt.HTTPStatus(err); st >= 500 {
			return nil, fmt.Errorf("%s (%s): %w: HTTP %d", ControllerAddress(ctl), ctl.URL(), ErrRegistryUnreadable, st)
		}
		return nil, fmt.Errorf("%s (%s): GET /api/controller/models: %w", ControllerAddress(ctl), ctl.URL(), trimURLErr(err))
	}
	return rows, nil
}

// CheckController returns nil when the controller answers /api/health with
// ok AND lists its registry (GET /api/controller/models answers 200 with a
// JSON list). A controller without its registry table passes the first and
// fails the second; that is reported as "registry table missing or database
// unreachable: HTTP 500".
func CheckController(ctx context.Context, cl *Client, ctl *schema.Controller) error {
	if err := ControllerAlive(ctx, cl, ctl); err != nil {
		return err
	}
	_, err := ControllerModels(ctx, cl, ctl)
	return err
}

// ControllerAlive is the first half of CheckController: /api/health says ok.
// It says nothing about the registry.
func ControllerAlive(ctx context.Context, cl *Client, ctl *schema.Controller) error {
	dc := dbgpt.NewClient(cl.HTTP, ctl.URL())
	if err := dc.Health(ctx); err != nil {
		return &Awaiting{What: ctl.Name + " to answer /api/health",
			Err: fmt.Errorf("%s (%s): /api/health: %w", ControllerAddress(ctl), ctl.URL(), trimURLErr(err))}
	}
	return nil
}

// Awaiting is a failed check's error that also says, in a few words, what
// the component is still awaited to do ("glm to register through c1, c2"),
// for progress lines. Its text is Err's.
type Awaiting struct {
	What string
	Err  error
}

func (a *Awaiting) Error() string { return a.Err.Error() }
func (a *Awaiting) Unwrap() error { return a.Err }

// A worker's rows that are not there yet: it is still starting, or gone.
var (
	ErrNotRegistered  = errors.New("not registered")
	ErrNoHeartbeatYet = errors.New("stale: no heartbeat yet")
)

// NotServingYet reports whether a failed check says only that the
// component does not serve yet (its port or /api/health does not answer,
// its rows are not registered or have no heartbeat yet), as a process
// still starting does; not that it serves wrongly (a controller without
// its registry table, rows marked unhealthy), which waiting does not mend.
func NotServingYet(err error) bool {
	if err == nil {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		for _, e := range errs {
			if !NotServingYet(e) {
				return false
			}
		}
		return len(errs) > 0
	}
	var a *Awaiting
	if errors.As(err, &a) {
		return true
	}
	if u := errors.Unwrap(err); u != nil && !errors.Is(err, ErrNotRegistered) && !errors.Is(err, ErrNoHeartbeatYet) {
		return NotServingYet(u)
	}
	return errors.Is(err, ErrNotRegistered) || errors.Is(err, ErrNoHeartbeatYet)
}

// WorkerPortOpen is the first part of CheckWorker: the worker's port accepts
// a connection (dialled from its server).
func WorkerPortOpen(ctx context.Context, cl *Client, w *schema.Worker) error {
	pctx, cancel := context.WithTimeout(ctx, cl.HTTP.Timeout)
	defer cancel()
	if err := cl.PortOpen(pctx, WorkerEndpoint(w)); err != nil {
		return &Awaiting{What: fmt.Sprintf("%s to load (port %d does not answer yet)", modelName(w), w.Port),
			Err: fmt.Errorf("%s: port %d does not answer: %w", WorkerAddress(w), w.Port, err)}
	}
	return nil
}

// JudgeThrough lists the rows through one controller and judges them with
// that controller's clock and heartbeat timeout.
func JudgeThrough(ctx context.Context, cl *Client, ctl *schema.Controller, declared map[string]bool) ([]Row, error) {
	rows, err := ControllerModels(ctx, cl, ctl)
	if err != nil {
		return nil, err
	}
	now := cl.PeerNow(hostOf(ctl.URL()))
	return JudgeRows(rows, now, HeartbeatTimeout(ctl), cl.heartbeatTimeOn(ctx, ctl.Server), declared), nil
}

// CheckWorker returns nil when the worker's port answers and its
// `<model>@<type>` and `WorkerManager@service` rows at its server's address
// and port are healthy and fresh as seen through EVERY controller of c.
func CheckWorker(ctx context.Context, cl *Client, c *schema.Cluster, w *schema.Worker) error {
	return CheckWorkerThrough(ctx, cl, w, c.Controllers)
}

// CheckWorkerThrough is CheckWorker through the given controllers only.
func CheckWorkerThrough(ctx context.Context, cl *Client, w *schema.Worker, ctls []*schema.Controller) error {
	if err := WorkerPortOpen(ctx, cl, w); err != nil {
		return err
	}
	if len(ctls) == 0 {
		return fmt.Errorf("%s: no controller to check its registration through", WorkerAddress(w))
	}
	var (
		errs            []error
		missing, silent []string
	)
	for _, ctl := range ctls {
		rows, err := JudgeThrough(ctx, cl, ctl, nil)
		if err != nil {
			silent = append(silent, ctl.Name)
			errs = append(errs, err)
			continue
		}
		if err := WorkerRowsProblem(rows, w, HeartbeatTimeout(ctl)); err != nil {
			missing = append(missing, ctl.Name)
			errs = append(errs, fmt.Errorf("through %s: %w", ControllerAddress(ctl), err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	var what []string
	if len(missing) > 0 {
		what = append(what, fmt.Sprintf("%s to register through %s", modelName(w), strings.Join(missing, ", ")))
	}
	if len(silent) > 0 {
		what = append(what, strings.Join(silent, ", ")+" to answer")
	}
	return &Awaiting{What: strings.Join(what, "; "), Err: fmt.Errorf("%s: %w", WorkerAddress(w), errors.Join(errs...))}
}

func modelName(w *schema.Worker) string {
	if w.Model != nil {
		return w.Model.Name
	}
	return w.RegistryModelName()
}

// WebserverURL is the webserver's base URL.
func WebserverURL(ws *schema.Webserver) string {
	return "http://" + net.JoinHostPort(ws.Server.Address, strconv.Itoa(ws.Port))
}

// APIServerURL is the API server's base URL.
func APIServerURL(a *schema.APIServer) string {
	return "http://" + net.JoinHostPort(a.Server.Address, strconv.Itoa(a.Port))
}

// CheckWebserver returns nil when the webserver answers /api/health with ok
// and, in light mode, its GET /api/controller/models (forwarded to a
// controller) lists a healthy row of every worker of c.
func CheckWebserver(ctx context.Context, cl *Client, c *schema.Cluster) error {
	ws := c.Webserver
	if ws == nil {
		return nil
	}
	u := WebserverURL(ws)
	dc := dbgpt.NewClient(cl.HTTP, u)
	if err := dc.Health(ctx); err != nil {
		return &Awaiting{What: "webserver to answer /api/health", Err: fmt.Errorf("webserver (%s): /api/health: %w", u, trimURLErr(err))}
	}
	if !ws.Light {
		return nil
	}
	rows, err := dc.ListModels(ctx, "", false)
	if err != nil {
		return fmt.Errorf("webserver (%s): GET /api/controller/models: %w", u, trimURLErr(err))
	}
	var missing []string
	for _, w := range c.Workers {
		ok := false
		for _, r := range rows {
			if r.ModelName == w.RegistryModelName() && r.Host == w.Server.Address && r.Port == w.Port && r.Healthy {
				ok = true
			}
		}
		if !ok {
			missing = append(missing, w.RegistryModelName()+" at "+WorkerEndpoint(w))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("webserver (%s): does not see %s as healthy", u, strings.Join(missing, ", "))
	}
	return nil
}

// CheckAPIServer returns nil when the API server answers GET /api/v1/models
// with 200 (with the first API key, when it has any).
func CheckAPIServer(ctx context.Context, cl *Client, c *schema.Cluster) error {
	a := c.APIServer
	if a == nil {
		return nil
	}
	u := APIServerURL(a) + "/api/v1/models"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if len(a.APIKeys) > 0 {
		req.Header.Set("Authorization", "Bearer "+a.APIKeys[0].Reveal())
	}
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		return &Awaiting{What: "apiserver to answer", Err: fmt.Errorf("apiserver: GET %s: %w", u, trimURLErr(err))}
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("apiserver: GET %s: HTTP %d", u, resp.StatusCode)
	}
	return nil
}

// WaitFor calls check every interval until it returns nil, ctx ends or
// timeout passes. On failure it returns the last reason check gave.
func WaitFor(ctx context.Context, timeout, interval time.Duration, check func(context.Context) error) error {
	if interval <= 0 {
		interval = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		last = check(ctx)
		if last == nil {
			return nil
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("not healthy after %s: %w", timeout.Round(time.Second), last)
		case <-t.C:
		}
	}
}

// trimURLErr drops net/http's "Get \"URL\": " prefix when the caller already
// names the URL.
func trimURLErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Host
}
