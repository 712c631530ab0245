package schema

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// This file holds the rules that look at more than one block. Each rule adds
// its own diagnostic pointing at the argument (or block) that breaks it.

func (d *decoder) has(obj any, attr string) bool {
	_, ok := d.ranges[obj][attr]
	return ok
}

// machineKey names the machine a server is: all local-transport servers are
// the machine hactl runs on; ssh servers are their address.
func machineKey(s *Server) string {
	if s.Transport == TransportLocal {
		return "local"
	}
	return strings.ToLower(s.Address)
}

func isLoopback(host string) bool {
	h := strings.ToLower(host)
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}

type placed struct {
	address string // controller.NAME, worker.NAME, webserver, apiserver
	server  *Server
	port    int
	obj     any
	decl    hcl.Range
}

func (d *decoder) components() []placed {
	c := d.cluster
	var out []placed
	for _, x := range c.Controllers {
		out = append(out, placed{"controller." + x.Name, x.Server, x.Port, x, x.DeclRange})
	}
	for _, x := range c.Workers {
		out = append(out, placed{"worker." + x.Name, x.Server, x.Port, x, x.DeclRange})
	}
	if x := c.Webserver; x != nil {
		out = append(out, placed{"webserver", x.Server, x.Port, x, x.DeclRange})
	}
	if x := c.APIServer; x != nil {
		out = append(out, placed{"apiserver", x.Server, x.Port, x, x.DeclRange})
	}
	return out
}

func (d *decoder) validate(f *hcl.File) {
	c := d.cluster
	fileStart := hcl.Range{Filename: d.filename, Start: hcl.InitialPos, End: hcl.InitialPos}
	clusterRange := c.DeclRange
	if clusterRange.Filename == "" {
		clusterRange = fileStart
	}

	if len(c.Controllers) == 0 {
		d.add(errorf(&clusterRange, "No controller", "A cluster needs at least one controller block: workers, webserver and apiserver register with and find models through the controllers."))
	}

	// Two components on the same machine and port.
	type slot struct {
		machine string
		port    int
	}
	used := map[slot]placed{}
	for _, p := range d.components() {
		if p.server == nil || (p.server.Address == "" && p.server.Transport != TransportLocal) ||
			d.unknown[unknownKey{p.obj, "port"}] || d.unknown[unknownKey{p.server, "address"}] || d.unknown[unknownKey{p.server, "transport"}] {
			continue
		}
		k := slot{machineKey(p.server), p.port}
		if first, clash := used[k]; clash {
			where := fmt.Sprintf("server %q", p.server.Name)
			if first.server != p.server {
				where = fmt.Sprintf("servers %q and %q (the same machine)", first.server.Name, p.server.Name)
			}
			d.add(errorf(d.rangeOf(p.obj, "port", p.decl), "Port already in use",
				"%s and %s both use port %d on %s (%s is declared at %s). Give one of them another port.",
				first.address, p.address, p.port, where, first.address, first.decl.String()))
			continue
		}
		used[k] = p
	}

	// Registry and controllers.
	r := c.Registry
	if r != nil {
		machines := map[string]*Controller{}
		var firstCtl *Controller
		for _, ctl := range c.Controllers {
			if ctl.Server == nil {
				continue
			}
			if firstCtl == nil {
				firstCtl = ctl
			}
			if _, ok := machines[machineKey(ctl.Server)]; !ok {
				machines[machineKey(ctl.Server)] = ctl
			}
		}
		switch r.Type {
		case RegistryEmbedded:
			if len(c.Controllers) >= 2 {
				second := c.Controllers[1]
				rng := second.DeclRange
				d.add(errorf(&rng, "High availability needs a database registry",
					"The cluster has %d controllers but no mysql or sqlite registry: each controller would keep its own in-memory registry, so they would not share workers. Add a registry \"mysql\" block (or registry \"sqlite\" with every controller on one server).", len(c.Controllers)))
			}
		case RegistrySQLite:
			for _, ctl := range c.Controllers {
				if ctl.Server != nil && firstCtl != nil && machineKey(ctl.Server) != machineKey(firstCtl.Server) {
					d.add(errorf(d.rangeOf(ctl, "server", ctl.DeclRange), "SQLite registry on several servers",
						"controller.%s runs on server %q but controller.%s on server %q: a SQLite file cannot be shared between machines. Use a mysql registry, or put every controller on one server.",
						ctl.Name, ctl.Server.Name, firstCtl.Name, firstCtl.Server.Name))
					break
				}
			}
		case RegistryMySQL:
			if isLoopback(r.Host) && len(machines) > 1 {
				d.add(errorf(d.rangeOf(r, "host", r.DeclRange), "Registry host is loopback",
					"The registry host %q is the loopback address, but controllers run on %d different servers: each would reach its own machine, not one shared database. Use an address every controller can reach.", r.Host, len(machines)))
			}
			if !r.Password.IsSet() && !d.has(r, "password") {
				d.add(warnf(&r.DeclRange, "Registry without password", "The mysql registry has no password."))
			}
		}
	}

	// Heartbeats. The WorkerManager@service row of every worker process is
	// refreshed on a fixed period, not the worker's heartbeat_interval.
	const workerManagerHeartbeatSecs = 20
	minTimeout := 0
	for _, ctl := range c.Controllers {
		if ctl.HeartbeatTimeoutSecs <= ctl.HeartbeatIntervalSecs {
			d.add(errorf(d.rangeOf(ctl, "heartbeat_timeout", ctl.DeclRange), "Heartbeat timeout too short",
				"controller.%s: heartbeat_timeout (%d s) must be longer than heartbeat_interval (%d s).", ctl.Name, ctl.HeartbeatTimeoutSecs, ctl.HeartbeatIntervalSecs))
		}
		if len(c.Workers) > 0 && ctl.HeartbeatTimeoutSecs <= workerManagerHeartbeatSecs && ctl.HeartbeatTimeoutSecs > ctl.HeartbeatIntervalSecs {
			d.add(warnf(d.rangeOf(ctl, "heartbeat_timeout", ctl.DeclRange), "Heartbeat timeout shorter than the worker manager's beat",
				"controller.%s: DB-GPT's worker manager sends the WorkerManager@service heartbeat every %d s whatever heartbeat_interval says; with heartbeat_timeout = %d that row turns stale between beats and every worker looks unhealthy. Use a timeout above %d s.", ctl.Name, workerManagerHeartbeatSecs, ctl.HeartbeatTimeoutSecs, workerManagerHeartbeatSecs))
		}
		if minTimeout == 0 || ctl.HeartbeatTimeoutSecs < minTimeout {
			minTimeout = ctl.HeartbeatTimeoutSecs
		}
	}
	for _, w := range c.Workers {
		if minTimeout > 0 && w.HeartbeatIntervalSecs >= minTimeout {
			d.add(errorf(d.rangeOf(w, "heartbeat_interval", w.DeclRange), "Heartbeat interval too long",
				"worker.%s sends a heartbeat every %d s, but a controller marks workers unhealthy after %d s without one. Use a shorter interval.", w.Name, w.HeartbeatIntervalSecs, minTimeout))
		}
	}

	// Models and what serves them.
	served := map[*Model]bool{}
	for _, w := range c.Workers {
		if w.Model != nil {
			served[w.Model] = true
		}
	}
	// Unused-declaration warnings only on an otherwise clean file: after a
	// broken reference they would be noise.
	quiet := d.diags.HasErrors()
	for _, m := range c.Models {
		if !served[m] && !quiet {
			rng := m.DeclRange
			d.add(warnf(&rng, "Model not served", "No worker serves model %q.", m.Name))
		}
	}
	if ws := c.Webserver; ws != nil {
		d.checkDefaultModel(ws, "default_llm", ws.DefaultLLM, WorkerTypeLLM, served)
		d.checkDefaultModel(ws, "default_embedding", ws.DefaultEmbedding, WorkerTypeText2Vec, served)
		if ws.RemoteEmbedding && ws.DefaultEmbedding == nil && !d.has(ws, "default_embedding") {
			hasEmb := false
			for m := range served {
				hasEmb = hasEmb || m.WorkerType == WorkerTypeText2Vec
			}
			if !hasEmb {
				d.add(warnf(d.rangeOf(ws, "remote_embedding", ws.DeclRange), "No embedding worker",
					"remote_embedding is on but no worker serves a text2vec model."))
			}
		}
		if !ws.Light && len(c.Controllers) > 1 {
			d.add(warnf(d.rangeOf(ws, "light", ws.DeclRange), "Webserver not light",
				"With light = false the webserver runs its own model manager and ignores the cluster's controllers."))
		}
	}

	if as := c.APIServer; as != nil && !quiet {
		hasLLM := false
		for m := range served {
			hasLLM = hasLLM || m.WorkerType == WorkerTypeLLM
		}
		if !hasLLM {
			rng := as.DeclRange
			d.add(warnf(&rng, "API server without an LLM", "No worker serves an llm model, so the API server has nothing to answer with."))
		}
	}

	d.checkReachability()

	// Settings the DB-GPT generation does not have.
	for _, m := range c.Models {
		if m.Provider != "" && c.Generation == GenerationFlags {
			d.add(errorf(d.rangeOf(m, "provider", m.DeclRange), "Setting not available in DB-GPT "+c.Version,
				"provider is a setting of the TOML generation (DB-GPT 0.7.0 and later); DB-GPT %s chooses the provider from the model path and params.", c.Version))
		}
	}
	for _, w := range c.Workers {
		if d.has(w, "extra_args") && c.Generation == GenerationTOML {
			d.add(errorf(d.rangeOf(w, "extra_args", w.DeclRange), "Setting not available in DB-GPT "+c.Version,
				"extra_args exists only in the flags generation (DB-GPT 0.5.9 – 0.6.x): DB-GPT %s takes every setting from its TOML file and refuses unknown flags. Use the model's params instead.", c.Version))
		}
	}

	// Compose.
	if cp := c.Compose; cp != nil && cp.DeclRange.Filename != "" && cp.ManagedDatabase && r != nil && r.Type != RegistryMySQL {
		d.add(errorf(d.rangeOf(cp, "managed_database", cp.DeclRange), "Managed database needs a mysql registry",
			"managed_database runs a MySQL service for the registry, but the registry is %q. Declare registry \"mysql\" or set managed_database = false.", r.Type))
	}

	// Servers nothing runs on.
	usedServers := map[*Server]bool{}
	for _, p := range d.components() {
		usedServers[p.server] = true
	}
	for _, s := range c.Servers {
		if !usedServers[s] && !quiet {
			rng := s.DeclRange
			d.add(warnf(&rng, "Server not used", "No component runs on server %q.", s.Name))
		}
	}
}

func (d *decoder) checkDefaultModel(ws *Webserver, attr string, m *Model, wantType string, served map[*Model]bool) {
	if m == nil {
		return
	}
	switch m.WorkerType {
	case wantType:
	case WorkerTypeLLM, WorkerTypeText2Vec, WorkerTypeReranker:
		d.add(errorf(d.rangeOf(ws, attr, ws.DeclRange), "Wrong model type",
			"%s must be %s model, but model %q is %s model.", attr, article(wantType), m.Name, article(m.WorkerType)))
		return
	default:
		return
	}
	if !served[m] {
		d.add(errorf(d.rangeOf(ws, attr, ws.DeclRange), "Default model not served",
			"%s is model %q, but no worker serves it. Add a worker with model = model.%s.", attr, m.Name, m.Name))
	}
}

func article(typ string) string {
	if typ == WorkerTypeLLM {
		return "an llm"
	}
	return "a " + typ
}

// checkReachability warns when a component listens, or its server is known,
// only on a loopback address while components on other machines must reach
// it (controllers are called by everything; workers by the webserver and
// apiserver).
func (d *decoder) checkReachability() {
	machines := map[string]bool{}
	for _, p := range d.components() {
		if p.server != nil {
			machines[machineKey(p.server)] = true
		}
	}
	if len(machines) < 2 {
		return
	}
	for _, p := range d.components() {
		var host string
		switch x := p.obj.(type) {
		case *Controller:
			host = x.Host
		case *Worker:
			host = x.Host
		default:
			continue
		}
		if p.server == nil {
			continue
		}
		switch {
		case isLoopback(p.server.Address):
			rng := p.decl
			d.add(warnf(&rng, "Unreachable from other servers",
				"%s runs on server %q whose address %s is loopback, but the cluster spans several machines: the components there cannot reach it.", p.address, p.server.Name, p.server.Address))
		case isLoopback(host):
			d.add(warnf(d.rangeOf(p.obj, "host", p.decl), "Unreachable from other servers",
				"%s listens on %s only, but components on other servers must reach it.", p.address, host))
		}
	}
}
