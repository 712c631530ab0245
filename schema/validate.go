package schema

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/hactl/hactl/internal/dbgpt/catalog"
)

// This file holds the rules that look at more than one block, run by validate
// once every block is decoded. Each rule is one function adding its own
// diagnostics, pointing at the argument (or block) that breaks it;
// validate_test.go has a table of cases per rule.

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

// validation is what the rules share: the decoder (for ranges and
// diagnostics) and facts several rules need.
type validation struct {
	*decoder
	c *Cluster
	// served holds the models some worker serves.
	served map[*Model]bool
	// quiet is set when an error was found before the usage rules ran:
	// after a broken reference, unused-declaration warnings would be noise.
	quiet bool
}

type rule func(v *validation)

// structureRules check that the blocks fit together into a working cluster.
var structureRules = []rule{
	ruleClusterHasController,
	rulePortsUniquePerMachine,
	ruleEmbeddedRegistrySingleController,
	ruleSQLiteControllersOnOneMachine,
	ruleMySQLHostNotLoopbackAcrossMachines,
	ruleMySQLPasswordSet,
	ruleHeartbeatTimeoutAboveInterval,
	ruleHeartbeatTimeoutAboveWorkerManagerBeat,
	ruleWorkerHeartbeatBelowControllerTimeout,
}

// usageRules check what is declared against what is used; they run after
// structureRules, whose errors make some of their warnings quiet.
var usageRules = []rule{
	ruleModelsServed,
	ruleDefaultLLMServedLLM,
	ruleDefaultEmbeddingServedText2Vec,
	ruleRemoteEmbeddingHasWorker,
	ruleWebserverLightWithSeveralControllers,
	ruleAPIServerHasLLM,
	ruleReachableAcrossMachines,
	ruleProviderKnown,
	ruleProxyEmbeddingName06,
	ruleProxyAPIBase06,
	ruleProxyHasKey,
	ruleDefaultEmbeddingKnown06,
	ruleParamsKnown07,
	ruleExtraArgsNeedsFlagsGeneration,
	ruleManagedDatabaseNeedsMySQL,
	ruleMetaDatabaseNeedsMySQL,
	ruleServersUsed,
}

func (d *decoder) validate() {
	v := d.newValidation()
	for _, r := range structureRules {
		r(v)
	}
	v.quiet = d.diags.HasErrors()
	for _, r := range usageRules {
		r(v)
	}
}

func (d *decoder) newValidation() *validation {
	v := &validation{decoder: d, c: d.cluster, served: map[*Model]bool{}}
	for _, w := range v.c.Workers {
		if w.Model != nil {
			v.served[w.Model] = true
		}
	}
	return v
}

// servesType reports whether some worker serves a model of the type.
func (v *validation) servesType(workerType string) bool {
	for m := range v.served {
		if m.WorkerType == workerType {
			return true
		}
	}
	return false
}

func ruleClusterHasController(v *validation) {
	if len(v.c.Controllers) > 0 {
		return
	}
	rng := v.c.DeclRange
	if rng.Filename == "" {
		rng = hcl.Range{Filename: v.filename, Start: hcl.InitialPos, End: hcl.InitialPos}
	}
	v.add(errorf(&rng, "No controller", "A cluster needs at least one controller block: workers, webserver and apiserver register with and find models through the controllers."))
}

// rulePortsUniquePerMachine: two components on one machine cannot listen on
// the same port. Components whose machine or port is not known yet (unset
// variables) are skipped.
func rulePortsUniquePerMachine(v *validation) {
	type slot struct {
		machine string
		port    int
	}
	used := map[slot]placed{}
	for _, p := range v.components() {
		if !v.placementKnown(p) {
			continue
		}
		k := slot{machineKey(p.server), p.port}
		first, clash := used[k]
		if !clash {
			used[k] = p
			continue
		}
		where := fmt.Sprintf("server %q", p.server.Name)
		if first.server != p.server {
			where = fmt.Sprintf("servers %q and %q (the same machine)", first.server.Name, p.server.Name)
		}
		v.add(errorf(v.rangeOf(p.obj, "port", p.decl), "Port already in use",
			"%s and %s both use port %d on %s (%s is declared at %s). Give one of them another port.",
			first.address, p.address, p.port, where, first.address, first.decl.String()))
	}
}

func (v *validation) placementKnown(p placed) bool {
	if p.server == nil || (p.server.Address == "" && p.server.Transport != TransportLocal) {
		return false
	}
	return !v.unknown[unknownKey{p.obj, "port"}] && !v.unknown[unknownKey{p.server, "address"}] && !v.unknown[unknownKey{p.server, "transport"}]
}

func (v *validation) registryIs(typ string) bool {
	return v.c.Registry != nil && v.c.Registry.Type == typ
}

func ruleEmbeddedRegistrySingleController(v *validation) {
	if !v.registryIs(RegistryEmbedded) || len(v.c.Controllers) < 2 {
		return
	}
	rng := v.c.Controllers[1].DeclRange
	v.add(errorf(&rng, "High availability needs a database registry",
		"The cluster has %d controllers but no mysql or sqlite registry: each controller would keep its own in-memory registry, so they would not share workers. Add a registry \"mysql\" block (or registry \"sqlite\" with every controller on one server).", len(v.c.Controllers)))
}

// ruleSQLiteControllersOnOneMachine reports the first controller that is not
// on the machine of the first placed controller.
func ruleSQLiteControllersOnOneMachine(v *validation) {
	if !v.registryIs(RegistrySQLite) {
		return
	}
	var first *Controller
	for _, ctl := range v.c.Controllers {
		if ctl.Server == nil {
			continue
		}
		if first == nil {
			first = ctl
			continue
		}
		if machineKey(ctl.Server) != machineKey(first.Server) {
			v.add(errorf(v.rangeOf(ctl, "server", ctl.DeclRange), "SQLite registry on several servers",
				"controller.%s runs on server %q but controller.%s on server %q: a SQLite file cannot be shared between machines. Use a mysql registry, or put every controller on one server.",
				ctl.Name, ctl.Server.Name, first.Name, first.Server.Name))
			return
		}
	}
}

// controllerMachines counts the machines the controllers run on.
func (v *validation) controllerMachines() int {
	machines := map[string]bool{}
	for _, ctl := range v.c.Controllers {
		if ctl.Server != nil {
			machines[machineKey(ctl.Server)] = true
		}
	}
	return len(machines)
}

func ruleMySQLHostNotLoopbackAcrossMachines(v *validation) {
	r := v.c.Registry
	if !v.registryIs(RegistryMySQL) || !isLoopback(r.Host) {
		return
	}
	if n := v.controllerMachines(); n > 1 {
		v.add(errorf(v.rangeOf(r, "host", r.DeclRange), "Registry host is loopback",
			"The registry host %q is the loopback address, but controllers run on %d different servers: each would reach its own machine, not one shared database. Use an address every controller can reach.", r.Host, n))
	}
}

func ruleMySQLPasswordSet(v *validation) {
	r := v.c.Registry
	if v.registryIs(RegistryMySQL) && !r.Password.IsSet() && !v.has(r, "password") {
		v.add(warnf(&r.DeclRange, "Registry without password", "The mysql registry has no password."))
	}
}

func ruleHeartbeatTimeoutAboveInterval(v *validation) {
	for _, ctl := range v.c.Controllers {
		if ctl.HeartbeatTimeoutSecs <= ctl.HeartbeatIntervalSecs {
			v.add(errorf(v.rangeOf(ctl, "heartbeat_timeout", ctl.DeclRange), "Heartbeat timeout too short",
				"controller.%s: heartbeat_timeout (%d s) must be longer than heartbeat_interval (%d s).", ctl.Name, ctl.HeartbeatTimeoutSecs, ctl.HeartbeatIntervalSecs))
		}
	}
}

// workerManagerHeartbeatSecs is the period on which every worker process
// refreshes its WorkerManager@service row, whatever its heartbeat_interval.
const workerManagerHeartbeatSecs = 20

// ruleHeartbeatTimeoutAboveWorkerManagerBeat warns only where
// ruleHeartbeatTimeoutAboveInterval found nothing.
func ruleHeartbeatTimeoutAboveWorkerManagerBeat(v *validation) {
	if len(v.c.Workers) == 0 {
		return
	}
	for _, ctl := range v.c.Controllers {
		if ctl.HeartbeatTimeoutSecs <= workerManagerHeartbeatSecs && ctl.HeartbeatTimeoutSecs > ctl.HeartbeatIntervalSecs {
			v.add(warnf(v.rangeOf(ctl, "heartbeat_timeout", ctl.DeclRange), "Heartbeat timeout shorter than the worker manager's beat",
				"controller.%s: DB-GPT's worker manager sends the WorkerManager@service heartbeat every %d s whatever heartbeat_interval says; with heartbeat_timeout = %d that row turns stale between beats and every worker looks unhealthy. Use a timeout above %d s.", ctl.Name, workerManagerHeartbeatSecs, ctl.HeartbeatTimeoutSecs, workerManagerHeartbeatSecs))
		}
	}
}

func ruleWorkerHeartbeatBelowControllerTimeout(v *validation) {
	minTimeout := 0
	for _, ctl := range v.c.Controllers {
		if minTimeout == 0 || ctl.HeartbeatTimeoutSecs < minTimeout {
			minTimeout = ctl.HeartbeatTimeoutSecs
		}
	}
	if minTimeout <= 0 {
		return
	}
	for _, w := range v.c.Workers {
		if w.HeartbeatIntervalSecs >= minTimeout {
			v.add(errorf(v.rangeOf(w, "heartbeat_interval", w.DeclRange), "Heartbeat interval too long",
				"worker.%s sends a heartbeat every %d s, but a controller marks workers unhealthy after %d s without one. Use a shorter interval.", w.Name, w.HeartbeatIntervalSecs, minTimeout))
		}
	}
}

func ruleModelsServed(v *validation) {
	if v.quiet {
		return
	}
	for _, m := range v.c.Models {
		if !v.served[m] {
			rng := m.DeclRange
			v.add(warnf(&rng, "Model not served", "No worker serves model %q.", m.Name))
		}
	}
}

func ruleDefaultLLMServedLLM(v *validation) {
	if ws := v.c.Webserver; ws != nil {
		v.checkDefaultModel(ws, "default_llm", ws.DefaultLLM, WorkerTypeLLM)
	}
}

func ruleDefaultEmbeddingServedText2Vec(v *validation) {
	if ws := v.c.Webserver; ws != nil {
		v.checkDefaultModel(ws, "default_embedding", ws.DefaultEmbedding, WorkerTypeText2Vec)
	}
}

// checkDefaultModel: a webserver's default model must be of the type its
// argument names and served by a worker. A model of an invalid type was
// reported where it is declared.
func (v *validation) checkDefaultModel(ws *Webserver, attr string, m *Model, wantType string) {
	if m == nil {
		return
	}
	switch m.WorkerType {
	case wantType:
	case WorkerTypeLLM, WorkerTypeText2Vec, WorkerTypeReranker:
		v.add(errorf(v.rangeOf(ws, attr, ws.DeclRange), "Wrong model type",
			"%s must be %s model, but model %q is %s model.", attr, article(wantType), m.Name, article(m.WorkerType)))
		return
	default:
		return
	}
	if !v.served[m] {
		v.add(errorf(v.rangeOf(ws, attr, ws.DeclRange), "Default model not served",
			"%s is model %q, but no worker serves it. Add a worker with model = model.%s.", attr, m.Name, m.Name))
	}
}

func ruleRemoteEmbeddingHasWorker(v *validation) {
	ws := v.c.Webserver
	if ws == nil || !ws.RemoteEmbedding || ws.DefaultEmbedding != nil || v.has(ws, "default_embedding") {
		return
	}
	if !v.servesType(WorkerTypeText2Vec) {
		v.add(warnf(v.rangeOf(ws, "remote_embedding", ws.DeclRange), "No embedding worker",
			"remote_embedding is on but no worker serves a text2vec model."))
	}
}

func ruleWebserverLightWithSeveralControllers(v *validation) {
	if ws := v.c.Webserver; ws != nil && !ws.Light && len(v.c.Controllers) > 1 {
		v.add(warnf(v.rangeOf(ws, "light", ws.DeclRange), "Webserver not light",
			"With light = false the webserver runs its own model manager and ignores the cluster's controllers."))
	}
}

func ruleAPIServerHasLLM(v *validation) {
	as := v.c.APIServer
	if as == nil || v.quiet || v.servesType(WorkerTypeLLM) {
		return
	}
	rng := as.DeclRange
	v.add(warnf(&rng, "API server without an LLM", "No worker serves an llm model, so the API server has nothing to answer with."))
}

// ruleReachableAcrossMachines warns when a component listens, or its server
// is known, only on a loopback address while components on other machines
// must reach it (controllers are called by everything; workers by the
// webserver and apiserver).
func ruleReachableAcrossMachines(v *validation) {
	machines := map[string]bool{}
	for _, p := range v.components() {
		if p.server != nil {
			machines[machineKey(p.server)] = true
		}
	}
	if len(machines) < 2 {
		return
	}
	for _, p := range v.components() {
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
			v.add(warnf(&rng, "Unreachable from other servers",
				"%s runs on server %q whose address %s is loopback, but the cluster spans several machines: the components there cannot reach it.", p.address, p.server.Name, p.server.Address))
		case isLoopback(host):
			v.add(warnf(v.rangeOf(p.obj, "host", p.decl), "Unreachable from other servers",
				"%s listens on %s only, but components on other servers must reach it.", p.address, host))
		}
	}
}

// providerRange is where a model's provider is written, or the model's
// block when it is the default.
func (v *validation) providerRange(m *Model) *hcl.Range {
	return v.rangeOf(m, "provider", m.DeclRange)
}

func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// ruleProviderKnown: DB-GPT 0.6 serves only hf and the proxies it has an
// adapter for (hactl maps those); 0.7 knows its local providers and any
// proxy/NAME.
func ruleProviderKnown(v *validation) {
	for _, m := range v.c.Models {
		if m.Provider == "" || v.unknown[unknownKey{m, "provider"}] {
			continue
		}
		if v.c.Generation == GenerationFlags {
			allowed := catalog.Providers06(m.WorkerType)
			if !slices.Contains(allowed, m.Provider) {
				v.add(errorf(v.providerRange(m), "Provider not available in DB-GPT "+v.c.Version,
					"Model %q: DB-GPT %s cannot serve a %s model with provider %q (hactl knows no 0.6 adapter for it). Providers for %s models with DB-GPT 0.6: %s.%s",
					m.Name, v.c.Version, m.WorkerType, m.Provider, m.WorkerType, quotedList(allowed), didYouMeanVar(m.Provider, allowed)))
			}
			continue
		}
		if !catalog.KnownProvider07(m.Provider) {
			v.add(errorf(v.providerRange(m), "Unknown provider",
				"Model %q: DB-GPT %s has no provider %q. Providers: %s, or a proxy \"proxy/NAME\" (e.g. \"proxy/openai\").%s",
				m.Name, v.c.Version, m.Provider, quotedList(catalog.Providers07), didYouMeanVar(m.Provider, append(slices.Clone(catalog.Providers07), catalog.OpenAI))))
		}
	}
}

// ruleProxyEmbeddingName06: a DB-GPT 0.6 text2vec worker chooses its
// parameters and loader by the model name alone, so a proxy embedding
// model must be named after its 0.6 adapter.
func ruleProxyEmbeddingName06(v *validation) {
	if v.c.Generation != GenerationFlags {
		return
	}
	for _, m := range v.c.Models {
		if !m.IsProxy() || m.WorkerType != WorkerTypeText2Vec {
			continue
		}
		if adapter, ok := catalog.Adapter06(m.Provider, m.WorkerType); ok && m.Name != adapter {
			rng := m.DeclRange
			v.add(errorf(&rng, "Proxy embedding name in DB-GPT "+v.c.Version,
				"DB-GPT %s picks an embedding worker's settings by the model name alone: a %s embedding model must be named %q (model %q would be loaded as local weights named %q). Rename the block to model %q.",
				v.c.Version, m.Provider, adapter, m.Name, m.Name, adapter))
		}
	}
}

// ruleProxyAPIBase06: DB-GPT 0.6 requires a proxy's server URL; hactl
// knows proxy/openai's default only.
func ruleProxyAPIBase06(v *validation) {
	if v.c.Generation != GenerationFlags {
		return
	}
	for _, m := range v.c.Models {
		if m.IsProxy() && m.Provider != ProviderOpenAI && m.APIBase == "" && !v.unknown[unknownKey{m, "api_base"}] {
			if _, ok := catalog.Adapter06(m.Provider, m.WorkerType); !ok {
				continue
			}
			rng := m.DeclRange
			v.add(errorf(&rng, "Missing api_base",
				"Model %q: DB-GPT %s requires a proxy's server URL (--proxy_server_url) and hactl knows no default for %s. Set api_base.", m.Name, v.c.Version, m.Provider))
		}
	}
}

// ruleProxyHasKey: a proxy worker without an API key exits at start.
// DB-GPT 0.7's proxy/openai LLM falls back to OPENAI_API_KEY (its
// embedding class has no key requirement); DB-GPT 0.6's proxy classes
// require proxy_api_key, which they read from <MODEL>_PROXY_API_KEY or
// PROXY_API_KEY.
func ruleProxyHasKey(v *validation) {
	for _, m := range v.c.Models {
		if !m.IsProxy() || m.APIKey.IsSet() || v.unknown[unknownKey{m, "api_key"}] {
			continue
		}
		var names []string
		switch {
		case v.c.Generation == GenerationTOML && m.Provider == ProviderOpenAI && m.WorkerType == WorkerTypeLLM:
			names = []string{"OPENAI_API_KEY"}
		case v.c.Generation == GenerationFlags:
			if _, ok := catalog.Adapter06(m.Provider, m.WorkerType); !ok {
				continue
			}
			names = []string{catalog.EnvKey06(m.Name, catalog.Flag06APIKey), "PROXY_API_KEY"}
		default:
			continue
		}
		for _, w := range v.c.Workers {
			if w.Model != m {
				continue
			}
			env := MergedEnv(w.Server, w.Env)
			found := false
			for _, n := range names {
				found = found || env[n] != ""
			}
			if !found {
				rng := m.DeclRange
				v.add(errorf(&rng, "Proxy model without an API key",
					"Model %q (%s) has no api_key, and worker.%s's environment has no %s: DB-GPT %s exits at start without a key. Set api_key = var.NAME (a sensitive variable).",
					m.Name, m.Provider, w.Name, strings.Join(names, " or "), v.c.Version))
				break
			}
		}
	}
}

// ruleDefaultEmbeddingKnown06: the DB-GPT 0.6 webserver looks
// EMBEDDING_MODEL up in its own table at start, remote embedding or not,
// and dies with a KeyError on a name it does not know.
func ruleDefaultEmbeddingKnown06(v *validation) {
	ws := v.c.Webserver
	if v.c.Generation != GenerationFlags || ws == nil || ws.DefaultEmbedding == nil || ws.DefaultEmbedding.WorkerType != WorkerTypeText2Vec {
		return
	}
	name := ws.DefaultEmbedding.Name
	if catalog.IsEmbeddingModel06(name) {
		return
	}
	known := catalog.EmbeddingModels06()
	v.add(errorf(v.rangeOf(ws, "default_embedding", ws.DeclRange), "Embedding model unknown to DB-GPT "+v.c.Version,
		"default_embedding is model %q, but the DB-GPT %s webserver knows only these embedding model names and exits with a KeyError at start on any other: %s.%s Name the model block after one of them (a proxy/openai embedding model: \"proxy_openai\").",
		name, v.c.Version, strings.Join(known, ", "), didYouMeanVar(name, known)))
}

// ruleParamsKnown07 warns of a model param that DB-GPT 0.7's parameter
// class for the model's provider lacks: DB-GPT drops it without a word.
func ruleParamsKnown07(v *validation) {
	if v.c.Generation != GenerationTOML {
		return
	}
	for _, m := range v.c.Models {
		fields, ok := catalog.Fields07(m.Provider, m.WorkerType)
		if !ok {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(m.Params)) {
			if slices.Contains(fields, k) {
				continue
			}
			rng, ok := m.ParamRanges[k]
			if !ok {
				rng = m.DeclRange
			}
			v.add(warnf(&rng, "Parameter unknown to the provider",
				"DB-GPT %s's %s %s model takes no %q: it would drop it without a word.%s It takes: %s.",
				v.c.Version, m.Provider, m.WorkerType, k, didYouMeanVar(k, fields), strings.Join(fields, ", ")))
		}
	}
}

func ruleExtraArgsNeedsFlagsGeneration(v *validation) {
	if v.c.Generation != GenerationTOML {
		return
	}
	type holder struct {
		obj  any
		addr string
		decl hcl.Range
	}
	var hs []holder
	for _, w := range v.c.Workers {
		hs = append(hs, holder{w, "worker." + w.Name, w.DeclRange})
	}
	if ws := v.c.Webserver; ws != nil {
		hs = append(hs, holder{ws, "webserver", ws.DeclRange})
	}
	if as := v.c.APIServer; as != nil {
		hs = append(hs, holder{as, "apiserver", as.DeclRange})
	}
	for _, h := range hs {
		if v.has(h.obj, "extra_args") {
			v.add(errorf(v.rangeOf(h.obj, "extra_args", h.decl), "Setting not available in DB-GPT "+v.c.Version,
				"%s: extra_args exists only in the flags generation (DB-GPT 0.5.9 – 0.6.x): DB-GPT %s takes every setting from its TOML file and refuses unknown flags. Use the model's params instead.", h.addr, v.c.Version))
		}
	}
}

// ruleManagedDatabaseNeedsMySQL looks only at a compose block the file
// declares: the default compose settings ask for a managed database too.
func ruleManagedDatabaseNeedsMySQL(v *validation) {
	cp, r := v.c.Compose, v.c.Registry
	if cp == nil || cp.DeclRange.Filename == "" || !cp.ManagedDatabase || r == nil || r.Type == RegistryMySQL {
		return
	}
	v.add(errorf(v.rangeOf(cp, "managed_database", cp.DeclRange), "Managed database needs a mysql registry",
		"managed_database runs a MySQL service for the registry, but the registry is %q. Declare registry \"mysql\" or set managed_database = false.", r.Type))
}

// ruleMetaDatabaseNeedsMySQL: meta_database = "registry" puts the
// webserver's metadata in the registry's MySQL database, so it needs one.
func ruleMetaDatabaseNeedsMySQL(v *validation) {
	ws := v.c.Webserver
	if ws == nil || ws.MetaDatabase != MetaDatabaseRegistry {
		return
	}
	typ := RegistryEmbedded
	if r := v.c.Registry; r != nil {
		if r.Type == RegistryMySQL {
			return
		}
		typ = r.Type
	}
	v.add(errorf(v.rangeOf(ws, "meta_database", ws.DeclRange), "Meta database needs a mysql registry",
		"meta_database = %q keeps the webserver's metadata in the cluster's MySQL registry database, but the registry is %q. Declare registry \"mysql\" or use meta_database = %q.",
		MetaDatabaseRegistry, typ, MetaDatabaseSQLite))
}

func ruleServersUsed(v *validation) {
	if v.quiet {
		return
	}
	used := map[*Server]bool{}
	for _, p := range v.components() {
		used[p.server] = true
	}
	for _, s := range v.c.Servers {
		if !used[s] {
			rng := s.DeclRange
			v.add(warnf(&rng, "Server not used", "No component runs on server %q.", s.Name))
		}
	}
}

func article(typ string) string {
	if typ == WorkerTypeLLM {
		return "an llm"
	}
	return "a " + typ
}
