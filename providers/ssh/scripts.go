package ssh

import (
	"fmt"
	"strings"
	"time"

	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/schema"
)

// shAlive is a POSIX sh function: alive PID succeeds when PID is a live
// (not zombie) process. Builtins only, so it is cheap in loops.
const shAlive = `alive() {
	case $1 in ''|*[!0-9]*) return 1;; esac
	[ -r "/proc/$1/stat" ] || return 1
	read -r _l < "/proc/$1/stat" || return 1
	_l=${_l##*") "}
	case $_l in Z*|X*|x*) return 1;; esac
	return 0
}
`

// envMarker names the variable every process hactl starts for a component
// carries in its environment (set by startAndWatch and start.sh): its value
// is the component directory. With the working directory it tells hactl's
// processes of a component apart from anything else, also when no pid file
// names them any more (a supervisor killed with kill -9 leaves its dbgpt
// process behind; a second supervisor of two runs at once rewrote the pid
// files).
const envMarker = "HACTL_DIR"

// shStraysHere defines strays_here DIR REAL: the pids (one a line) of
// processes working in REAL (DIR's physical path) whose environment says
// they were started by hactl for DIR, among those whose /proc entries this
// user may read. One ls of every cwd link, then builtins; only candidates
// have their environment read.
const shStraysHere = `strays_here() {
	ls -l /proc/[0-9]*/cwd 2>/dev/null | while IFS= read -r _line; do
		case $_line in *" -> $2") ;; *) continue;; esac
		_p=${_line%%/cwd -> *}
		_p=${_p##*/proc/}
		case $_p in ''|*[!0-9]*) continue;; esac
		[ "$_p" = "$$" ] && continue
		tr '\0' '\n' < "/proc/$_p/environ" 2>/dev/null | grep -qxF "` + envMarker + `=$1" && echo "$_p"
	done
}
`

// shAsOwner defines as_owner DIR CMD...: CMD, or, where hactl is root
// without CAP_SYS_PTRACE (a container's root: then it may not read another
// user's /proc/PID/cwd, fd or environ), CMD as the owner of DIR, a
// component directory, which is the user its processes run as (run_as).
// It needs as_user (shAsUser).
const shAsOwner = `hactl_noptrace=
if [ "$(id -u)" = 0 ]; then
	_ce=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status 2>/dev/null)
	[ $(( 0x${_ce:-0} >> 19 & 1 )) = 0 ] && hactl_noptrace=1
fi
as_owner() {
	_od=$1
	shift
	if [ -n "$hactl_noptrace" ]; then
		_oo=$(stat -c %U "$_od" 2>/dev/null)
		if [ -n "$_oo" ] && [ "$_oo" != root ] && [ "$_oo" != UNKNOWN ]; then
			as_user "$_oo" "$@" </dev/null
			return
		fi
	fi
	"$@"
}
`

// shStrays defines strays DIR REAL: strays_here, and where root may not
// read the /proc entries of the directory owner's processes, strays_here
// again as that owner (see shAsOwner).
var shStrays = shAsUser + shAsOwner + shStraysHere + `hactl_strays_def=` + host.Quote(shStraysHere) + `
strays() {
	{
		strays_here "$1" "$2"
		[ -n "$hactl_noptrace" ] && as_owner "$2" sh -c "$hactl_strays_def"'
strays_here "$1" "$2"' _ "$1" "$2" 2>/dev/null
	} | sort -u
}
`

// shStop defines stop_component DIR: stop the supervisor (which forwards
// SIGTERM to the process), then anything left in its process group, then an
// orphaned process, then every other process hactl started for DIR (see
// envMarker); or stop the systemd unit. A pid is acted on only when that
// process's working directory is DIR, so a recycled pid is left alone.
func shStop(stopTimeout time.Duration) string {
	ticks := int(stopTimeout/(100*time.Millisecond)) + 30
	return shAlive + shStrays + fmt.Sprintf(`ours() {
	case $1 in ''|*[!0-9]*) return 1;; esac
	[ -d "/proc/$1" ] || return 1
	_cw=$(readlink "/proc/$1/cwd" 2>/dev/null) || _cw=$(as_owner "$2" readlink "/proc/$1/cwd" 2>/dev/null)
	[ "$_cw" = "$2" ]
}
stop_component() {
	[ -d "$1" ] || return 0
	_real=$(cd "$1" && pwd -P) || return 1
	if [ -f "$1/unit" ] && command -v systemctl >/dev/null 2>&1; then
		_u=$(cat "$1/unit")
		systemctl stop "$_u" >/dev/null 2>&1
		systemctl disable "$_u" >/dev/null 2>&1
	fi
	_s=$(cat "$1/supervisor.pid" 2>/dev/null)
	if ours "$_s" "$_real"; then
		kill -TERM "$_s" 2>/dev/null
		_i=0
		while ours "$_s" "$_real" && [ $_i -lt %d ]; do sleep 0.1; _i=$((_i+1)); done
		kill -s KILL -- "-$_s" 2>/dev/null
		kill -s KILL "$_s" 2>/dev/null
	fi
	_c=$(cat "$1/child.pid" 2>/dev/null)
	if ours "$_c" "$_real"; then
		kill -TERM "$_c" 2>/dev/null
		_i=0
		while ours "$_c" "$_real" && [ $_i -lt %d ]; do sleep 0.1; _i=$((_i+1)); done
		kill -s KILL "$_c" 2>/dev/null
	fi
	_k=$(strays "$1" "$_real")
	if [ -n "$_k" ]; then
		kill -TERM $_k 2>/dev/null
		_i=0
		while [ -n "$(strays "$1" "$_real")" ] && [ $_i -lt %d ]; do sleep 0.1; _i=$((_i+1)); done
		_k=$(strays "$1" "$_real")
		[ -n "$_k" ] && kill -s KILL $_k 2>/dev/null
	fi
	rm -f "$1/supervisor.pid" "$1/child.pid"
}
`, ticks, ticks, ticks)
}

// startScript is start.sh: it becomes the DB-GPT process (exec), with the
// component directory as working directory and the env files exported.
// Each run counts itself in attempts and marks its start in the log (see
// attemptRe), so the lines of the attempt that failed can be told apart.
func startScript(address, dir string, argv, args []string, logMax int64) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# hactl: starts %s; overwritten on every deploy\n", address)
	fmt.Fprintf(&b, "cd %s || exit 1\n", host.Quote(dir))
	fmt.Fprintf(&b, "%s=%s\nexport %s\n", envMarker, host.Quote(dir), envMarker)
	// One date for both times, the shell's read for the count: every
	// process started here delays the process's own start.
	b.WriteString("echo $$ > child.pid\n_t=$(date -u '+%s %Y-%m-%dT%H:%M:%SZ')\necho \"${_t%% *}\" > started_at\n")
	b.WriteString("a=; [ -r " + fileAttempts + " ] && read -r a < " + fileAttempts + "\na=$(( ${a:-0} + 1 ))\necho \"$a\" > " + fileAttempts + "\n")
	b.WriteString("echo \"hactl: ${_t#* } attempt $a starting\"\n")
	b.WriteString(shAlive)
	b.WriteString(shRotate(logMax))
	// $$ is this shell, which becomes the process: the rotator lives as
	// long as it does (and is one of the component's processes, see
	// envMarker, so stopping the component stops it too).
	b.WriteString("hactl_rotate $$ </dev/null >/dev/null 2>&1 &\n")
	b.WriteString("set -a\n. ./env\n. ./secret.env\nset +a\n")
	b.WriteString("exec " + host.Join(append(append([]string(nil), argv...), args...)...) + "\n")
	return []byte(b.String())
}

// shRotate defines hactl_rotate PID: while PID lives, when the log is
// larger than max bytes, copy it to log.1 and empty it in place
// (copytruncate). Every writer of the log (run.sh's >> log, systemd's
// StandardOutput=append:) opens it with O_APPEND, so after the truncation
// each writes at the new end; lines written between the copy and the
// truncation are lost. The note saying so is made before the truncation,
// so the log is empty only between two builtins (readers cope anyway:
// shTailLog).
//
// Each look costs two processes (sleep, wc), so the next look comes
// when the log could near its cap at the rate it grew since the last: after
// a second while it grows fast or was just rotated, after up to 8 seconds
// while it is quiet (a server of many components is not kept busy by
// their rotators: 2 processes a second each before).
func shRotate(max int64) string {
	return fmt.Sprintf(`hactl_rotate() {
	umask 077
	_w=1 _p=0
	while alive "$1"; do
		sleep $_w
		_n=$(wc -c < %[1]s 2>/dev/null) || continue
		_n=${_n:-0}
		if [ "$_n" -gt %[2]d ]; then
			_m="hactl: $(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ) log rotated at $_n bytes (cap %[2]d): the earlier lines are in %[3]s"
			cp %[1]s %[3]s.tmp && mv -f %[3]s.tmp %[3]s && : > %[1]s && echo "$_m" >> %[1]s
			_w=1 _p=0
			continue
		fi
		_g=$(( (_n - _p) / _w ))
		_p=$_n
		if [ "$_g" -gt 0 ]; then
			_w=$(( (%[2]d - _n) / _g / 2 ))
		else
			_w=$(( _w * 2 ))
		fi
		[ "$_w" -ge 1 ] || _w=1
		[ "$_w" -le 8 ] || _w=8
	done
}
`, fileLog, max, fileLogOld)
}

// dbgptArgv is the server's dbgpt command as words (program first).
func dbgptArgv(s *schema.Server) []string {
	if len(s.DBGPTArgv) > 0 {
		return s.DBGPTArgv
	}
	if s.DBGPTCommand != "" {
		return []string{s.DBGPTCommand}
	}
	return []string{"dbgpt"}
}

// shRecordExit appends "<epoch> <status> <uptime s>" ($now, $rc, $began)
// to the exits file and keeps its last 10 lines.
const shRecordExit = `	echo "$now $rc $((now - began))" >> ` + fileExits + `
	tail -n 10 ` + fileExits + ` > ` + fileExits + `.tmp && mv ` + fileExits + `.tmp ` + fileExits + `
`

// runScript is run.sh, the supervisor: it runs start.sh, restarts it when it
// exits (backoff 1s doubling to 30s, reset after a minute of uptime), counts
// restarts, records each exit ("<epoch> <status> <uptime seconds>", the
// last 10) in exits, and on SIGTERM forwards it to the process, waits up to
// stopTimeout, then SIGKILLs it and exits.
func runScript(address, dir string, stopTimeout time.Duration) []byte {
	secs := int(stopTimeout / time.Second)
	if secs < 1 {
		secs = 1
	}
	return []byte(fmt.Sprintf(`#!/bin/sh
# hactl: supervises %[1]s; overwritten on every deploy
cd %[2]s || exit 1
`+shAlive+`
echo $$ > supervisor.pid
child=
sleeper=
stop() {
	trap '' TERM INT HUP
	[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		i=0
		while alive "$child" && [ $i -lt %[3]d ]; do sleep 0.1; i=$((i+1)); done
		if alive "$child"; then
			echo "hactl: process $child did not exit %[4]ds after SIGTERM: killed"
			kill -s KILL "$child" 2>/dev/null
		fi
		wait "$child" 2>/dev/null
	fi
	rm -f supervisor.pid child.pid
	echo "hactl: $(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ) supervisor stopped"
	exit 0
}
trap stop TERM INT HUP
backoff=1
while :; do
	sh ./start.sh </dev/null &
	child=$!
	began=$(date +%%s)
	wait "$child"
	rc=$?
	now=$(date +%%s)
`+shRecordExit+`
	[ $((now - began)) -ge 60 ] && backoff=1
	n=$(cat restarts 2>/dev/null)
	n=$(( ${n:-0} + 1 ))
	echo "$n" > restarts
	echo "hactl: $(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ) process exited with status $rc; restart $n in ${backoff}s"
	sleep "$backoff" &
	sleeper=$!
	wait "$sleeper"
	sleeper=
	backoff=$((backoff * 2))
	[ "$backoff" -gt 30 ] && backoff=30
done
`, address, host.Quote(dir), secs*10, secs))
}

// unitFile is the systemd unit used instead of run.sh where systemd runs;
// user and group, when set, are whom its processes run as.
func unitFile(cluster, address, dir string, stopTimeout time.Duration, user, group string) []byte {
	// systemd.unit(5): '%' starts a specifier in every value here, "%%" is
	// a literal '%'. systemd.service(5): ExecStart expands $NAME and ${NAME},
	// "$$" is a literal '$'; a double-quoted word takes C-style escapes.
	pct := func(s string) string { return strings.ReplaceAll(s, "%", "%%") }
	q := func(s string) string {
		s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%", "$", "$$").Replace(s)
		return `"` + s + `"`
	}
	// User names are plain (schema checks them): no quoting needed.
	ids := ""
	if user != "" {
		ids = "User=" + user + "\n"
		if group != "" {
			ids += "Group=" + group + "\n"
		}
	}
	// StartLimitIntervalSec=0: restart for ever, as run.sh does (the
	// default gives up after 5 starts in 10 s).
	return []byte(fmt.Sprintf(`# hactl: %s of cluster %s; overwritten on every deploy
[Unit]
Description=hactl %s %s
After=network-online.target
StartLimitIntervalSec=0

[Service]
Type=simple
%sWorkingDirectory=%s
ExecStart=/bin/sh %s
Restart=always
RestartSec=2
TimeoutStopSec=%d
StandardOutput=append:%s
StandardError=append:%s

[Install]
WantedBy=multi-user.target
`, address, cluster, pct(cluster), pct(address), ids, pct(dir), q(dir+"/start.sh"), int(stopTimeout/time.Second)+1, pct(dir+"/log"), pct(dir+"/log")))
}
