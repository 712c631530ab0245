package ssh

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/host"
)

var _ providers.StartWatcher = (*Provider)(nil)

// logTailLines is how much of the log Starts and Deploy's start check read
// to find the failed attempt's lines.
const logTailLines = 300

var (
	// attemptRe is start.sh's mark of an attempt's start.
	attemptRe = regexp.MustCompile(`^hactl: \S+ attempt \d+ starting$`)
	// deployRe is Deploy's mark: lines before it are of an older deploy.
	deployRe = regexp.MustCompile(`^hactl: \S+ deploy: starting$`)
	// exitRe is run.sh's line after an attempt exited.
	exitRe = regexp.MustCompile(`^hactl: \S+ process exited with status (\d+)`)
)

// attemptErrors cuts the log into attempts (at start.sh's marks; only the
// lines since the last deploy) and returns the error lines (see
// providers.ErrorLines) of the attempt that failed: the last one run.sh saw
// exit, else (systemd: no exit line) the one before the running attempt, or
// the last when the process does not run. status is that attempt's exit
// status when run.sh logged it.
func attemptErrors(log []string, running bool) (lines []string, status int, hasStatus bool) {
	for i := len(log) - 1; i >= 0; i-- {
		if deployRe.MatchString(log[i]) {
			log = log[i+1:]
			break
		}
	}
	type attempt struct {
		body    []string
		exited  bool
		status  int
		started bool
	}
	atts := []attempt{{}}
	for _, l := range log {
		if attemptRe.MatchString(l) {
			atts = append(atts, attempt{started: true})
			continue
		}
		cur := &atts[len(atts)-1]
		if m := exitRe.FindStringSubmatch(l); m != nil {
			cur.exited = true
			cur.status, _ = strconv.Atoi(m[1])
			continue
		}
		if strings.HasPrefix(l, "hactl: ") {
			continue
		}
		cur.body = append(cur.body, l)
	}
	if len(atts) > 1 && len(atts[0].body) == 0 {
		atts = atts[1:]
	}
	pick := -1
	for i := len(atts) - 1; i >= 0; i-- {
		if atts[i].exited {
			pick = i
			break
		}
	}
	if pick < 0 {
		pick = len(atts) - 1
		if running && pick > 0 {
			pick--
		}
	}
	a := atts[pick]
	return providers.ErrorLines(a.body), a.status, a.exited
}

// lastLine is the last line the process logged (not hactl's own).
func lastLine(log []string) string {
	for i := len(log) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(log[i]); l != "" && !strings.HasPrefix(l, "hactl: ") {
			return l
		}
	}
	return ""
}

// Starts reads, in one command, what the supervisor knows about the
// component's process since its last deploy: liveness, pid, the current
// attempt's start, restarts, the recorded exits (run.sh's exits file, or
// systemd's last exit), and from the log the failed attempt's error lines
// and the last line.
func (p *Provider) Starts(ctx context.Context, comp *plan.Component) (providers.Starts, error) {
	if comp == nil || comp.Server == nil {
		return providers.Starts{}, errors.New("starts: component without a server")
	}
	s := comp.Server
	dir, err := componentDir(s, p.cluster.Name, comp.Address)
	if err != nil {
		return providers.Starts{}, err
	}
	out, err := p.host(s).Run(ctx, startsScript(dir), nil)
	if err != nil {
		return providers.Starts{}, fmt.Errorf("reading the starts of %s on server %s: %w", comp.Address, s.Name, err)
	}
	return parseStarts(out)
}

// startsScript prints the component's state in the observe script's tags
// (one @@component), then @@exit lines (run.sh's exits file), @@sd
// KEY=VALUE lines and @@sdts KEY EPOCH lines of its systemd unit, and
// @@log lines (the log's tail).
func startsScript(dir string) string {
	return shAlive + shState + fmt.Sprintf(`c=%s
[ -d "$c" ] || exit 0
echo "@@component ."
state "$c"
[ -f "$c/exits" ] && sed 's/^/@@exit /' "$c/exits"
if [ -n "$u" ] && command -v systemctl >/dev/null 2>&1; then
	systemctl show -p ExecMainStatus -p ExecMainCode "$u" 2>/dev/null | sed 's/^/@@sd /'
	for k in ExecMainStartTimestamp ExecMainExitTimestamp; do
		t=$(systemctl show -p "$k" --value "$u" 2>/dev/null)
		[ -n "$t" ] && echo "@@sdts $k $(date -d "$t" +%%s 2>/dev/null)"
	done
fi
[ -f "$c/log" ] && { tail -n %[2]d "$c/`+fileLogOld+`" 2>/dev/null; tail -n %[2]d "$c/log"; } | tail -n %[2]d | sed 's/^/@@log /'
exit 0
`, host.Quote(dir), logTailLines)
}

// parseStarts reads startsScript's output.
func parseStarts(out []byte) (providers.Starts, error) {
	fs, err := parseObserve(out)
	if err != nil || len(fs) == 0 {
		return providers.Starts{}, err
	}
	f := fs[0]
	o := f.observed()
	st := providers.Starts{Running: o.Running, PID: o.PID, StartedAt: f.startedAt, Restarts: f.restarts}
	var log []string
	sd := map[string]string{}
	sdts := map[string]time.Time{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		tag, rest, _ := strings.Cut(sc.Text(), " ")
		switch tag {
		case "@@exit":
			x := strings.Fields(rest)
			if len(x) != 3 {
				continue
			}
			at, err1 := strconv.ParseInt(x[0], 10, 64)
			code, err2 := strconv.Atoi(x[1])
			up, err3 := strconv.ParseInt(x[2], 10, 64)
			if err1 == nil && err2 == nil && err3 == nil {
				st.Exits = append(st.Exits, providers.Exit{At: time.Unix(at, 0).UTC(), Status: code, Uptime: time.Duration(up) * time.Second})
			}
		case "@@sd":
			if k, v, ok := strings.Cut(rest, "="); ok {
				sd[k] = v
			}
		case "@@sdts":
			if k, v, ok := strings.Cut(rest, " "); ok {
				if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n > 0 {
					sdts[k] = time.Unix(n, 0).UTC()
				}
			}
		case "@@log":
			log = append(log, rest)
		}
	}
	if f.unitSeen {
		st.Exits = systemdExits(st, sd, sdts)
		if t, ok := sdts["ExecMainStartTimestamp"]; ok {
			st.StartedAt = t
		}
	}
	st.LastLine = lastLine(log)
	if st.Restarts > 0 || len(st.Exits) > 0 || !st.Running {
		st.ErrorLines, _, _ = attemptErrors(log, st.Running)
	}
	return st, sc.Err()
}

// systemdExits is what systemd tells of the unit's exits: the last one
// only (ExecMainStatus, ExecMainCode: 1 exited, 2 killed, 3 dumped), and
// only when it restarted or is not running. Its uptime is known when the
// exit is of the attempt that started last.
func systemdExits(st providers.Starts, sd map[string]string, ts map[string]time.Time) []providers.Exit {
	if st.Restarts == 0 && st.Running {
		return nil
	}
	code, err := strconv.Atoi(sd["ExecMainStatus"])
	if err != nil {
		return nil
	}
	if c := sd["ExecMainCode"]; c == "2" || c == "3" {
		code += 128
	}
	e := providers.Exit{Status: code, At: ts["ExecMainExitTimestamp"]}
	if start, ok := ts["ExecMainStartTimestamp"]; ok && !e.At.IsZero() && !e.At.Before(start) {
		e.Uptime = e.At.Sub(start)
	}
	return []providers.Exit{e}
}
