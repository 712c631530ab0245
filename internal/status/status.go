package status

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

// Component states.
const (
	StateRunning   = "running"
	StateDown      = "down"
	StateUnhealthy = "unhealthy"
	// StateStarting: its process runs and started less than its start
	// timeout ago, but it does not serve yet (a model still loading).
	StateStarting    = "starting"
	StateNotDeployed = "not deployed"
	StateUnknown     = "unknown" // its server could not be observed
)

// Where the models came from.
const (
	SourceControllers = "controllers"
	SourceDatabase    = "registry database"
	SourceNone        = "none"
)

// Report is everything `hactl status` shows.
type Report struct {
	// FormatVersion is the version of the JSON document's format
	// (docs/json/status.schema.json); WriteJSON sets it.
	FormatVersion string       `json:"format_version"`
	Cluster       string       `json:"cluster"`
	Version       string       `json:"dbgpt_version"`
	Components    []Component  `json:"components"`
	Controllers   []Controller `json:"controllers"`
	// ModelsSource is SourceControllers, SourceDatabase (no controller
	// answered) or SourceNone (neither could be read).
	ModelsSource string   `json:"models_source"`
	Models       []Model  `json:"models"`
	Notes        []string `json:"notes,omitempty"`
	// NothingReached: no server could be observed, no controller or other
	// component answered and the registry could not be read.
	NothingReached bool `json:"nothing_reached"`
}

// Component is one deployed or declared component. A value hactl does not
// know (the component is not running, or its server could not be observed)
// is left out of the JSON rather than given as 0.
type Component struct {
	Name    string `json:"name"` // e.g. controller.ctrl1
	Role    string `json:"role"`
	Server  string `json:"server"`
	Address string `json:"address"` // host:port
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"` // why unhealthy / down / unknown
	// PID is 0 (omitted) unless the process was seen running.
	PID       int       `json:"pid,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
	// UptimeSeconds is nil unless the process runs and its start is known.
	UptimeSeconds *int64 `json:"uptime_seconds,omitempty"`
	// StartTimeoutSeconds is the start timeout of a component that is
	// starting (its uptime is how long it has been starting); nil otherwise.
	StartTimeoutSeconds *int64 `json:"start_timeout_seconds,omitempty"`
	// Restarts is nil when the component was not observed on its server.
	Restarts *int `json:"restarts,omitempty"`
	// InFile is false for a component found on a server but no longer in the
	// cluster file (the next apply destroys it).
	InFile bool `json:"in_file"`
	// URL is what a person opens on this machine for a component the
	// provider publishes (compose: compose.publish); empty (omitted)
	// otherwise, and always over SSH.
	URL string `json:"url,omitempty"`
}

// Publisher is a provider that publishes components on this machine's host
// ports: URL returns the URL a person opens for a component (its plan
// address, e.g. "webserver"), "" when it is not published.
type Publisher interface {
	URL(address string) string
}

// Controller says whether a controller answered the registry listing.
type Controller struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	Answered bool   `json:"answered"`
	Error    string `json:"error,omitempty"`
}

// Model is one registry row, with dbgpt model list's columns and hactl's
// judgement.
type Model struct {
	ModelName      string `json:"model_name"`
	ModelType      string `json:"model_type"`
	Host           string `json:"host"`
	Port           int    `json:"port"`
	Healthy        bool   `json:"healthy"`
	Enabled        bool   `json:"enabled"`
	PromptTemplate string `json:"prompt_template"`
	// LastHeartbeat is empty (omitted) when the row never had a heartbeat.
	LastHeartbeat string `json:"last_heartbeat,omitempty"`
	// HeartbeatAgeSeconds is nil (omitted) when the age is unknown: no
	// heartbeat yet, or one that lies ahead of the controller's clock.
	HeartbeatAgeSeconds *int64 `json:"heartbeat_age_seconds,omitempty"`
	// State: "live", "unhealthy", "stale" or "stale registration", with
	// ", duplicate" appended for duplicate rows.
	State             string   `json:"state"`
	Live              bool     `json:"live"`
	Stale             bool     `json:"stale"`
	Duplicate         bool     `json:"duplicate"`
	StaleRegistration bool     `json:"stale_registration"`
	Via               []string `json:"via"` // controllers that listed it
	// HeartbeatInFuture: the last heartbeat lies ahead of the controller's
	// clock, so its host is not in the zone hactl assumed; liveness then
	// follows the healthy column only.
	HeartbeatInFuture bool `json:"heartbeat_in_future,omitempty"`
}

// Options tune Gather.
type Options struct {
	RequestTimeout time.Duration // one HTTP request; 0 = health.DefaultRequestTimeout
}

// Gather observes the cluster and reads its registry. It fails only when
// nothing at all could be learnt; partial failures (a host or controller
// down) are in the report. Observation, the registry listings and every
// component's probe run at the same time, so the components' states and the
// model rows describe the same moment.
func Gather(ctx context.Context, p providers.Provider, c *schema.Cluster, opt Options) (*Report, error) {
	r := &Report{Cluster: c.Name, Version: c.Version, Components: []Component{}, Models: []Model{}, Controllers: []Controller{}}
	cl := health.NewClient(p, c, opt.RequestTimeout)
	defer cl.Close()

	var (
		wg       sync.WaitGroup
		observed []providers.Observed
		obsErr   error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		observed, obsErr = p.Observe(ctx, c)
	}()

	// Registry rows through every controller.
	declared := health.DeclaredWorkerEndpoints(c)
	perCtl := make([][]health.Row, len(c.Controllers))
	listErr := make([]error, len(c.Controllers))
	r.Controllers = make([]Controller, len(c.Controllers))
	for i, ctl := range c.Controllers {
		r.Controllers[i] = Controller{Name: health.ControllerAddress(ctl), URL: ctl.URL()}
		wg.Add(1)
		go func() {
			defer wg.Done()
			perCtl[i], listErr[i] = health.JudgeThrough(ctx, cl, ctl, declared)
		}()
	}

	// Every declared component's own probe.
	decl := declaredComponents(cl, c)
	probeErr := make([]error, len(decl))
	for i, d := range decl {
		wg.Add(1)
		go func() {
			defer wg.Done()
			probeErr[i] = d.probe(ctx)
		}()
	}
	wg.Wait()

	var answering []*schema.Controller
	for i, ctl := range c.Controllers {
		if listErr[i] != nil {
			r.Controllers[i].Error = listErr[i].Error()
			continue
		}
		r.Controllers[i].Answered = true
		answering = append(answering, ctl)
	}
	switch {
	case len(answering) > 0:
		r.ModelsSource = SourceControllers
		r.Models = merge(c, r.Controllers, perCtl)
	case len(c.Controllers) == 0:
		r.ModelsSource = SourceNone
		r.Notes = append(r.Notes, "the cluster file declares no controller")
	default:
		r.ModelsSource = SourceNone
		// That no controller answered is said by ModelsSource (and the
		// models heading); the notes add only what it does not say.
		rows, err := p.Registry(c).Rows(ctx)
		if err != nil {
			r.Notes = append(r.Notes, "reading the registry database failed: "+err.Error())
			break
		}
		r.ModelsSource = SourceDatabase
		r.Notes = append(r.Notes, "the heartbeat ages of rows read from the registry database use this machine's clock")
		judged := health.JudgeRows(rows, time.Now().UTC(), maxTimeout(c), nil, declared)
		r.Models = toModels(judged, []string{SourceDatabase})
	}
	sortModels(r.Models)
	for _, m := range r.Models {
		if m.HeartbeatInFuture {
			r.Notes = append(r.Notes, "some last heartbeats lie ahead of their controller's clock: the controllers' hosts are not on UTC, the zone hactl reads last_heartbeat in; those rows are judged by their healthy column only")
			break
		}
	}

	anyAnswered := false
	for _, err := range probeErr {
		anyAnswered = anyAnswered || err == nil
	}
	r.NothingReached = obsErr != nil && !anyAnswered && r.ModelsSource == SourceNone

	// A component's health: its probe, then for a controller its registry
	// listing and for a worker its rows through every answering controller.
	for i, d := range decl {
		if probeErr[i] != nil {
			continue
		}
		switch {
		case d.ctl >= 0:
			probeErr[i] = listErr[d.ctl]
		case d.worker != nil:
			probeErr[i] = workerProblem(d.worker, c.Controllers, perCtl, listErr)
		}
	}

	comps, err := components(c, decl, probeErr, observed, obsErr)
	if err != nil {
		return nil, err
	}
	r.Components = comps
	if pub, ok := p.(Publisher); ok {
		for i := range r.Components {
			if r.Components[i].InFile {
				r.Components[i].URL = pub.URL(r.Components[i].Name)
			}
		}
	}
	if obsErr != nil {
		r.Notes = append(r.Notes, "observing the servers failed: "+obsErr.Error())
	}
	r.Notes = dedupe(r.Notes)
	return r, nil
}

func dedupe(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// workerProblem judges a worker's rows as each answering controller listed them.
func workerProblem(w *schema.Worker, ctls []*schema.Controller, perCtl [][]health.Row, listErr []error) error {
	var errs []error
	n := 0
	for i, ctl := range ctls {
		if listErr[i] != nil {
			continue
		}
		n++
		if err := health.WorkerRowsProblem(perCtl[i], w, health.HeartbeatTimeout(ctl)); err != nil {
			errs = append(errs, fmt.Errorf("through %s: %w", health.ControllerAddress(ctl), err))
		}
	}
	if n == 0 {
		return errors.New("no controller answers: its registration cannot be checked")
	}
	return errors.Join(errs...)
}

func maxTimeout(c *schema.Cluster) time.Duration {
	var m time.Duration
	for _, ctl := range c.Controllers {
		m = max(m, health.HeartbeatTimeout(ctl))
	}
	if m == 0 {
		m = 60 * time.Second
	}
	return m
}

// merge joins the rows listed by each controller. Controllers sharing one
// registry list the same rows; a key (model, host, port) keeps the rows of
// the controller that listed it most often, so duplicates stay visible.
func merge(c *schema.Cluster, ctls []Controller, perCtl [][]health.Row) []Model {
	type entry struct {
		rows []health.Row
		via  []string
	}
	byKey := map[string]*entry{}
	var order []string
	for i, rows := range perCtl {
		if rows == nil {
			continue
		}
		group := map[string][]health.Row{}
		var keys []string
		for _, row := range rows {
			k := health.Key(row.Instance)
			if _, seen := group[k]; !seen {
				keys = append(keys, k)
			}
			group[k] = append(group[k], row)
		}
		for _, k := range keys {
			e := byKey[k]
			if e == nil {
				e = &entry{}
				byKey[k] = e
				order = append(order, k)
			}
			e.via = append(e.via, ctls[i].Name)
			if len(group[k]) > len(e.rows) {
				e.rows = group[k]
			}
		}
	}
	var out []Model
	for _, k := range order {
		e := byKey[k]
		out = append(out, toModels(e.rows, e.via)...)
	}
	return out
}

func toModels(rows []health.Row, via []string) []Model {
	out := make([]Model, 0, len(rows))
	for _, row := range rows {
		name, typ := row.Split()
		m := Model{
			ModelName: name, ModelType: typ, Host: row.Host, Port: row.Port,
			Healthy: row.Healthy, Enabled: row.Enabled,
			State: row.State(), Live: row.Live(), Stale: row.Liveness == health.Stale,
			Duplicate: row.Duplicate, StaleRegistration: row.StaleRegistration, HeartbeatInFuture: row.Future,
			Via: append([]string(nil), via...),
		}
		if row.PromptTemplate != nil {
			m.PromptTemplate = *row.PromptTemplate
		}
		if row.LastHeartbeat != nil && !row.LastHeartbeat.IsZero() {
			m.LastHeartbeat = row.LastHeartbeat.String()
		}
		if row.Age >= 0 && !row.Future && m.LastHeartbeat != "" {
			age := int64(row.Age.Round(time.Second) / time.Second)
			m.HeartbeatAgeSeconds = &age
		}
		out = append(out, m)
	}
	return out
}

func sortModels(ms []Model) {
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		// the model's row before its WorkerManager@service row
		if (a.ModelType == "service") != (b.ModelType == "service") {
			return b.ModelType == "service"
		}
		return a.ModelName < b.ModelName
	})
}

// declaredComponent is one component of the cluster file with its probe.
type declaredComponent struct {
	name, role string
	server     *schema.Server
	port       int
	probe      func(ctx context.Context) error
	ctl        int            // index in c.Controllers, -1 when not a controller
	worker     *schema.Worker // nil when not a worker
	// startTimeout is how long it may take from its process's start until
	// it serves: within it, one that does not serve yet is starting.
	startTimeout time.Duration
}

func declaredComponents(cl *health.Client, c *schema.Cluster) []declaredComponent {
	var out []declaredComponent
	for i, ctl := range c.Controllers {
		out = append(out, declaredComponent{name: health.ControllerAddress(ctl), role: schema.RoleController,
			server: ctl.Server, port: ctl.Port, ctl: i,
			probe: func(ctx context.Context) error { return health.ControllerAlive(ctx, cl, ctl) }})
	}
	for _, w := range c.Workers {
		out = append(out, declaredComponent{name: health.WorkerAddress(w), role: schema.RoleWorker,
			server: w.Server, port: w.Port, ctl: -1, worker: w,
			probe: func(ctx context.Context) error { return health.WorkerPortOpen(ctx, cl, w) }})
	}
	if ws := c.Webserver; ws != nil {
		out = append(out, declaredComponent{name: "webserver", role: schema.RoleWebserver, server: ws.Server, port: ws.Port, ctl: -1,
			probe: func(ctx context.Context) error { return health.CheckWebserver(ctx, cl, c) }})
	}
	if a := c.APIServer; a != nil {
		out = append(out, declaredComponent{name: "apiserver", role: schema.RoleAPIServer, server: a.Server, port: a.Port, ctl: -1,
			probe: func(ctx context.Context) error { return health.CheckAPIServer(ctx, cl, c) }})
	}
	for i := range out {
		out[i].startTimeout = startTimeout(out[i].role, out[i].worker)
	}
	return out
}

// components combines what the servers showed with each declared
// component's health (checkErr, nil = healthy).
func components(c *schema.Cluster, decl []declaredComponent, checkErr []error, observed []providers.Observed, obsErr error) ([]Component, error) {
	obsBy := map[string]providers.Observed{}
	for _, o := range observed {
		obsBy[o.Address] = o
	}
	now := time.Now()
	out := make([]Component, len(decl))
	for i, d := range decl {
		comp := Component{Name: d.name, Role: d.role, Server: d.server.Name,
			Address: net.JoinHostPort(d.server.Address, strconv.Itoa(d.port)), InFile: true}
		o, found := obsBy[d.name]
		if found {
			fillObserved(&comp, o, now)
		}
		err := checkErr[i]
		switch {
		case found && !o.Running:
			comp.State = StateDown
		case !found && obsErr == nil:
			comp.State = StateNotDeployed
		case err == nil && found && o.Defect != "":
			// It answers, but cannot do its whole job (a controller whose
			// heartbeat checker died never marks a stale row unhealthy).
			comp.State = StateUnhealthy
			comp.Reason = o.Defect + " ('hactl apply' restarts it)"
		case err == nil && found:
			comp.State = StateRunning
		case err == nil:
			comp.State = StateRunning
			comp.Reason = "answers, but its server could not be observed"
		case found && health.NotServingYet(err) && startingFor(o, d.startTimeout, now):
			comp.State = StateStarting
			comp.Reason = err.Error()
			limit := int64(d.startTimeout / time.Second)
			comp.StartTimeoutSeconds = &limit
		case found:
			comp.State = StateUnhealthy
			comp.Reason = err.Error()
		default:
			// Why its server could not be observed is said once, in the
			// report's notes.
			comp.State = StateUnknown
			comp.Reason = err.Error()
		}
		out[i] = comp
	}

	// Components found on servers but gone from the file.
	known := map[string]bool{}
	for _, d := range decl {
		known[d.name] = true
	}
	var extra []Component
	for _, o := range observed {
		if known[o.Address] {
			continue
		}
		comp := Component{Name: o.Address, Role: o.Role, Server: o.Server, InFile: false,
			Reason: "not in the cluster file: the next apply removes it"}
		addr := o.Server
		if s := c.ServerByName(o.Server); s != nil {
			addr = s.Address
		}
		comp.Address = net.JoinHostPort(addr, strconv.Itoa(o.Port))
		fillObserved(&comp, o, now)
		comp.State = StateDown
		if o.Running {
			comp.State = StateRunning
		}
		extra = append(extra, comp)
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].Name < extra[j].Name })
	if len(decl) == 0 && len(extra) == 0 && obsErr != nil {
		return nil, fmt.Errorf("observing the cluster: %w", obsErr)
	}
	return append(out, extra...), nil
}

// startingFor says whether a running component that does not serve is
// starting: started less than its start timeout before now.
func startingFor(o providers.Observed, limit time.Duration, now time.Time) bool {
	return o.Running && !o.StartedAt.IsZero() && limit > 0 && now.Sub(o.StartedAt) < limit
}

// startTimeout is a component's start timeout: its model's for a worker,
// else its level's default gate timeout.
func startTimeout(role string, w *schema.Worker) time.Duration {
	switch role {
	case schema.RoleController:
		return defaults.GateTimeoutControllers
	case schema.RoleWorker:
		if w != nil && w.Model != nil && w.Model.StartTimeout > 0 {
			return w.Model.StartTimeout
		}
		return defaults.GateTimeoutWorkers
	}
	return defaults.GateTimeoutFrontends
}

func fillObserved(comp *Component, o providers.Observed, now time.Time) {
	restarts := o.Restarts
	comp.Restarts = &restarts
	if !o.Running {
		return
	}
	comp.PID = o.PID
	if !o.StartedAt.IsZero() {
		comp.StartedAt = o.StartedAt
		up := max(int64(now.Sub(o.StartedAt)/time.Second), 0)
		comp.UptimeSeconds = &up
	}
}

// Healthy reports whether nothing is degraded: see Degraded.
func (r *Report) Healthy() bool { return len(r.Degraded()) == 0 }

// Degraded lists what keeps the cluster from full health, the verdict of
// `hactl status --check`: a component of the file that is not running, a
// controller that did not answer the registry listing, a registry row that
// is not live or that some controller did not list. Components no longer in
// the file do not count. Empty means healthy.
func (r *Report) Degraded() []string {
	var out []string
	said := map[string]bool{}
	for _, c := range r.Components {
		if c.InFile && c.State != StateRunning {
			out = append(out, c.Name+" is "+c.State)
			said[c.Name] = true
		}
	}
	var ctls []string
	for _, c := range r.Controllers {
		switch {
		case c.Answered:
			ctls = append(ctls, c.Name)
		case !said[c.Name]:
			out = append(out, c.Name+" did not answer the registry listing")
		}
	}
	for _, m := range r.Models {
		row := fmt.Sprintf("%s@%s at %s", m.ModelName, m.ModelType, net.JoinHostPort(m.Host, strconv.Itoa(m.Port)))
		if !m.Live {
			out = append(out, row+" is "+m.State)
			continue
		}
		if r.ModelsSource != SourceControllers {
			continue // already degraded: no controller answered
		}
		for _, ctl := range ctls {
			if !slices.Contains(m.Via, ctl) {
				out = append(out, row+" is not listed by "+ctl)
			}
		}
	}
	return out
}
