package ssh

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/registry"
	"github.com/hactl/hactl/schema"
)

// Preflight checks, changing nothing, that every wanted component can be
// deployed; see providers.Provider. All servers are checked in parallel and
// every problem is returned.
func (p *Provider) Preflight(ctx context.Context, c *schema.Cluster, want []*plan.Component) []providers.Problem {
	if c == nil {
		c = p.cluster
	}
	byServer := map[string][]*plan.Component{}
	for _, w := range want {
		if w.Server != nil {
			byServer[w.Server.Name] = append(byServer[w.Server.Name], w)
		}
	}
	var mu sync.Mutex
	var problems []providers.Problem
	add := func(ps ...providers.Problem) {
		mu.Lock()
		problems = append(problems, ps...)
		mu.Unlock()
	}
	_ = p.eachServer(ctx, c.Servers, func(ctx context.Context, s *schema.Server) error {
		if err := p.host(s).Connect(ctx); err != nil {
			add(providers.Problem{Server: s.Name, What: "not reachable: " + err.Error(), Fix: reachFix(s)})
			return nil
		}
		if s.SSH.Sudo {
			// Every command there would fail the same way: one problem.
			if _, err := p.host(s).Run(ctx, "true", nil); err != nil {
				if se, ok := host.IsSudo(err); ok {
					add(providers.Problem{Server: s.Name, What: se.What(), Fix: se.Fix()})
					return nil
				}
			}
		}
		// The registry check from a controller's server (connections through
		// the server, a MySQL login) runs beside the server's script.
		var wg sync.WaitGroup
		if c.Registry != nil && c.Registry.Type == schema.RegistryMySQL {
			for _, ctl := range c.Controllers {
				if ctl.Server != nil && ctl.Server.Name == s.Name {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if pr := registry.Check(ctx, c.Registry, p.host(s), s.Address); pr != nil {
							add(providers.Problem{Server: s.Name, What: pr.What, Fix: pr.Fix})
						}
					}()
					break
				}
			}
		}
		add(p.preflightServer(ctx, c, s, byServer[s.Name], want)...)
		wg.Wait()
		return nil
	})
	sort.SliceStable(problems, func(i, j int) bool {
		if problems[i].Server != problems[j].Server {
			return problems[i].Server < problems[j].Server
		}
		return problems[i].Component < problems[j].Component
	})
	return problems
}

// sudoErrors runs a no-op through sudo on every server with sudo = true,
// in parallel, and returns the sudo refusals (see host.SudoError), one
// per server, in server order; nil when there are none.
func (p *Provider) sudoErrors(ctx context.Context, servers []*schema.Server) error {
	var sudoers []*schema.Server
	for _, s := range servers {
		if s.SSH.Sudo {
			sudoers = append(sudoers, s)
		}
	}
	errs := p.eachServer(ctx, sudoers, func(ctx context.Context, s *schema.Server) error {
		_, err := p.host(s).Run(ctx, "true", nil)
		if _, ok := host.IsSudo(err); ok {
			return err
		}
		return nil
	})
	return joinServerErrors(errs)
}

func reachFix(s *schema.Server) string {
	if s.Transport == schema.TransportLocal {
		return "check that sh works on this machine"
	}
	return fmt.Sprintf("check the ssh settings of server %q (address %s, port %d, user, key)", s.Name, s.Address, portOr22(s.SSH.Port))
}

func portOr22(p int) int {
	if p == 0 {
		return 22
	}
	return p
}

// preflightScript gathers, in one command, everything the checks of one
// server need. Output lines are tagged; see parsePreflight.
func preflightScript(c *schema.Cluster, s *schema.Server, comps []*plan.Component, modelPaths []string) string {
	var b strings.Builder
	b.WriteString(shAlive)
	b.WriteString(`writable() {
	_d=$1
	while [ ! -e "$_d" ]; do _d=$(dirname "$_d"); done
	if [ -d "$_d" ] && [ -w "$_d" ]; then echo "ok $_d"; else echo "no $_d"; fi
}
`)
	// run_as: the user must exist, and the checks of what it will use run
	// as it ($ru empty: no other user).
	ru := switchUser(s)
	fmt.Fprintf(&b, "ru=%s\n", host.Quote(ru))
	b.WriteString(shAsUser)
	b.WriteString(`as_ru() { if [ -n "$ru" ]; then as_user "$ru" "$@" 2>/dev/null; else "$@"; fi; }
if [ -n "$ru" ]; then
	if ! id -u "$ru" >/dev/null 2>&1; then
		echo "@@runas absent"
		ru=
	elif ! command -v setpriv >/dev/null 2>&1 && ! command -v runuser >/dev/null 2>&1; then
		echo "@@runas noswitch"
		ru=
	else
		echo "@@runas ok"
	fi
fi
`)
	if len(comps) > 0 {
		argv := dbgptArgv(s)
		fmt.Fprintf(&b, `cmd=%s
hactl_dbgpt() { %s "$@"; }
if ! command -v "$cmd" >/dev/null 2>&1; then
	echo "@@nocmd"
else
	if [ -n "$ru" ]; then
		if as_ru test -x "$(command -v "$cmd")"; then
			hactl_dbgpt() { as_user "$ru" %[2]s "$@"; }
		else
			echo "@@runascmd no"
		fi
	fi
	v=$(hactl_dbgpt --version 2>&1 </dev/null)
	echo "@@versionrc $?"
	_i=0
	printf '%%s\n' "$v" | while IFS= read -r _v && [ $_i -lt 5 ]; do echo "@@version $_v"; _i=$((_i+1)); done
	# Each dbgpt run costs seconds of Python imports: ask for the help text
	# only when --version did not tell.
	case $v in
	*"version "[0-9]*) ;;
	*)
		h=$(hactl_dbgpt start controller --help 2>&1 </dev/null)
		printf '%%s\n' "$h" | grep -e '--registry_type' -e '--config' | head -n 5 | sed 's/^/@@help /'
		;;
	esac
fi
`, host.Quote(argv[0]), host.Join(argv...))
	}
	b.WriteString(shSystemdProbe + "\n")
	fmt.Fprintf(&b, "echo \"@@deploydir $(writable %s)\"\n", host.Quote(s.DeployDir))
	// The user must reach its component directories under deploy_dir.
	fmt.Fprintf(&b, "if [ -n \"$ru\" ] && [ -d %[1]s ] && ! as_ru test -x %[1]s; then echo '@@runasdeploydir no'; fi\n", host.Quote(s.DeployDir))
	for i, mp := range modelPaths {
		fmt.Fprintf(&b, `if [ -e %[1]s ]; then
	echo '@@model %[2]d 1'
	if [ -n "$ru" ] && ! as_ru sh -c '[ -r "$1" ] && { [ ! -d "$1" ] || [ -x "$1" ]; }' _ %[1]s; then echo '@@modelunreadable %[2]d'; fi
else
	echo '@@model %[2]d 0'
fi
`, host.Quote(mp), i)
	}
	if r := c.Registry; r != nil && r.Type == schema.RegistrySQLite && len(c.Controllers) > 0 && c.Controllers[0].Server != nil && c.Controllers[0].Server.Name == s.Name {
		fmt.Fprintf(&b, "echo \"@@sqlitedir $(writable %s)\"\n", host.Quote(path.Dir(r.Path)))
		fmt.Fprintf(&b, "if [ -e %[1]s ]; then if [ -w %[1]s ]; then echo '@@sqlitefile ok'; else echo '@@sqlitefile readonly'; fi; else echo '@@sqlitefile absent'; fi\n", host.Quote(r.Path))
		// SQLite writes its journal next to the file: the controllers'
		// user needs the directory writable (hactl gives it one it creates).
		fmt.Fprintf(&b, `if [ -n "$ru" ]; then
	if [ -d %[1]s ] && ! as_ru sh -c '[ -w "$1" ] && [ -x "$1" ]' _ %[1]s; then echo '@@runassqlite dir'; fi
	if [ -e %[2]s ] && ! as_ru test -w %[2]s; then echo '@@runassqlite file'; fi
fi
`, host.Quote(path.Dir(r.Path)), host.Quote(r.Path))
	}
	b.WriteString(`sed 's/^/@@tcp /' /proc/net/tcp /proc/net/tcp6 2>/dev/null
`)
	// Socket inodes of every process hactl supervises here: those in the
	// session of a component's supervisor (or of its process, for systemd),
	// the processes its pid files name, and every process started for its
	// directory (envMarker): a process whose supervisor was killed is
	// still the component's.
	// Every component directory is reported with its manifest (of this or
	// another cluster, in either layout), so that a port held by another
	// cluster's component is named as such.
	// Their fds are listed by one ls for all (as each directory's owner
	// too where root may not read another user's /proc entries): a
	// handful of processes whatever the number of components.
	b.WriteString(shAsUser + shAsOwner)
	fmt.Fprintf(&b, `d=%s
sids=
socks=
# Root without CAP_SYS_PTRACE (in a container) may not read the /proc
# entries of the run_as users' processes: those users read them too.
owners=
if [ -n "$hactl_noptrace" ]; then
	for o in $(stat -c %%U "$d"/* "$d"/*/* 2>/dev/null | sort -u); do
		case $o in root|UNKNOWN) ;; *) owners="$owners $o";; esac
	done
fi
for c in "$d"/*/*/manifest.json "$d"/*/manifest.json; do
	[ -f "$c" ] || continue
	c=${c%%/manifest.json}
	rel=${c#"$d"/}
	case $rel in *[!A-Za-z0-9._/-]*) continue;; esac
	printf '@@pm %%s ' "$rel"
	while IFS= read -r l || [ -n "$l" ]; do printf '%%s' "$l"; done < "$c/manifest.json"
	echo
	for f in supervisor.pid child.pid; do
		x=
		[ -r "$c/$f" ] && read -r x < "$c/$f"
		alive "$x" && sids="$sids $x:$rel"
	done
done
# The processes started for a component directory (envMarker), also
# those whose supervisor was killed: one grep over every environment.
if grep -zq x </dev/null 2>/dev/null || [ $? = 1 ]; then
	markers='grep -zoxH "`+envMarker+`=.*" /proc/[0-9]*/environ 2>/dev/null | tr "\\0" "\\n"'
	m=$(eval "$markers"; for o in $owners; do as_user "$o" sh -c "$markers" </dev/null; done)
	for l in $m; do
		x=${l#/proc/}
		x=${x%%%%/*}
		dir=${l#*:`+envMarker+`=}
		case $dir in "$d"/*) socks="$socks $x:${dir#"$d"/}";; esac
	done
fi
if [ -n "$sids" ]; then
	for p in /proc/[0-9]*; do
		read -r l < "$p/stat" 2>/dev/null || continue
		l=${l##*") "}
		set -- $l
		sid=$4
		for e in $sids; do
			if [ "${e%%%%:*}" = "$sid" ] || [ "${e%%%%:*}" = "${p#/proc/}" ]; then
				socks="$socks ${p#/proc/}:${e#*:}"
			fi
		done
	done
fi
if [ -n "$socks" ]; then
	set --
	for e in $socks; do
		echo "@@sockpid ${e%%%%:*} ${e#*:}"
		set -- "$@" "/proc/${e%%%%:*}/fd"
	done
	{
		ls -l "$@" 2>/dev/null
		for o in $owners; do as_user "$o" ls -l "$@" 2>/dev/null </dev/null; done
	} | grep -e '^/proc/' -e 'socket:' | sed 's/^/@@fd /'
fi
`, host.Quote(s.DeployDir))
	// A wanted component's directory must be absent, empty or this
	// cluster's: hactl never clears files it did not write.
	b.WriteString(shOwned(c.Name))
	for _, comp := range comps {
		if dir, err := componentDir(s, c.Name, comp.Address); err == nil {
			fmt.Fprintf(&b, "if owned %s; then echo '@@dir %s ok'; else echo '@@dir %s foreign'; fi\n", host.Quote(dir), comp.Address, comp.Address)
		}
	}
	return b.String()
}

// preflightFacts is what the preflight script found on one server.
type preflightFacts struct {
	noCmd       bool
	versionRC   int
	version     []string
	help        []string
	deployDir   string // "ok DIR" or "no DIR"
	supervisor  string // "systemd" or "process" (shSystemdProbe)
	models      map[int]bool
	sqliteDir   string
	sqliteFile  string
	listeners   []listener
	socketDir   map[string]string   // inode → component directory, relative to deploy_dir
	manifests   map[string]Manifest // component directory (relative) → its manifest
	foreignDirs map[string]bool     // wanted address → its directory holds files not of this cluster
	runAs       string              // "ok", "absent" (no such user), "noswitch" (no setpriv/runuser); "" without run_as
	runAsCmd    bool                // the run_as user cannot execute the dbgpt command
	runAsDeploy bool                // the run_as user cannot enter deploy_dir
	unreadable  map[int]bool        // model path i exists but the run_as user cannot read it
	runAsSQLite map[string]bool     // "dir" / "file": the run_as user cannot write the SQLite registry's directory / file
	// Filled by owners: inode → this cluster's component address, or a
	// description of another cluster's component.
	socketOwner   map[string]string
	foreignSocket map[string]string
}

// owners resolves which component each socket belongs to: this cluster's
// (its manifest is the cluster's, in the directory hactl puts it: either
// layout), or another cluster's.
func (f *preflightFacts) owners(cluster, deployDir string) {
	f.socketOwner, f.foreignSocket = map[string]string{}, map[string]string{}
	for inode, rel := range f.socketDir {
		m, ok := f.manifests[rel]
		switch {
		case ok && m.Cluster == cluster && (rel == cluster+"/"+m.Address || rel == m.Address):
			f.socketOwner[inode] = m.Address
		case ok:
			f.foreignSocket[inode] = fmt.Sprintf("hactl's %s of cluster %q (in %s)", m.Address, m.Cluster, path.Join(deployDir, rel))
		default:
			f.foreignSocket[inode] = "a process of " + path.Join(deployDir, rel)
		}
	}
}

func parsePreflight(out []byte) preflightFacts {
	f := preflightFacts{models: map[int]bool{}, socketDir: map[string]string{}, manifests: map[string]Manifest{}, foreignDirs: map[string]bool{},
		unreadable: map[int]bool{}, runAsSQLite: map[string]bool{}}
	var tcp strings.Builder
	sockPID := map[string]string{}    // pid → component directory (relative)
	fdInodes := map[string][]string{} // pid → its socket inodes
	fdPID := ""
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		tag, rest, _ := strings.Cut(sc.Text(), " ")
		switch tag {
		case "@@nocmd":
			f.noCmd = true
		case "@@versionrc":
			f.versionRC, _ = strconv.Atoi(rest)
		case "@@version":
			f.version = append(f.version, rest)
		case "@@help":
			f.help = append(f.help, rest)
		case "@@deploydir":
			f.deployDir = rest
		case "@@supervisor":
			f.supervisor = rest
		case "@@model":
			x := strings.Fields(rest)
			if len(x) == 2 {
				i, _ := strconv.Atoi(x[0])
				f.models[i] = x[1] == "1"
			}
		case "@@runas":
			f.runAs = rest
		case "@@runascmd":
			f.runAsCmd = true
		case "@@runasdeploydir":
			f.runAsDeploy = true
		case "@@modelunreadable":
			if i, err := strconv.Atoi(rest); err == nil {
				f.unreadable[i] = true
			}
		case "@@runassqlite":
			f.runAsSQLite[rest] = true
		case "@@sqlitedir":
			f.sqliteDir = rest
		case "@@sqlitefile":
			f.sqliteFile = rest
		case "@@tcp":
			tcp.WriteString(rest + "\n")
		case "@@sockpid":
			if pid, rel, ok := strings.Cut(rest, " "); ok {
				sockPID[pid] = rel
			}
		case "@@fd":
			// "ls -l /proc/P/fd ..." output: a "/proc/P/fd:" heading before
			// each process's fds (as each owner: the heading leads the line).
			if h, line, ok := strings.Cut(rest, ": "); ok && strings.HasPrefix(h, "/proc/") {
				fdPID, rest = strings.TrimSuffix(strings.TrimPrefix(h, "/proc/"), "/fd"), line
			} else if strings.HasPrefix(rest, "/proc/") && strings.HasSuffix(rest, "/fd:") {
				fdPID = strings.TrimSuffix(strings.TrimPrefix(rest, "/proc/"), "/fd:")
				continue
			}
			if inode, ok := parseSocketInodes(rest); ok && fdPID != "" {
				fdInodes[fdPID] = append(fdInodes[fdPID], inode)
			}
		case "@@pm":
			rel, js, _ := strings.Cut(rest, " ")
			var m Manifest
			if json.Unmarshal([]byte(js), &m) == nil {
				f.manifests[rel] = m
			}
		case "@@dir":
			if addr, state, ok := strings.Cut(rest, " "); ok && state == "foreign" {
				f.foreignDirs[addr] = true
			}
		}
	}
	f.listeners = parseProcNetTCP(tcp.String())
	for pid, inodes := range fdInodes {
		if rel, ok := sockPID[pid]; ok {
			for _, inode := range inodes {
				f.socketDir[inode] = rel
			}
		}
	}
	return f
}

var (
	versionRe    = regexp.MustCompile(`(?i)version\s+v?(\d+)\.(\d+)(?:\.(\d+))?`)
	versionNumRe = regexp.MustCompile(`^\d+\.\d+(\.\d+)?$`)
)

// detectGeneration tells the DB-GPT generation from `dbgpt --version`, or
// from the shape of `dbgpt start controller --help`.
func detectGeneration(versionRC int, version, help []string) (gen schema.Generation, shown string) {
	if versionRC == 0 {
		for _, l := range version {
			if m := versionRe.FindStringSubmatch(l); m != nil {
				maj, _ := strconv.Atoi(m[1])
				min, _ := strconv.Atoi(m[2])
				shown = m[1] + "." + m[2]
				if m[3] != "" {
					shown += "." + m[3]
				}
				if maj == 0 && min < 7 {
					return schema.GenerationFlags, shown
				}
				return schema.GenerationTOML, shown
			}
		}
	}
	for _, l := range help {
		if strings.Contains(l, "--registry_type") {
			return schema.GenerationFlags, "flags generation (start controller --help lists --registry_type)"
		}
	}
	for _, l := range help {
		if strings.Contains(l, "--config") {
			return schema.GenerationTOML, "TOML generation (start controller --help lists -c, --config)"
		}
	}
	return "", ""
}

func (p *Provider) preflightServer(ctx context.Context, c *schema.Cluster, s *schema.Server, comps []*plan.Component, want []*plan.Component) []providers.Problem {
	var modelPaths []string
	var modelOwners []*plan.Component
	for _, comp := range comps {
		if comp.Role != schema.RoleWorker {
			continue
		}
		for _, w := range c.Workers {
			if w.Server != nil && w.Server.Name == s.Name && w.Model != nil && w.Model.Path != "" && comp.Name == w.Name {
				modelPaths = append(modelPaths, w.Model.Path)
				modelOwners = append(modelOwners, comp)
			}
		}
	}
	out, err := p.host(s).Run(ctx, preflightScript(c, s, comps, modelPaths), nil)
	if se, ok := host.IsSudo(err); ok {
		return []providers.Problem{{Server: s.Name, What: se.What(), Fix: se.Fix()}}
	}
	if err != nil {
		return []providers.Problem{{Server: s.Name, What: "pre-flight checks failed to run: " + err.Error(), Fix: "check that the ssh user can run sh (and sudo -n when sudo is set)"}}
	}
	f := parsePreflight(out)
	f.owners(c.Name, s.DeployDir)
	if f.supervisor != "" {
		// Deploy asks no more (usesSystemd).
		p.mu.Lock()
		p.systemd[s.Name] = f.supervisor == "systemd"
		p.mu.Unlock()
	}
	var ps []providers.Problem
	cmd := strings.Join(dbgptArgv(s), " ")
	ru := switchUser(s)
	switch f.runAs {
	case "absent":
		ps = append(ps, providers.Problem{Server: s.Name, What: fmt.Sprintf("run_as user %q does not exist", ru),
			Fix: "create it, e.g. useradd --system --no-create-home " + ru})
	case "noswitch":
		ps = append(ps, providers.Problem{Server: s.Name, What: fmt.Sprintf("neither setpriv nor runuser is installed, so hactl cannot run processes as run_as user %q", ru),
			Fix: "install util-linux there"})
	}
	if f.runAsCmd {
		ps = append(ps, providers.Problem{Server: s.Name, What: fmt.Sprintf("run_as user %q cannot execute the dbgpt command %q", ru, cmd),
			Fix: "make it (and the directories on its way) readable and executable for " + ru + ", or install DB-GPT where " + ru + " can run it"})
	}
	if f.runAsDeploy {
		ps = append(ps, providers.Problem{Server: s.Name, What: fmt.Sprintf("run_as user %q cannot enter deploy directory %s", ru, s.DeployDir),
			Fix: "chmod o+x (or a+rx) it and its parents, or choose another deploy_dir"})
	}
	for i, comp := range modelOwners {
		if f.unreadable[i] {
			ps = append(ps, providers.Problem{Server: s.Name, Component: comp.Address, What: fmt.Sprintf("run_as user %q cannot read model path %s", ru, modelPaths[i]),
				Fix: "make the model readable for " + ru + " (e.g. chmod -R a+rX " + modelPaths[i] + ")"})
		}
	}
	if f.runAsSQLite["dir"] {
		ps = append(ps, providers.Problem{Server: s.Name, What: fmt.Sprintf("run_as user %q cannot write the SQLite registry's directory %s (SQLite writes its journal there)", ru, path.Dir(c.Registry.Path)),
			Fix: "chown it to " + ru + ", or put the registry in a directory " + ru + " may write (or one hactl creates)"})
	}
	if f.runAsSQLite["file"] {
		ps = append(ps, providers.Problem{Server: s.Name, What: fmt.Sprintf("run_as user %q cannot write the SQLite registry %s", ru, c.Registry.Path),
			Fix: "chown it to " + ru})
	}
	if len(comps) > 0 {
		switch gen, shown := detectGeneration(f.versionRC, f.version, f.help); {
		case f.noCmd:
			ps = append(ps, providers.Problem{Server: s.Name, What: fmt.Sprintf("the dbgpt command %q is not found", cmd),
				Fix: "install DB-GPT " + c.Version + " there or set dbgpt_command of the server to its path"})
		case gen == "":
			ps = append(ps, providers.Problem{Server: s.Name, What: fmt.Sprintf("cannot tell the DB-GPT version of %q (neither `--version` nor `start controller --help` says)", cmd),
				Fix: "check that " + cmd + " is DB-GPT's dbgpt command"})
		case gen != c.Generation:
			ps = append(ps, providers.Problem{Server: s.Name, What: fmt.Sprintf("%s is DB-GPT %s, of the %s generation, but the cluster file declares version %s (generation %s)", cmd, shown, gen, c.Version, c.Generation),
				Fix: "install DB-GPT " + c.Version + " there or change the cluster's version"})
		case gen == schema.GenerationFlags:
			ver := ""
			if versionNumRe.MatchString(shown) {
				ver = shown
			}
			ps = append(ps, p.paramProblems(ctx, c, s, comps, ver)...)
		}
	}
	if ok, dir, _ := strings.Cut(f.deployDir, " "); ok != "ok" {
		ps = append(ps, providers.Problem{Server: s.Name, What: fmt.Sprintf("deploy directory %s cannot be created (%s is not a writable directory)", s.DeployDir, dir),
			Fix: "create it writable for the ssh user, set sudo = true, or choose another deploy_dir"})
	}
	for i, comp := range modelOwners {
		if !f.models[i] {
			ps = append(ps, providers.Problem{Server: s.Name, Component: comp.Address, What: fmt.Sprintf("model path %s does not exist", modelPaths[i]),
				Fix: "download the model there or correct the model's path"})
		}
	}
	if f.sqliteDir != "" {
		if ok, dir, _ := strings.Cut(f.sqliteDir, " "); ok != "ok" && f.sqliteFile == "absent" {
			ps = append(ps, providers.Problem{Server: s.Name, What: fmt.Sprintf("SQLite registry %s cannot be created (%s is not a writable directory)", c.Registry.Path, dir),
				Fix: "create the directory writable for the ssh user or change the registry path"})
		}
		if f.sqliteFile == "readonly" {
			ps = append(ps, providers.Problem{Server: s.Name, What: fmt.Sprintf("SQLite registry %s is not writable", c.Registry.Path),
				Fix: "make it writable for the user the controllers run as"})
		}
	}
	for _, comp := range comps {
		if f.foreignDirs[comp.Address] {
			dir, _ := componentDir(s, c.Name, comp.Address)
			ps = append(ps, providers.Problem{Server: s.Name, Component: comp.Address,
				What: fmt.Sprintf("directory %s holds files hactl did not write for cluster %q (no manifest of this cluster): hactl will not delete them", dir, c.Name),
				Fix:  "move them away, or choose another deploy_dir"})
		}
	}
	ps = append(ps, portProblems(s, comps, want, f)...)
	return ps
}

// portProblems: each wanted port must be free, held by the same component,
// or held by a hactl component that the plan moves or removes.
func portProblems(s *schema.Server, comps, want []*plan.Component, f preflightFacts) []providers.Problem {
	wantPort := map[string]int{}
	for _, w := range want {
		if w.Server != nil && w.Server.Name == s.Name {
			wantPort[w.Address] = w.Port
		}
	}
	var ps []providers.Problem
	for _, comp := range comps {
		if comp.Port == 0 {
			continue
		}
		var holders []string
		blocked := false
		for _, l := range f.listeners {
			if l.Port != comp.Port {
				continue
			}
			owner := f.socketOwner[l.Inode]
			switch {
			case f.foreignSocket[l.Inode] != "":
				blocked = true
				holders = append(holders, f.foreignSocket[l.Inode])
			case owner == comp.Address:
			case owner != "":
				if wp, ok := wantPort[owner]; ok && wp == comp.Port {
					blocked = true
					holders = append(holders, "hactl's "+owner)
				}
			default:
				blocked = true
				holders = append(holders, "a process hactl did not deploy")
			}
		}
		if blocked {
			ps = append(ps, providers.Problem{Server: s.Name, Component: comp.Address,
				What: fmt.Sprintf("port %d is already in use by %s", comp.Port, strings.Join(dedupe(holders), " and ")),
				Fix:  fmt.Sprintf("stop what listens on %d there (ss -ltnp 'sport = :%d') or choose another port", comp.Port, comp.Port)})
		}
	}
	return ps
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
