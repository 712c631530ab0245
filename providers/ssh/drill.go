package ssh

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/host"
)

var _ providers.FaultInjector = (*Provider)(nil)

// faultWait bounds the waits of Down and Up on the server: until the
// processes are gone, until the new process runs.
const faultWait = 20 * time.Second

// Down takes the component's process down for hactl drill and keeps it
// down: nothing restarts it until Up.
//
//   - stop, systemd: systemctl stop (the unit stays enabled; stopped, its
//     Restart= does not apply); run.sh: stop_component, SIGTERM to the
//     supervisor, which forwards it to the process and exits.
//   - kill, systemd: systemctl kill -s SIGKILL (every process of the unit)
//     then systemctl stop, which cancels the restart systemd scheduled;
//     run.sh: one SIGKILL to the supervisor's process group, the supervisor,
//     the process and every other process hactl started for the component
//     (the log rotator, a sleep), so none of them can react.
//
// It logs "hactl: <UTC time> drill: down (stop|kill)" in the component's log
// first, and returns once no process of the component is left.
func (p *Provider) Down(ctx context.Context, o providers.Observed, mode providers.FaultMode) error {
	if mode != providers.FaultStop && mode != providers.FaultKill {
		return fmt.Errorf("drill: %s: unknown fault mode %q (want %s or %s)", o.Address, mode, providers.FaultStop, providers.FaultKill)
	}
	s, err := p.server(o.Server)
	if err != nil {
		return fmt.Errorf("drill: taking %s down: %w", o.Address, err)
	}
	dir, err := componentDir(s, p.cluster.Name, o.Address)
	if err != nil {
		return err
	}
	out, err := p.host(s).Run(ctx, downScript(dir, mode, p.opts.StopTimeout), nil)
	if err != nil {
		return fmt.Errorf("drill: taking %s down (%s) on server %s: %w", o.Address, mode, s.Name, err)
	}
	if status := lastLine(strings.Split(strings.TrimSpace(string(out)), "\n")); status != "ok" {
		return fmt.Errorf("drill: taking %s down (%s) on server %s: %s", o.Address, mode, s.Name, strings.TrimSpace(string(out)))
	}
	fmt.Fprintf(p.opts.Out, "%s: drill: %s down (%s)\n", s.Name, o.Address, mode)
	return nil
}

// Up starts the component again as deployed, without rewriting any file
// or resetting its restart count: systemd: systemctl start; run.sh: the
// supervisor started as Deploy starts it (setsid; as the user the
// component directory belongs to, where hactl is root: run_as). It logs
// "hactl: <UTC time> drill: up" and returns once the process runs. A
// component already running is left as it is.
func (p *Provider) Up(ctx context.Context, o providers.Observed) error {
	s, err := p.server(o.Server)
	if err != nil {
		return fmt.Errorf("drill: bringing %s up: %w", o.Address, err)
	}
	dir, err := componentDir(s, p.cluster.Name, o.Address)
	if err != nil {
		return err
	}
	out, err := p.host(s).Run(ctx, upScript(dir, p.opts.StopTimeout), nil)
	if err != nil {
		return fmt.Errorf("drill: bringing %s up on server %s: %w", o.Address, s.Name, err)
	}
	status, rest, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if f := strings.Fields(status); len(f) == 2 && f[0] == "ok" {
		fmt.Fprintf(p.opts.Out, "%s: drill: %s up (pid %s)\n", s.Name, o.Address, f[1])
		return nil
	}
	msg := status
	if rest != "" {
		msg += "; the log's last lines:\n" + rest
	}
	return fmt.Errorf("drill: bringing %s up on server %s: %s", o.Address, s.Name, msg)
}

// shDrillLog defines drill_log TEXT: append "hactl: <UTC time> TEXT" to the
// log in the working directory (a component directory), when there is one;
// a link planted there is removed first, as Deploy does, for root writes.
const shDrillLog = `drill_log() {
	[ -L ` + fileLog + ` ] && rm -f ` + fileLog + `
	[ -f ` + fileLog + ` ] || return 0
	echo "hactl: $(date -u +%Y-%m-%dT%H:%M:%SZ) $1" >> ` + fileLog + `
}
`

// shUnitOf defines unit_of: the component's systemd unit in $u when systemd
// supervises it (the unit file names it and systemctl exists).
const shUnitOf = `unit_of() {
	u=
	[ -f ` + fileUnit + ` ] && command -v systemctl >/dev/null 2>&1 && u=$(cat ` + fileUnit + `)
	case $u in hactl-*.service) return 0;; esac
	u=
	return 1
}
`

// shPgid defines pgid PID: the process group of PID.
const shPgid = `pgid() {
	read -r _l < "/proc/$1/stat" 2>/dev/null || return 1
	_l=${_l##*") "}
	set -- $_l
	echo "$3"
}
`

func faultTicks() int { return int(faultWait / (100 * time.Millisecond)) }

// downScript is Down's script: it prints "ok" when nothing of the
// component runs any more.
func downScript(dir string, mode providers.FaultMode, stopTimeout time.Duration) string {
	return shStop(stopTimeout) + shDrillLog + shUnitOf + shPgid + fmt.Sprintf(`d=%s
mode=%s
[ -f "$d/`+fileManifest+`" ] || { echo "not deployed there: no $d/`+fileManifest+`"; exit 0; }
cd "$d" || exit 1
real=$(pwd -P) || exit 1
drill_log "drill: down ($mode)"
if unit_of; then
	if [ "$mode" = kill ]; then
		systemctl kill -s SIGKILL "$u" >/dev/null 2>&1
	fi
	# Stopped, the unit is not restarted (Restart= acts on exits while it
	# is wanted); after a kill this cancels the restart systemd scheduled.
	systemctl stop "$u" >/dev/null 2>&1
	i=0
	while systemctl is-active --quiet "$u" && [ $i -lt %[3]d ]; do sleep 0.1; i=$((i+1)); done
	if systemctl is-active --quiet "$u"; then
		echo "unit $u still $(systemctl is-active "$u" 2>/dev/null) after systemctl stop"
		exit 0
	fi
	echo ok
	exit 0
fi
if [ "$mode" = stop ]; then
	stop_component "$d" || exit 1
	left=$(strays "$d" "$real")
	[ -n "$left" ] && { echo "processes left after the stop: $(echo $left)"; exit 0; }
	echo ok
	exit 0
fi
# kill: one SIGKILL to every process of the component at once.
s=$(cat `+fileSupervisor+` 2>/dev/null)
k=$(cat `+fileChild+` 2>/dev/null)
pids=$(strays "$d" "$real")
grp=
if ours "$s" "$real"; then
	pids="$s $pids"
	[ "$(pgid "$s")" = "$s" ] && grp="-$s"
fi
ours "$k" "$real" && pids="$pids $k"
[ -n "$grp$pids" ] && kill -s KILL -- $grp $pids 2>/dev/null
i=0
while [ $i -lt %[3]d ]; do
	any=
	for x in $pids; do alive "$x" && any=1; done
	[ -z "$any" ] && [ -z "$(strays "$d" "$real")" ] && break
	# Anything new (a fork that was under way): killed too.
	more=$(strays "$d" "$real")
	[ -n "$more" ] && kill -s KILL $more 2>/dev/null
	sleep 0.1
	i=$((i+1))
done
left=$(strays "$d" "$real")
for x in $pids; do alive "$x" && left="$left $x"; done
[ -n "$left" ] && { echo "processes left after SIGKILL: $(echo $left)"; exit 0; }
rm -f `+fileSupervisor+` `+fileChild+`
echo ok
`, host.Quote(dir), host.Quote(string(mode)), faultTicks())
}

// upScript is Up's script: it prints "ok <pid>" once the process runs,
// else what went wrong and the log's last lines.
func upScript(dir string, stopTimeout time.Duration) string {
	return shStop(stopTimeout) + shDrillLog + shUnitOf + fmt.Sprintf(`d=%s
[ -f "$d/`+fileManifest+`" ] || { echo "not deployed there: no $d/`+fileManifest+`"; exit 0; }
cd "$d" || exit 1
real=$(pwd -P) || exit 1
tail_log() { tail -n 20 `+fileLog+` 2>/dev/null; }
if unit_of; then
	if ! systemctl is-active --quiet "$u"; then
		drill_log "drill: up"
		systemctl start "$u" >/dev/null 2>&1 || { echo "systemctl start $u failed: $(systemctl is-active "$u" 2>/dev/null)"; tail_log; exit 0; }
	fi
	i=0
	while [ $i -lt %[2]d ]; do
		m=$(systemctl show -p MainPID --value "$u" 2>/dev/null)
		if systemctl is-active --quiet "$u" && alive "$m"; then echo "ok $m"; exit 0; fi
		sleep 0.1
		i=$((i+1))
	done
	echo "unit $u is $(systemctl is-active "$u" 2>/dev/null), no main process after %[3]s"
	tail_log
	exit 0
fi
s=$(cat `+fileSupervisor+` 2>/dev/null)
if ! ours "$s" "$real"; then
	# Nothing may run beside the new supervisor (a process left by a
	# supervisor killed from outside): stopped first, as Deploy does.
	stop_component "$d" || exit 1
	drill_log "drill: up"
	# Set only now: stop_component takes processes with it for strays.
	`+envMarker+`=$d
	export `+envMarker+`
	own=
	if [ "$(id -u)" = 0 ]; then
		# Deploy gave the directory to run_as: the processes run as its owner.
		own=$(stat -c %%U . 2>/dev/null)
		[ "$own" = root ] || [ "$own" = UNKNOWN ] && own=
	fi
	if [ -n "$own" ]; then
		%[4]s
	else
		%[5]s
	fi
fi
i=0
while [ $i -lt %[2]d ]; do
	c=$(cat `+fileChild+` 2>/dev/null)
	if alive "$c"; then echo "ok $c"; exit 0; fi
	s=$(cat `+fileSupervisor+` 2>/dev/null)
	[ $i -gt 10 ] && ! alive "$s" && { echo "the supervisor exited"; tail_log; exit 0; }
	sleep 0.1
	i=$((i+1))
done
echo "no process %[3]s after starting the supervisor"
tail_log
`, host.Quote(dir), faultTicks(), faultWait, indent(startSupervisorAs(`"$own"`)), indent(startSupervisor("")))
}

func indent(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n\t\t")
}
