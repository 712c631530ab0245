package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/schema"
)

// Deploy stops the component's old process (if any), writes its settings,
// env files, scripts and manifest, starts it under supervision and returns
// as soon as the process runs (no fixed start check: whether it serves is
// the health gate's to judge, and an exit after this shows in Starts). When
// its first attempt has already exited, the error carries that attempt's
// error lines; the supervisor keeps retrying with backoff, so status shows
// the restarts.
func (p *Provider) Deploy(ctx context.Context, comp *plan.Component) error {
	if comp == nil || comp.Server == nil {
		return errors.New("deploy: component without a server")
	}
	s := comp.Server
	dir, err := componentDir(s, p.cluster.Name, comp.Address)
	if err != nil {
		return err
	}
	h := p.host(s)
	fail := func(step string, err error) error {
		return fmt.Errorf("deploying %s on server %s: %s: %w", comp.Address, s.Name, step, err)
	}
	useSystemd, err := p.usesSystemd(ctx, s)
	if err != nil {
		return fail("probing the host", err)
	}

	// Everything is rendered before touching the host, so a bad value
	// changes nothing there.
	launch := comp.Launch.In(dir)
	files := map[string]fileSpec{}
	for name, f := range launch.Files {
		if err := settingsFileName(name); err != nil {
			return fail("settings", err)
		}
		mode := os.FileMode(0o644)
		if f.Secret {
			mode = 0o600
		}
		files[name] = fileSpec{f.Content, mode}
	}
	env, err := envFile(launch.Env)
	if err != nil {
		return fail("environment", err)
	}
	secretEnv, err := envFile(launch.SecretEnv)
	if err != nil {
		return fail("secret environment", err)
	}
	files[fileEnv] = fileSpec{env, 0o644}
	files[fileSecretEnv] = fileSpec{secretEnv, 0o600}
	files[fileStart] = fileSpec{startScript(comp.Address, dir, dbgptArgv(s), launch.Args, logMaxSize(s)), 0o755}
	m := Manifest{
		Format: 1, Cluster: p.cluster.Name, Address: comp.Address, Role: comp.Role, Name: comp.Name,
		Server: s.Name, Port: comp.Port, Hash: comp.Hash, Attributes: comp.Attributes,
		Supervisor: supervisorProcess, DeployedAt: time.Now().UTC().Truncate(time.Second),
	}
	unit := unitName(p.cluster.Name, comp.Address)
	runAs := switchUser(s)
	group := ""
	if useSystemd && runAs != "" {
		out, err := h.Run(ctx, "id -gn "+host.Quote(runAs), nil)
		if err != nil {
			return fail("finding the group of run_as user "+runAs, err)
		}
		group = strings.TrimSpace(string(out))
	}
	if useSystemd {
		m.Supervisor, m.Unit = supervisorSystemd, unit
		files[fileUnit] = fileSpec{[]byte(unit + "\n"), 0o644}
	} else {
		files[fileRun] = fileSpec{runScript(comp.Address, dir, p.opts.StopTimeout), 0o755}
	}
	manifest, err := encodeManifest(m)
	if err != nil {
		return fail("manifest", err)
	}

	// One script, fed on stdin (file contents and secrets never reach a
	// command line): refuse a directory holding files hactl did not write
	// for this cluster, stop the old process (and the one of the old
	// layout's directory, which goes, its log moved here), mark the
	// directory as this cluster's, clear it but for the log and the data
	// directory, write every
	// file (the manifest last), start and watch.
	var b strings.Builder
	b.WriteString(shStop(p.opts.StopTimeout))
	b.WriteString(shOwned(p.cluster.Name))
	fmt.Fprintf(&b, `d=%s
o=%s
if ! owned "$d"; then
	echo "$d holds files hactl did not write for cluster "%s": not touching them (move them away or choose another deploy_dir)" >&2
	exit 1
fi
umask 022
existed=
[ -d "$d" ] && existed=1
stop_component "$d" || exit 1
# The directory may belong to the user the processes run as: what root
# writes or opens in it is never a link that user could have planted.
for f in `+fileOwner+` `+fileLog+` `+fileLogOld+`; do [ -L "$d/$f" ] && rm -f "$d/$f"; done
moved=
if [ -f "$o/manifest.json" ] && ours_manifest "$o"; then stop_component "$o" || exit 1; moved=1; fi
if [ -n "$existed" ]; then
	chmod 0755 "$d" || exit 1
else
	mkdir -p "$d" || exit 1
fi
printf '%%s\n' %s > "$d/%s" || exit 1
if [ -n "$existed" ]; then
	find "$d" -mindepth 1 -maxdepth 1 ! -name log ! -name `+fileLogOld+` ! -name `+dirData+` ! -name %s -exec rm -rf {} + || exit 1
fi
if [ -n "$moved" ]; then
	[ -f "$o/log" ] && [ ! -f "$d/log" ] && mv "$o/log" "$d/log"
	rm -rf "$o"
fi
echo 0 > "$d/restarts"
`, host.Quote(dir), host.Quote(legacyDir(s, comp.Address)), host.Quote(p.cluster.Name), host.Quote(p.cluster.Name), fileOwner, fileOwner)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	// The directory holds none of these files now: each is written in
	// place by the shell's own printf (no process per file), the manifest
	// last and atomically (its presence says the rest is complete).
	var executable []string
	for _, name := range names {
		if sub := path.Dir(name); sub != "." {
			b.WriteString("mkdir -p " + host.Quote(path.Join(dir, sub)) + " || exit 1\n")
		}
		f := files[name]
		b.WriteString(writeInPlace(path.Join(dir, name), f.content, f.mode))
		if f.mode&0o111 != 0 {
			executable = append(executable, host.Quote(path.Join(dir, name)))
		}
	}
	if len(executable) > 0 {
		b.WriteString("chmod 0755 " + strings.Join(executable, " ") + " || exit 1\n")
	}
	if useSystemd {
		b.WriteString(host.FileScript("/etc/systemd/system/"+unit, unitFile(p.cluster.Name, comp.Address, dir, p.opts.StopTimeout, runAs, group), 0o644))
	}
	b.WriteString(p.registryChown(comp))
	// The manifest last, and whole or not at all.
	b.WriteString(writeInPlace(path.Join(dir, fileManifest+".tmp"), manifest, 0o644))
	b.WriteString("mv -f " + host.Quote(path.Join(dir, fileManifest+".tmp")) + " " + host.Quote(path.Join(dir, fileManifest)) + " || exit 1\n")
	b.WriteString(startAndWatch(dir, unit, useSystemd, runAs))
	out, err := host.RunStdinScript(ctx, h, b.String())
	if err != nil {
		return fail("writing files and starting", err)
	}
	status, rest, _ := strings.Cut(string(out), "\n")
	if f := strings.Fields(status); len(f) == 2 && f[0] == "ok" {
		fmt.Fprintf(p.opts.Out, "%s: started %s (pid %s)\n", s.Name, comp.Address, f[1])
		return nil
	}
	alive, logTail, _ := strings.Cut(rest, "\n")
	return startFailure(comp.Address, s.Name, dir, strings.TrimSpace(status), alive == "alive 1", logTail)
}

// startFailure is Deploy's error when the process exited during the start
// check: the exit status and the error lines of the attempt that failed
// (see attemptErrors), from the log lines written since the deploy.
func startFailure(address, server, dir, status string, running bool, logTail string) error {
	lines, code, hasCode := attemptErrors(strings.Split(strings.TrimRight(logTail, "\n"), "\n"), running)
	exit := ""
	if hasCode {
		exit = fmt.Sprintf(", exit status %d", code)
	}
	shown := strings.Join(lines, "\n")
	if shown == "" {
		shown = "(the log is empty)"
	}
	return fmt.Errorf("deploying %s on server %s: the process exited right after starting (%s%s); error lines of the failed attempt (from %s/log):\n%s",
		address, server, status, exit, dir, shown)
}

type fileSpec struct {
	content []byte
	mode    os.FileMode
}

// switchUser is the user the server's processes are started as when that
// is not the user hactl's commands run as (run_as); "" when no switch is
// needed.
func switchUser(s *schema.Server) string {
	if s.RunAs == "" || s.RunAs == s.CommandUser() {
		return ""
	}
	return s.RunAs
}

func logMaxSize(s *schema.Server) int64 {
	if s.LogMaxSize <= 0 {
		return schema.DefaultLogMaxSize
	}
	return s.LogMaxSize
}

// shOwnTo defines own_to DIR USER: when hactl runs as root, give DIR and
// everything in it (not following links) to USER and its primary group,
// if anything there is not theirs already. Modes stay: secret files stay
// 0600, now the process user's.
const shOwnTo = `own_to() {
	[ "$(id -u)" = 0 ] || return 0
	_ou=$(id -u "$2") && _og=$(id -g "$2") || { echo "run_as user $2 does not exist" >&2; return 1; }
	[ -z "$(find "$1" \( ! -user "$_ou" -o ! -group "$_og" \) -print -quit 2>/dev/null)" ] && return 0
	chown -R "$_ou:$_og" "$1"
}
`

// shAsUser defines as_user USER CMD...: run CMD as USER (with its HOME,
// USER and LOGNAME), through setpriv or, without it, runuser (both of
// util-linux); it fails saying so when neither is installed.
const shAsUser = `as_user() {
	_au=$1
	shift
	if command -v setpriv >/dev/null 2>&1; then
		_ah=$(getent passwd "$_au" | cut -d: -f6)
		_ag=$(id -g "$_au") || return 1
		HOME=${_ah:-/} USER=$_au LOGNAME=$_au setpriv --reuid="$_au" --regid="$_ag" --init-groups -- "$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u "$_au" -- "$@"
	else
		echo "neither setpriv nor runuser (util-linux) is installed: cannot run processes as run_as user $_au" >&2
		return 127
	fi
}
`

// startAndWatch starts the supervisor (or unit) and prints "ok <pid>" as
// soon as the process of this start runs (start.sh has written child.pid,
// or systemd has a MainPID): no fixed wait, health is the gate's to
// judge, and an exit after this is the supervisor's to record (Starts).
// When the first attempt has already exited by then, it prints
// "failed <why>", "alive 0|1" and the new lines of the log. runAs, when
// set, is the user the processes run as (see switchUser); the component
// directory is given to the user the processes run as.
func startAndWatch(dir, unit string, useSystemd bool, runAs string) string {
	start := startSupervisor(runAs)
	restarts := `r=; [ -r restarts ] && read -r r < restarts`
	pid := `c=; [ -r child.pid ] && read -r c < child.pid`
	if useSystemd {
		start = "systemctl daemon-reload && systemctl reset-failed " + host.Quote(unit) + " >/dev/null 2>&1; systemctl enable " + host.Quote(unit) + " >/dev/null 2>&1 && systemctl restart " + host.Quote(unit) + " || exit 1\n"
		restarts = `r=$(systemctl show -p NRestarts --value ` + host.Quote(unit) + ` 2>/dev/null)`
		pid = `c=$(systemctl show -p MainPID --value ` + host.Quote(unit) + ` 2>/dev/null); [ "$c" = 0 ] && c=`
	}
	// The files are hactl's user's already, unless the processes run as
	// another.
	ownTo := ""
	if runAs != "" {
		ownTo = "own_to . " + host.Quote(runAs) + " || exit 1"
	}
	// The wait below ends on what it observes: the process running, or
	// an exit recorded. Its bound (startSeen polls of 10 ms, then 100 ms)
	// only limits how long a supervisor that never starts anything
	// (a broken shell, a full disk) is waited for.
	return shAlive + shOwnTo + shAsUser + fmt.Sprintf(`cd %s || exit 1
`+envMarker+`=%s
export `+envMarker+`
umask 077
if [ -e log ]; then chmod 0600 log || exit 1; else : >> log || exit 1; fi
umask 022
echo "hactl: $(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ) deploy: starting" >> log
%s
%s
i=0
while :; do
	%s
	%s
	[ "${r:-0}" -gt 0 ] 2>/dev/null && break
	[ -n "$c" ] && alive "$c" && break
	i=$((i+1))
	[ $i -ge %d ] && break
	if [ $i -lt 100 ]; then sleep 0.01; else sleep 0.1; fi
done
if [ "${r:-0}" = 0 ] && [ -n "$c" ] && alive "$c"; then
	echo "ok $c"
	exit 0
fi
echo "failed: restarted ${r:-0} times, pid ${c:-none}"
if alive "$c"; then echo "alive 1"; else echo "alive 0"; fi
# The lines since the deploy's mark (attemptErrors finds it), also when
# the log was rotated since (see shRotate): they start in log.1.
{ tail -n `+strconv.Itoa(logTailLines)+` `+fileLogOld+` 2>/dev/null; cat log; } | tail -n `+strconv.Itoa(logTailLines)+`
`, host.Quote(dir), host.Quote(dir), ownTo, start, restarts, pid, startSeenPolls)
}

// startSeenPolls bounds startAndWatch's wait for the process to appear:
// 100 polls of 10 ms, then 100 ms each, about 30 s in all.
const startSeenPolls = 390

// startSupervisor starts run.sh in the background, in the component
// directory (the working directory), as its own session (setsid, when
// there is one), its output appended to log; with runAs as that user
// (needs as_user, shAsUser), so that the supervisor opens the log as it.
// The caller exports envMarker first.
func startSupervisor(runAs string) string {
	if runAs == "" {
		return `setsid=; command -v setsid >/dev/null 2>&1 && setsid=setsid
# SIGHUP ignored (as nohup would, without its process): run.sh, started
# with it ignored, cannot trap it.
(trap '' HUP; exec $setsid sh ./run.sh) >> log 2>&1 < /dev/null &
`
	}
	return startSupervisorAs(host.Quote(runAs))
}

// startSupervisorAs is startSupervisor as the user the shell word user
// names (quoted, or a variable's expansion).
func startSupervisorAs(user string) string {
	return `setsid=; command -v setsid >/dev/null 2>&1 && setsid=setsid
u=` + user + `
as_user "$u" true || exit 1
sup='exec '$setsid' sh ./run.sh >> log 2>&1 < /dev/null'
(
	trap '' HUP
	if command -v setpriv >/dev/null 2>&1; then
		h=$(getent passwd "$u" | cut -d: -f6)
		HOME=${h:-/} USER=$u LOGNAME=$u exec setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- sh -c "$sup"
	fi
	exec runuser -u "$u" -- sh -c "$sup"
) >/dev/null 2>&1 < /dev/null &
`
}

// shSystemdProbe prints "@@supervisor systemd" when components on the host
// run as systemd units (systemd is PID 1 and hactl runs as root), else
// "@@supervisor process". Pre-flight runs it too and keeps its answer.
const shSystemdProbe = `if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then echo "@@supervisor systemd"; else echo "@@supervisor process"; fi`

// usesSystemd reports (once per server) whether components there run as
// systemd units: systemd is PID 1 and hactl runs as root.
func (p *Provider) usesSystemd(ctx context.Context, s *schema.Server) (bool, error) {
	if p.opts.NoSystemd {
		return false, nil
	}
	p.mu.Lock()
	v, ok := p.systemd[s.Name]
	p.mu.Unlock()
	if ok {
		return v, nil
	}
	out, err := p.host(s).Run(ctx, shSystemdProbe, nil)
	if err != nil {
		return false, err
	}
	v = strings.TrimSpace(string(out)) == "@@supervisor systemd"
	p.mu.Lock()
	p.systemd[s.Name] = v
	p.mu.Unlock()
	return v, nil
}

// Remove stops the component's process and deletes its directory (and
// unit), but for its data directory, which it keeps (and says so): a later
// deploy reuses it, destroy --purge-registry deletes it (see Teardown).
func (p *Provider) Remove(ctx context.Context, o providers.Observed) error {
	s, err := p.server(o.Server)
	if err != nil {
		return fmt.Errorf("removing %s: %w", o.Address, err)
	}
	dir, err := componentDir(s, p.cluster.Name, o.Address)
	if err != nil {
		return err
	}
	// The component's directory, and the old layout's when it is this
	// cluster's; never a directory holding files hactl did not write.
	script := shStop(p.opts.StopTimeout) + shOwned(p.cluster.Name) + fmt.Sprintf(`remove() {
	owned "$1" || { echo "$1 holds files hactl did not write for cluster "%s": not touching them" >&2; return 1; }
	[ -d "$1" ] || return 0
	_u=$(cat "$1/unit" 2>/dev/null)
	stop_component "$1" || return 1
	case $_u in hactl-*.service)
		rm -f "/etc/systemd/system/$_u"
		systemctl daemon-reload 2>/dev/null
		systemctl reset-failed "$_u" >/dev/null 2>&1
		;;
	esac
	# The data directory stays (with the owner mark, so the next deploy may
	# reuse it); destroy --purge-registry deletes it (Teardown).
	if [ -d "$1/`+dirData+`" ]; then
		find "$1" -mindepth 1 -maxdepth 1 ! -name `+dirData+` ! -name `+fileOwner+` -exec rm -rf {} + || return 1
		echo "@@kept $1/`+dirData+`"
		return 0
	fi
	rm -rf "$1"
}
remove %s || exit 1
o=%s
if ours_manifest "$o"; then remove "$o" || exit 1; fi
# The last component gone: the cluster's directory, the deploy directory
# too, and its parent when that is the default layout's /…/hactl and empty.
rmdir %s 2>/dev/null
dd=%s
if rmdir "$dd" 2>/dev/null; then
	p=$(dirname "$dd")
	[ "${p##*/}" = hactl ] && rmdir "$p" 2>/dev/null
fi
exit 0
`, host.Quote(p.cluster.Name), host.Quote(dir), host.Quote(legacyDir(s, o.Address)), host.Quote(path.Dir(dir)), host.Quote(s.DeployDir))
	out, err := p.host(s).Run(ctx, script, nil)
	if err != nil {
		return fmt.Errorf("removing %s from server %s: %w", o.Address, s.Name, err)
	}
	fmt.Fprintf(p.opts.Out, "%s: removed %s\n", s.Name, o.Address)
	for _, l := range strings.Split(string(out), "\n") {
		if kept, ok := strings.CutPrefix(l, "@@kept "); ok {
			fmt.Fprintf(p.opts.Out, "%s: kept the data of %s in %s (a later deploy reuses it; hactl destroy --purge-registry deletes it)\n", s.Name, o.Address, kept)
			p.mu.Lock()
			p.kept = append(p.kept, providers.KeptData{Component: o.Address, Server: s.Name, Path: kept})
			p.mu.Unlock()
		}
	}
	return nil
}

// Logs returns the last lines of the component's log.
func (p *Provider) Logs(ctx context.Context, o providers.Observed, lines int) (string, error) {
	s, tail, err := p.tailCommand(o, lines, false)
	if err != nil {
		return "", err
	}
	out, err := p.host(s).Run(ctx, tail, nil)
	if err != nil {
		return "", fmt.Errorf("reading the log of %s on server %s: %w", o.Address, s.Name, err)
	}
	return string(out), nil
}

// FollowLogs writes the last lines of the component's log, then each new
// line, until ctx ends: tail -F on the server, through its connection (or
// locally), so a log that is replaced is followed too.
func (p *Provider) FollowLogs(ctx context.Context, o providers.Observed, lines int, w io.Writer) error {
	s, tail, err := p.tailCommand(o, lines, true)
	if err != nil {
		return err
	}
	if err := p.host(s).Stream(ctx, tail, w); err != nil {
		return fmt.Errorf("following the log of %s on server %s: %w", o.Address, s.Name, err)
	}
	return nil
}

// tailCommand is the command printing the component's log, exec'd so that
// stopping the script stops tail (host.Stream).
func (p *Provider) tailCommand(o providers.Observed, lines int, follow bool) (*schema.Server, string, error) {
	s, err := p.server(o.Server)
	if err != nil {
		return nil, "", err
	}
	dir, err := componentDir(s, p.cluster.Name, o.Address)
	if err != nil {
		return nil, "", err
	}
	if lines <= 0 {
		lines = 20
	}
	tail := shTailLog(lines)
	if follow {
		tail = "exec tail -n " + strconv.Itoa(lines) + ` -F "$f"`
	}
	// A component not yet moved from the old layout logs there.
	return s, fmt.Sprintf(`f=%s
[ -f "$f" ] || [ ! -f %s ] || f=%s
%s`, host.Quote(path.Join(dir, fileLog)), host.Quote(path.Join(legacyDir(s, o.Address), fileManifest)),
		host.Quote(path.Join(legacyDir(s, o.Address), fileLog)), tail), nil
}

// shTailLog prints the last n lines of the log "$f". A rotation (see
// shRotate) empties the log in place after copying it to "$f.1", and may do
// so between any two commands of this script: the lines are read once, and
// when fewer than n, the rest come from log.1 as it is after that read. So
// a read racing a rotation still shows the lines just moved, never nothing.
func shTailLog(n int) string {
	return fmt.Sprintf(`_t=$(tail -n %[1]d "$f") || exit
_c=0
[ -z "$_t" ] || _c=$(printf '%%s\n' "$_t" | wc -l)
if [ "$_c" -lt %[1]d ] && [ -f "$f.1" ]; then
	{ tail -n %[1]d "$f.1"; [ -z "$_t" ] || printf '%%s\n' "$_t"; } | tail -n %[1]d
elif [ -n "$_t" ]; then
	printf '%%s\n' "$_t"
fi`, n)
}

// writeInPlace is a script line writing content to path (which does not
// exist) with mode (0600, 0644 or 0755: the executable bit is set by the
// caller), by the shell's builtin printf under the matching umask: no
// process is started for it. The script runs under umask 022.
func writeInPlace(path string, content []byte, mode os.FileMode) string {
	if bytes.IndexByte(content, 0) >= 0 {
		// A shell word cannot hold a NUL byte.
		return host.FileScript(path, content, mode)
	}
	umask := ""
	if mode.Perm()&0o077 == 0 {
		umask = "umask 077; "
	}
	restore := ""
	if umask != "" {
		restore = "; umask 022"
	}
	return fmt.Sprintf("%sprintf '%%s' %s > %s || { echo 'writing %s failed' >&2; exit 1; }%s\n",
		umask, host.Quote(string(content)), host.Quote(path), strings.ReplaceAll(path, "'", ""), restore)
}
