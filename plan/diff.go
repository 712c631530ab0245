package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/schema"
)

// Observed is one deployed component as a provider found it on its host
// (providers.Observed is this type: it lives here because providers imports
// plan).
type Observed struct {
	Address    string            `json:"address"`
	Role       string            `json:"role"`
	Server     string            `json:"server"` // server name
	Port       int               `json:"port"`
	Hash       string            `json:"hash"`
	Attributes map[string]string `json:"attributes,omitempty"` // as stored in the manifest
	Running    bool              `json:"running"`
	PID        int               `json:"-"`
	StartedAt  time.Time         `json:"-"` // zero when unknown
	Restarts   int               `json:"-"`
	// Relocate, when set, says why the component must be redeployed where
	// it is although its settings are unchanged (a provider's layout
	// changed, e.g. "in the old directory layout …").
	Relocate string `json:"-"`
	// Defect, when set, says why the running process must be restarted
	// although its settings are unchanged: a defect of DB-GPT the provider
	// found in its log since the process started (a controller whose
	// heartbeat checker thread died, see CheckerDefect). Plan shows it as a
	// replace of that component in place; it is part of the fingerprint.
	Defect string `json:"defect,omitempty"`
}

// Action is what apply does to one component.
type Action string

// Actions. Update and replace rules:
//   - create: in the file, found on no server.
//   - update (in place): found on its server, but its settings hash differs
//     (any setting, the port, the DB-GPT version or command, a secret), or it
//     is not running ("repair"). Apply redeploys it where it is: new settings,
//     process restarted.
//   - replace: found, but on another server than the file says. Apply
//     creates it on the new server first, waits for its health gate, then
//     removes the old copy, so a moving controller or worker never leaves
//     a gap. Also: found as wanted and running, but with a Defect (a
//     controller whose heartbeat checker died): the process is replaced
//     where it is (redeployed and restarted; no old copy to remove, so the
//     change's Observed is empty and OldServers names its own server).
//   - destroy: found on a server but no longer in the file (or a stray
//     second copy of a component on a server the file does not name).
//
// The values are the action names of Terraform's machine-readable UI
// (hence "delete" for Destroy); plan --json and plan files carry them.
const (
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Destroy Action = "delete"
)

// Change is one planned action on one component.
type Change struct {
	Address string `json:"address"`
	Role    string `json:"role"`
	Name    string `json:"name"`
	Action  Action `json:"action"`
	// Reason says why, e.g. "settings changed", "not running", "server changed".
	Reason string `json:"reason,omitempty"`
	// SensitiveChanged names the attributes shown "(sensitive)" on both
	// sides whose secret changed (known from their digests): a registry
	// update's root_password, say.
	SensitiveChanged []string `json:"sensitive_changed,omitempty"`
	// Note is a line shown inside the change's block, e.g. what a registry
	// create makes.
	Note  string `json:"note,omitempty"`
	Level int    `json:"level"`
	// Server is where the component will be (create, update, replace) or is
	// (destroy); OldServers the servers a replace or destroy removes it from.
	Server     string   `json:"server"`
	OldServers []string `json:"old_servers,omitempty"`
	// Before and After are the displayed attributes (secrets already
	// "(sensitive)"; values as strings, KindOf gives their type): Before is
	// nil for a create, After nil for a destroy. Before has today's names
	// even when the manifest is older (currentNames).
	Before map[string]string `json:"before,omitempty"`
	After  map[string]string `json:"after,omitempty"`
	// DesiredHash and ObservedHash let apply check it applies what was shown.
	DesiredHash  string `json:"desired_hash,omitempty"`
	ObservedHash string `json:"observed_hash,omitempty"`

	Desired *Component `json:"-"`
	order   int
	// Observed are the deployed copies this change acts on: the one updated
	// in place, or the ones a replace or destroy removes.
	Observed []Observed `json:"-"`
}

// RegistryState is the registry database as a provider observed it before
// a plan: whether the database (for SQLite: the file) and DB-GPT's registry
// table exist, and which of the table's expected columns it lacks. When the
// database could not be reached, Reachable is false and Err says why (never
// a secret).
type RegistryState struct {
	Type           string   `json:"type"`  // schema.RegistryMySQL, RegistrySQLite, RegistryEmbedded
	Where          string   `json:"where"` // e.g. "mysql root@10.0.0.9:3306/dbgpt (from server1)"
	Reachable      bool     `json:"reachable"`
	DatabaseExists bool     `json:"database_exists"`
	TableExists    bool     `json:"table_exists"`
	MissingColumns []string `json:"missing_columns,omitempty"`
	Err            string   `json:"error,omitempty"`
	// Service is the database service the provider runs itself (compose's
	// managed database), observed also when it does not run; nil for a
	// database hactl does not run.
	Service *ServiceState `json:"service,omitempty"`
}

// Complete reports whether the registry needs nothing: an embedded
// registry, or a database with a complete registry table.
func (s *RegistryState) Complete() bool {
	return s == nil || !dbgpt.HasDatabase(s.Type) || (s.Reachable && s.DatabaseExists && s.TableExists && len(s.MissingColumns) == 0)
}

// Unknown reports whether a registry database could not be checked.
func (s *RegistryState) Unknown() bool { return s != nil && dbgpt.HasDatabase(s.Type) && !s.Reachable }

// RegistryAddress is the plan address of the registry (database and table).
const RegistryAddress = "registry"

// LevelRegistry is the registry's dependency level: before the controllers.
const LevelRegistry = 0

// CheckRegistry fails when the registry table exists but is not DB-GPT's:
// it lacks expected columns. hactl never alters a table it did not create
// the way DB-GPT expects, so plan and apply stop there with what to do.
func CheckRegistry(s *RegistryState) error {
	if s == nil || !s.Reachable || !s.TableExists || len(s.MissingColumns) == 0 {
		return nil
	}
	return fmt.Errorf("registry %s: table %s exists but lacks the columns %s; it is not DB-GPT's registry table and hactl will not alter it (rename or drop that table, or point the registry block at another database)",
		s.Where, dbgpt.RegistryTable, strings.Join(s.MissingColumns, ", "))
}

// Plan is the ordered set of changes that bring the cluster to the file.
type Plan struct {
	Changes []*Change `json:"changes"`
	// Registry is the registry database as observed; nil when not observed
	// (a destroy plan). When it lacks the database or the table, Changes
	// starts with a create of address "registry" (counted like a component).
	Registry *RegistryState `json:"registry,omitempty"`
	// Desired is every wanted component (changed or not), for apply's gates.
	Desired []*Component `json:"-"`
	// Observed is what the providers found, as the diff saw it.
	Observed []Observed `json:"-"`
	// Unchanged are the wanted components found deployed as wanted and
	// running; a health check may still turn one into a repair (Repair).
	Unchanged []*Change `json:"-"`
	// Starting are the unchanged components whose process runs but does not
	// serve yet, within its start timeout (MarkStarting): no change, apply
	// waits for them in its gates.
	Starting []Starting `json:"-"`

	c *schema.Cluster
}

// Repair turns an unchanged component into an update ("repair") with the
// given reason, e.g. when it runs but does not pass its health check.
func (p *Plan) Repair(address, reason string) bool {
	for i, ch := range p.Unchanged {
		if ch.Address != address {
			continue
		}
		p.Unchanged = append(p.Unchanged[:i:i], p.Unchanged[i+1:]...)
		ch.Action = Update
		ch.Reason = reason
		p.Changes = append(p.Changes, ch)
		sort.SliceStable(p.Changes, func(a, b int) bool { return p.Changes[a].order < p.Changes[b].order })
		return true
	}
	return false
}

// Starting is an unchanged component whose process runs and started less
// than its start timeout ago, but does not serve yet: a model still
// loading. It is not a change: apply waits for it, it restarts nothing.
type Starting struct {
	Address string
	Server  string
	// StartedAt is the process's start (the host's clock); Age is how long
	// before the plan that was.
	StartedAt time.Time
	Age       time.Duration
	// Timeout is the component's start timeout: past it, a process that
	// does not serve is unhealthy and repaired.
	Timeout time.Duration
	// Reason is why it does not serve yet (its failed health check).
	Reason string
}

// Note is the plan's line about it, e.g. "worker.llm is still starting
// (1m20s of 30m)".
func (s Starting) Note() string {
	return fmt.Sprintf("%s is still starting (%s of %s)", s.Address, ShortDuration(s.Age), ShortDuration(s.Timeout))
}

// ShortDuration is d in whole seconds without zero units: "1m20s", "30m",
// "2h", "0s".
func ShortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d <= 0 {
		return "0s"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarkStarting records an unchanged component as starting; it stays
// unchanged. It reports false when address is not unchanged.
func (p *Plan) MarkStarting(s Starting) bool {
	for _, ch := range p.Unchanged {
		if ch.Address == s.Address {
			p.Starting = append(p.Starting, s)
			return true
		}
	}
	return false
}

// Waits reports whether apply has something to wait for even when the plan
// changes nothing: a component still starting.
func (p *Plan) Waits() bool { return len(p.Starting) > 0 }

// Summary counts changes like Terraform: a replace is one add and one destroy.
type Summary struct {
	Add     int `json:"add"`
	Change  int `json:"change"`
	Destroy int `json:"remove"`
}

// Summary counts the plan's changes.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, ch := range p.Changes {
		switch ch.Action {
		case Create:
			s.Add++
		case Update:
			s.Change++
		case Replace:
			s.Add++
			s.Destroy++
		case Destroy:
			s.Destroy++
		}
	}
	return s
}

// Empty reports whether applying the plan would change nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Diff compares what the file wants with what is deployed, and the
// registry database with what DB-GPT needs: a registry whose database (or
// SQLite file) or table is absent is created first (address "registry",
// level 0); a database service the provider runs whose container has
// other settings than the file's (RegistryState.Service) is updated first
// (same address and level); one that could not be checked (reg.Unknown) is not part of the
// changes, apply prepares it anyway before it starts any controller. reg nil:
// the registry is not considered (destroy).
func Diff(c *schema.Cluster, desired []*Component, observed []Observed, reg *RegistryState) *Plan {
	p := &Plan{Desired: desired, Observed: observed, Registry: reg, c: c}
	create := registryCreate(c, reg)
	if create != nil {
		p.Changes = append(p.Changes, create)
	}
	if ch := registryUpdate(reg, create); ch != nil {
		p.Changes = append(p.Changes, ch)
	}
	byAddr := map[string][]Observed{}
	for _, o := range observed {
		byAddr[o.Address] = append(byAddr[o.Address], o)
	}
	wanted := map[string]bool{}
	var strays []*Change
	for i, d := range desired {
		wanted[d.Address] = true
		obs := byAddr[d.Address]
		var here *Observed
		var elsewhere []Observed
		for i := range obs {
			if obs[i].Server == d.Server.Name && here == nil {
				here = &obs[i]
			} else {
				elsewhere = append(elsewhere, obs[i])
			}
		}
		ch := &Change{
			Address: d.Address, Role: d.Role, Name: d.Name, Level: d.Level,
			Server: d.Server.Name, After: d.Attributes, DesiredHash: d.Hash, Desired: d, order: i,
		}
		switch {
		case here == nil && len(elsewhere) == 0:
			ch.Action = Create
			ch.Before = nil
		case here == nil:
			ch.Action = Replace
			ch.Reason = "server changed"
			ch.Before = currentNames(elsewhere[0].Attributes)
			ch.ObservedHash = elsewhere[0].Hash
			ch.Observed = elsewhere
			for _, o := range elsewhere {
				ch.OldServers = append(ch.OldServers, o.Server)
			}
		default:
			for _, o := range elsewhere {
				strays = append(strays, &Change{
					Address: o.Address, Role: o.Role, Name: d.Name, Level: d.Level, Action: Destroy,
					Reason: "second copy on a server the file does not name", Server: o.Server,
					OldServers: []string{o.Server}, Before: currentNames(o.Attributes), ObservedHash: o.Hash, Observed: []Observed{o},
				})
			}
			ch.Before = currentNames(here.Attributes)
			ch.ObservedHash = here.Hash
			ch.Observed = []Observed{*here}
			switch {
			case here.Hash != d.Hash:
				ch.Action = Update
				ch.Reason = "settings changed"
			case !here.Running:
				ch.Action = Update
				ch.Reason = "not running"
			case here.Relocate != "":
				ch.Action = Update
				ch.Reason = here.Relocate
			case here.Defect != "":
				// A new process where the old one runs: apply deploys
				// (restarts) it and waits for its gate; Observed stays
				// empty, as apply removes the Observed of a replace.
				ch.Action = Replace
				ch.Reason = here.Defect
				ch.Observed = nil
				ch.OldServers = []string{here.Server}
			default:
				p.Unchanged = append(p.Unchanged, ch)
				continue
			}
		}
		p.Changes = append(p.Changes, ch)
	}
	for i, ch := range strays {
		ch.order = len(desired) + i
	}
	p.Changes = append(p.Changes, strays...)

	// Components no longer in the file: destroyed in reverse dependency order.
	var gone []*Change
	addrs := make([]string, 0, len(byAddr))
	for a := range byAddr {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		if wanted[a] {
			continue
		}
		for _, o := range byAddr[a] {
			gone = append(gone, &Change{
				Address: o.Address, Role: o.Role, Name: nameOf(o.Address), Level: levelOf(o.Role),
				Action: Destroy, Reason: "no longer in the cluster file", Server: o.Server,
				OldServers: []string{o.Server}, Before: currentNames(o.Attributes), ObservedHash: o.Hash, Observed: []Observed{o},
			})
		}
	}
	sort.SliceStable(gone, func(i, j int) bool { return gone[i].Level > gone[j].Level })
	for i, ch := range gone {
		ch.order = len(desired) + len(strays) + i
	}
	p.Changes = append(p.Changes, gone...)
	return p
}

// registryCreate is the create of a registry whose database, file or
// table is absent; nil when there is nothing to create or it is unknown.
func registryCreate(c *schema.Cluster, s *RegistryState) *Change {
	if c == nil || c.Registry == nil || s == nil || !dbgpt.HasDatabase(c.Registry.Type) || !s.Reachable ||
		(s.DatabaseExists && s.TableExists) {
		return nil
	}
	r := c.Registry
	attrs := map[string]string{"type": r.Type}
	ch := &Change{Address: RegistryAddress, Role: "registry", Name: r.Type, Action: Create, Level: LevelRegistry, After: attrs, order: -1}
	switch r.Type {
	case schema.RegistryMySQL:
		port := r.Port
		if port == 0 {
			port = 3306
		}
		attrs["host"] = r.Host
		attrs["port"] = strconv.Itoa(port)
		attrs["database"] = r.Database
		attrs["user"] = r.User
		if r.Password.IsSet() {
			attrs["password"] = Sensitive
		}
		if !s.DatabaseExists {
			ch.Reason = "database " + r.Database + " absent"
			ch.Note = fmt.Sprintf("database %s and table %s will be created", r.Database, dbgpt.RegistryTable)
		} else {
			ch.Reason = "table absent"
			ch.Note = fmt.Sprintf("table %s will be created in database %s", dbgpt.RegistryTable, r.Database)
		}
	case schema.RegistrySQLite:
		attrs["path"] = r.Path
		for _, ctl := range c.Controllers {
			if ctl.Server != nil {
				ch.Server = ctl.Server.Name
				attrs["server"] = ctl.Server.Name
				break
			}
		}
		if !s.DatabaseExists {
			ch.Reason = "file absent"
			ch.Note = fmt.Sprintf("file %s and table %s will be created", r.Path, dbgpt.RegistryTable)
		} else {
			ch.Reason = "table absent"
			ch.Note = fmt.Sprintf("table %s will be created in %s", dbgpt.RegistryTable, r.Path)
		}
	}
	return ch
}

func nameOf(address string) string {
	if i := strings.IndexByte(address, '.'); i >= 0 {
		return address[i+1:]
	}
	return address
}

func levelOf(role string) int {
	switch role {
	case schema.RoleController:
		return LevelController
	case schema.RoleWorker:
		return LevelWorker
	}
	return LevelFrontend
}

// Fingerprint digests the observed state the plan was made from: which
// component runs where, with which settings hash, and whether it runs; and
// what the registry database holds. Process ids are left out: a supervisor
// restart is not a change of plan; so are the registry's Where and Err (the
// controller host it was reached from, an error's wording).
func Fingerprint(observed []Observed, reg *RegistryState) string {
	lines := make([]string, 0, len(observed)+1)
	for _, o := range observed {
		lines = append(lines, observedLine(o))
	}
	sort.Strings(lines)
	if reg != nil {
		lines = append(lines, registryLine(reg))
	}
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func observedLine(o Observed) string {
	fields := []string{o.Address, o.Server, o.Role, strconv.Itoa(o.Port), o.Hash, strconv.FormatBool(o.Running)}
	if o.Defect != "" {
		// Only when set, so the fingerprints of plan files made before
		// defects were observed stay valid.
		fields = append(fields, "defect:"+o.Defect)
	}
	return strings.Join(fields, "|")
}

// CheckerDefect is Observed.Defect of a controller whose heartbeat checker
// thread died with the given error (the exception's first line): DB-GPT's
// checker never restarts, so its stale rows stay healthy until the
// controller's process is restarted.
func CheckerDefect(errLine string) string {
	if errLine == "" {
		errLine = "an exception"
	}
	return "its heartbeat checker thread died (" + errLine + "): stale rows are never marked unhealthy until it restarts"
}

func registryLine(s *RegistryState) string {
	if s == nil {
		return ""
	}
	fields := []string{"registry", s.Type, strconv.FormatBool(s.Reachable), strconv.FormatBool(s.DatabaseExists),
		strconv.FormatBool(s.TableExists), strings.Join(s.MissingColumns, ",")}
	if s.Service != nil {
		// The service's container as found (its settings hash; "-" for
		// none): recreated since the plan means another plan.
		have := "-"
		if s.Service.Have != nil {
			have = "have:" + s.Service.Have.Hash
		}
		fields = append(fields, "service:"+s.Service.Name, have)
	}
	return strings.Join(fields, "|")
}
