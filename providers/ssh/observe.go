package ssh

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/schema"
)

// Observe reads every component manifest under each server's deploy
// directory (one command per server, servers in parallel) with the liveness
// of its processes. Manifests of other clusters sharing a deploy directory
// are ignored. The cluster records found there (see inventory.go) name the
// servers deployed to before: those no longer in the file are observed too,
// so their components are planned for removal. When servers cannot be
// reached it returns what it could read and an error naming each
// unreachable server.
func (p *Provider) Observe(ctx context.Context, c *schema.Cluster) ([]providers.Observed, error) {
	if c == nil {
		c = p.cluster
	}
	all, records, errs, read := p.observeServers(ctx, c, c.Servers, nil)
	extra, recordedOn := p.recordedServers(c, records)
	if len(extra) > 0 {
		more, _, moreErrs, _ := p.observeServers(ctx, c, extra, read)
		all = append(all, more...)
		for name, err := range moreErrs {
			errs[name] = fmt.Errorf("%w (server %s is not in the cluster file, but the cluster record on server %s says hactl deployed to it: its components are not forgotten; bring it back, or remove them by hand and then %s/%s/%s on every server)",
				err, name, recordedOn[name], "<deploy_dir>", c.Name, fileRecord)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Server != all[j].Server {
			return all[i].Server < all[j].Server
		}
		return all[i].Address < all[j].Address
	})
	if len(errs) > 0 {
		names := make([]string, 0, len(errs))
		for n := range errs {
			names = append(names, n)
		}
		sort.Strings(names)
		return all, fmt.Errorf("cannot observe %s: %w", strings.Join(names, ", "), joinServerErrors(errs))
	}
	return all, nil
}

// observeServers observes servers, skipping machines and deploy
// directories in skip, and returns what it found, the cluster records read,
// the errors by server name and the keys it read.
func (p *Provider) observeServers(ctx context.Context, c *schema.Cluster, servers []*schema.Server, skip map[string]bool) ([]providers.Observed, []clusterRecord, map[string]error, map[string]bool) {
	// Servers that share a machine and a deploy directory (several "local"
	// servers) are read once.
	type target struct {
		server *schema.Server
		names  map[string]bool
	}
	byKey := map[string]*target{}
	read := map[string]bool{}
	var order []*schema.Server
	for _, s := range servers {
		key := hostKey(s) + "\x00" + s.DeployDir
		if skip[key] {
			continue
		}
		read[key] = true
		if t, ok := byKey[key]; ok {
			t.names[s.Name] = true
			continue
		}
		byKey[key] = &target{server: s, names: map[string]bool{s.Name: true}}
		order = append(order, s)
	}
	var mu sync.Mutex
	var all []providers.Observed
	var records []clusterRecord
	errs := p.eachServer(ctx, order, func(ctx context.Context, s *schema.Server) error {
		out, err := p.host(s).Run(ctx, observeScript(s.DeployDir, c.Name), nil)
		if err != nil {
			return fmt.Errorf("observing server %s: %w", s.Name, err)
		}
		found, err := parseObserve(out)
		if err != nil {
			return fmt.Errorf("observing server %s: %w", s.Name, err)
		}
		rec, recErr := parseRecord(out, s.Name)
		t := byKey[hostKey(s)+"\x00"+s.DeployDir]
		mu.Lock()
		defer mu.Unlock()
		if rec != nil {
			records = append(records, *rec)
			p.mu.Lock()
			p.records[hostKey(s)+"\x00"+s.DeployDir] = rec.recordKey()
			p.mu.Unlock()
		} else {
			p.mu.Lock()
			delete(p.records, hostKey(s)+"\x00"+s.DeployDir)
			p.mu.Unlock()
		}
		current, legacy := map[string]bool{}, map[string]bool{}
		for _, f := range found {
			if f.manifest.Cluster == c.Name && f.dir == c.Name+"/"+f.manifest.Address {
				current[f.manifest.Address] = true
			}
			if f.manifest.Cluster == c.Name && f.dir == f.manifest.Address {
				legacy[f.manifest.Address] = true
			}
		}
		for _, f := range found {
			// This cluster's manifests only, where hactl puts them: a
			// manifest elsewhere (another cluster's directory) is not ours.
			if f.manifest.Cluster != c.Name {
				continue
			}
			o := f.observed()
			switch f.dir {
			case c.Name + "/" + f.manifest.Address:
				if legacy[o.Address] { // a move cut short: the next Deploy finishes it
					o.Relocate = "a copy is left in the old directory layout " + legacyDir(s, o.Address) + ": it goes"
				}
			case f.manifest.Address: // the old layout
				if current[f.manifest.Address] {
					continue
				}
				o.Relocate = "in the old directory layout " + legacyDir(s, o.Address) + ": moves to " + path.Join(s.DeployDir, c.Name, o.Address)
			default:
				continue
			}
			o.Server = s.Name
			if t.names[f.manifest.Server] {
				o.Server = f.manifest.Server
			}
			all = append(all, o)
		}
		return recErr
	})
	return all, records, errs, read
}

// hostKey identifies the machine behind a server.
func hostKey(s *schema.Server) string {
	if s.Transport == schema.TransportLocal {
		return "local"
	}
	return s.Address + ":" + strconv.Itoa(s.SSH.Port)
}

func observeScript(deployDir, cluster string) string {
	return shAlive + shState + shChecker + fmt.Sprintf(`d=%s
[ -d "$d" ] || exit 0
r="$d"/%s/%s
# Files are read with the shell's read: no process per file (a server
# holding many components is observed by one shell).
oneline() { while IFS= read -r _o || [ -n "$_o" ]; do printf '%%s' "$_o"; done < "$1"; echo; }
if [ -f "$r" ]; then printf '@@record '; oneline "$r"; fi
for m in "$d"/*/*/manifest.json "$d"/*/manifest.json; do
	[ -f "$m" ] || continue
	c=${m%%/manifest.json}
	echo "@@component ${c#"$d"/}"
	printf '@@manifest '
	oneline "$m"
	state "$c"
	case ${c##*/} in controller.*) checker "$c";; esac
done
`, host.Quote(deployDir), host.Quote(cluster), fileRecord)
}

// shChecker defines checker DIR: for a controller, "@@checker <error
// line>" when its log since its current process started (start.sh's last
// "attempt N starting" line; the log and, rotated, log.1) holds the
// heartbeat checker thread's traceback (see providers.CheckerScan, which
// this awk program mirrors). The rule, a log without the word, costs one
// grep -F; with it, one grep picks the attempt lines and each "Exception in
// thread" with the 200 lines after it (grep's "--" between groups is
// skipped), and the awk reads only those.
const shChecker = `checker() {
	_cd=$1
	set --
	[ -f "$_cd/` + fileLogOld + `" ] && set -- "$_cd/` + fileLogOld + `"
	[ -f "$_cd/` + fileLog + `" ] && set -- "$@" "$_cd/` + fileLog + `"
	[ $# -gt 0 ] || return 0
	grep -qF _heartbeat_checker "$@" 2>/dev/null || return 0
	grep -h -A 200 -e '^Exception in thread ' -e '^hactl: [^ ]* attempt [0-9]* starting$' "$@" 2>/dev/null | awk '
/^--$/ { next }
/^hactl: [^ ]* attempt [0-9]* starting$/ { inb = 0; found = 0; out = ""; next }
found { next }
/^Exception in thread / { inb = 1; n = 0; tr = 0; chk = (index($0, "_heartbeat_checker") > 0); next }
!inb { next }
{
	sub(/\r$/, "")
	n++
	if ($0 ~ /^Traceback /) tr = 1
	else if ($0 == "" || $0 ~ /^[ \t]/) { if (index($0, "_heartbeat_checker") > 0) chk = 1 }
	else { inb = 0; if (chk && tr) { found = 1; out = $0 }; next }
	if (n >= 200) inb = 0
}
END { if (found) print "@@checker " substr(out, 1, 300) }
' 2>/dev/null
}
`

// shState defines state DIR: the component's processes, start, restarts
// and systemd unit as @@ tags (parseObserve reads them); it leaves the
// unit's name in $u.
const shState = `first_line() { _f=; [ -f "$1" ] && read -r _f 2>/dev/null < "$1"; }
state() {
	first_line "$1/supervisor.pid"; s=$_f
	first_line "$1/child.pid"; k=$_f
	sa=0; alive "$s" && sa=1
	ka=0; alive "$k" && ka=1
	echo "@@supervisor ${s:-0} $sa"
	echo "@@child ${k:-0} $ka"
	first_line "$1/started_at"; echo "@@started $_f"
	first_line "$1/restarts"; echo "@@restarts $_f"
	first_line "$1/unit"; u=$_f
	if [ -n "$u" ] && command -v systemctl >/dev/null 2>&1; then
		echo "@@unit $(systemctl is-active "$u" 2>/dev/null) $(systemctl show -p MainPID --value "$u" 2>/dev/null) $(systemctl show -p NRestarts --value "$u" 2>/dev/null)"
	fi
}
`

// found is one component as the observe script printed it.
type found struct {
	dir         string
	manifest    Manifest
	supervisor  int
	supAlive    bool
	child       int
	childAlive  bool
	startedAt   time.Time
	restarts    int
	unitActive  bool
	unitSeen    bool
	unitMainPID int
	checkerErr  string // the error the heartbeat checker thread died of
	checkerDied bool
}

func (f found) observed() providers.Observed {
	o := providers.Observed{
		Address:    f.manifest.Address,
		Role:       f.manifest.Role,
		Server:     f.manifest.Server,
		Port:       f.manifest.Port,
		Hash:       f.manifest.Hash,
		Attributes: f.manifest.Attributes,
		StartedAt:  f.startedAt,
		Restarts:   f.restarts,
	}
	if o.Address == "" {
		o.Address = f.dir
	}
	o.PID = f.child
	switch {
	case f.unitSeen:
		// systemd knows the process: start.sh execs it as the unit's main
		// process, so MainPID is it (child.pid says the same once written).
		o.Running = f.unitActive && (f.unitMainPID > 0 || f.childAlive)
		if f.unitMainPID > 0 {
			o.PID = f.unitMainPID
		}
	default:
		o.Running = f.supAlive && f.childAlive
	}
	if !o.Running {
		o.PID = 0
		o.StartedAt = time.Time{}
	}
	if o.Running && f.checkerDied && o.Role == schema.RoleController {
		o.Defect = plan.CheckerDefect(f.checkerErr)
	}
	return o
}

// parseObserve reads the observe script's output.
func parseObserve(out []byte) ([]found, error) {
	var res []found
	var cur *found
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		tag, rest, _ := strings.Cut(line, " ")
		if tag == "@@component" {
			res = append(res, found{dir: rest})
			cur = &res[len(res)-1]
			continue
		}
		if cur == nil {
			continue
		}
		f := strings.Fields(rest)
		switch tag {
		case "@@manifest":
			if err := json.Unmarshal([]byte(rest), &cur.manifest); err != nil {
				return nil, fmt.Errorf("manifest of %s is not valid JSON: %w", cur.dir, err)
			}
		case "@@supervisor":
			cur.supervisor, cur.supAlive = pidAlive(f)
		case "@@child":
			cur.child, cur.childAlive = pidAlive(f)
		case "@@started":
			if len(f) == 1 {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil && n > 0 {
					cur.startedAt = time.Unix(n, 0).UTC()
				}
			}
		case "@@checker":
			cur.checkerDied, cur.checkerErr = true, strings.ToValidUTF8(strings.TrimSpace(rest), "")
		case "@@restarts":
			if len(f) == 1 {
				cur.restarts, _ = strconv.Atoi(f[0])
			}
		case "@@unit":
			cur.unitSeen = true
			if len(f) >= 1 {
				cur.unitActive = f[0] == "active"
			}
			if len(f) >= 2 {
				cur.unitMainPID, _ = strconv.Atoi(f[1])
			}
			if len(f) >= 3 {
				cur.restarts, _ = strconv.Atoi(f[2])
			}
		}
	}
	return res, sc.Err()
}

func pidAlive(f []string) (int, bool) {
	if len(f) != 2 {
		return 0, false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, f[1] == "1"
}
