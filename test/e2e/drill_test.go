package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/drill"
	"github.com/hactl/hactl/internal/status"
)

// Issue 11: hactl drill on the live cluster. The SSH scenario (both
// generations) runs drillHA; TestComposeDrill runs it on compose with a
// registry drill and a one-controller cluster.

// drillMessage is one line of `hactl drill -json`.
type drillMessage struct {
	Type    string          `json:"type"`
	Message string          `json:"@message"`
	Hook    json.RawMessage `json:"hook"`
}

// drillReport returns the drill_report of a drill's JSON lines.
func drillReport(t *testing.T, r hactlResult) drill.Report {
	t.Helper()
	var rep *drill.Report
	sc := bufio.NewScanner(strings.NewReader(r.Stdout))
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		var m drillMessage
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue // standard error, where a caller merged it in
		}
		if m.Type == "drill_report" {
			rep = new(drill.Report)
			if err := json.Unmarshal(m.Hook, rep); err != nil {
				t.Fatalf("drill_report: %v\n%s", err, m.Hook)
			}
		}
	}
	if rep == nil {
		t.Fatalf("no drill_report in the drill's output\n%s", r)
	}
	return *rep
}

// drillHA runs, on a healthy HA cluster whose controllers beat every
// interval and time out after timeout (seconds): the controller drill
// (each controller stopped in turn), the worker drill on worker, and a
// controller drill interrupted by Ctrl-C; afterwards nothing is down and
// plan shows no changes.
func drillHA(t *testing.T, h *hactlCLI, worker string, interval, timeout int) {
	t.Helper()
	tmo, ivl := time.Duration(timeout)*time.Second, time.Duration(interval)*time.Second

	// 1. Each controller in turn; the models stay live through the other.
	r := h.must(0, cmdTimeout, "drill", "-json")
	rep := drillReport(t, r)
	if !rep.HA || len(rep.Steps) != 2 {
		t.Fatalf("controller drill: HA %v, %d steps\n%s", rep.HA, len(rep.Steps), r)
	}
	for i, s := range rep.Steps {
		if want := fmt.Sprintf("controller.controller%d", i+1); s.Target != want || s.Verdict != drill.VerdictHA || !s.Restored {
			t.Errorf("step %d: %s verdict %q restored %v, want %s ha restored: %v", i+1, s.Target, s.Verdict, s.Restored, want, s.Problems)
		}
		// Checked every second for at least one heartbeat timeout and
		// interval; no row older than the timeout was seen.
		if s.WindowSeconds < (tmo+ivl).Seconds() || s.Checks < timeout+interval-1 {
			t.Errorf("%s: window %.1fs with %d checks, want at least %s", s.Target, s.WindowSeconds, s.Checks, tmo+ivl)
		}
		if s.MaxHeartbeatAgeSeconds == nil || *s.MaxHeartbeatAgeSeconds > tmo.Seconds() {
			t.Errorf("%s: longest heartbeat age %s, want at most the timeout %s", s.Target, known(s.MaxHeartbeatAgeSeconds), tmo)
		}
		if s.DownSeconds == nil || *s.DownSeconds < s.WindowSeconds || s.RestoreSeconds == nil {
			t.Errorf("%s: down %s (window %.1fs), restore %s", s.Target, known(s.DownSeconds), s.WindowSeconds, known(s.RestoreSeconds))
		}
		t.Logf("%s: down %.1fs, %d checks, longest heartbeat age %.1fs, webserver errors %d, restored in %.1fs",
			s.Target, *s.DownSeconds, s.Checks, *s.MaxHeartbeatAgeSeconds, s.WebserverErrors.Count, *s.RestoreSeconds)
	}

	// 2. A worker killed: every controller marks it unhealthy between the
	// timeout and timeout + interval after its last heartbeat.
	r = h.must(0, cmdTimeout, "drill", "--target", "worker."+worker, "-json")
	rep = drillReport(t, r)
	if len(rep.Steps) != 1 || rep.Steps[0].DetectSeconds == nil || !rep.Steps[0].Restored {
		t.Fatalf("worker drill:\n%s", r)
	}
	s := rep.Steps[0]
	// last_heartbeat has whole seconds, and the drill looks once a second.
	if d := *s.DetectSeconds; d < tmo.Seconds()-1 || d > (tmo+ivl).Seconds()+2 {
		t.Errorf("worker drill: detected %.1fs after the last heartbeat, want between %s and %s", d, tmo, tmo+ivl)
	}
	t.Logf("worker.%s: detected %.1fs after its last heartbeat (timeout %s, interval %s), restored in %.1fs", worker, *s.DetectSeconds, tmo, ivl, *s.RestoreSeconds)

	// 3. Ctrl-C while controller1 is down: it is back and healthy when
	// hactl exits.
	interruptedDrill(t, h, "controller.controller1")
	rep2 := h.status()
	c, _ := componentByName(rep2, "controller.controller1")
	if c.State != status.StateRunning {
		t.Errorf("after the interrupted drill controller1 is %s: %s", c.State, c.Reason)
	}

	// 4. Nothing left down.
	if r := h.must(0, cmdTimeout, "plan", "-detailed-exitcode"); !strings.Contains(r.Stdout, "No changes.") {
		t.Errorf("plan after the drills:\n%s", r)
	}
}

// interruptedDrill starts a drill of target, sends SIGINT once the target is
// down and waits for hactl to exit; it fails unless hactl says it restored it.
func interruptedDrill(t *testing.T, h *hactlCLI, target string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, "drill", "--target", target, "-json")
	cmd.Dir = h.dir
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), h.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	sc := bufio.NewScanner(io.TeeReader(out, &all))
	interrupted := false
	for sc.Scan() {
		var m struct {
			Type string          `json:"type"`
			Hook drill.StepEvent `json:"hook"`
		}
		if json.Unmarshal(sc.Bytes(), &m) == nil && m.Type == "drill_step" && m.Hook.Phase == drill.PhaseDown && !interrupted {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			interrupted = true
		}
	}
	err = cmd.Wait()
	if !interrupted {
		t.Fatalf("the drill never said %s was down: %v\n%s\n%s", target, err, all.String(), stderr.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	text := all.String() + stderr.String()
	if code != 1 || !strings.Contains(text, "restored") {
		t.Errorf("interrupted drill: exit %d, want 1 and a word that %s was restored\n%s", code, target, text)
	}
	t.Logf("interrupted drill: exit %d\n%s", code, stderr.String())
}

// TestComposeDrill: the drill on the compose provider, both generations
// (0.6 under compose v1, 0.7 under v2, side by side): every controller
// killed in turn, the registry database stopped (the sim's controllers lose
// their heartbeat checker thread, as DB-GPT's do: the report names them,
// plan replaces them, apply repairs), and a cluster with one controller,
// which the drill finds not HA (exit 2) and restores.
func TestComposeDrill(t *testing.T) {
	t.Parallel()
	for _, v := range []struct{ version, cli string }{{"0.6.3", "v1"}, {"0.7.0", "v2"}} {
		t.Run(v.version, func(t *testing.T) {
			t.Parallel()
			if composeCLIVersion(v.cli) == "" {
				if os.Getenv("CI") == "true" {
					t.Fatalf("compose %s is not installed, and CI runs the drill under it", v.cli)
				}
				t.Skipf("compose %s is not installed", v.cli)
			}
			composeDrill(t, v.version, v.cli)
		})
	}
}

// Short heartbeats: controllers check every 2 s and time rows out after 12 s
// (6 s left a worker too little time to fail over on a loaded machine)
// (the worker manager's own row beats every 2 s too: a dbgpt-sim knob).
const (
	drillInterval = 2
	drillTimeout  = 12
)

func composeDrill(t *testing.T, version, cli string) {
	e := newComposeEnv(t, version).withCLI(cli).variant("drill", func(src string) string {
		src = controllerBlockRe.ReplaceAllString(src, fmt.Sprintf("$1\n  heartbeat_interval = %d\n  heartbeat_timeout  = %d\n}", drillInterval, drillTimeout))
		src = workerPortRe.ReplaceAllString(src, fmt.Sprintf("$1\n  heartbeat_interval = %d", drillInterval))
		return src + `
defaults {
  env = {
    DBGPT_SIM_MANAGER_HEARTBEAT = "2s"
    DBGPT_SIM_PROBE_INTERVAL    = "1s"
  }
}
`
	})
	e.must(10*time.Minute, "apply", "-auto-approve")
	e.modelsLiveVia(90*time.Second, "controller1", "controller2")

	// Every controller killed in turn: HA.
	out := e.must(5*time.Minute, "drill", "--mode", "kill", "-json")
	rep := drillReport(t, hactlResult{Stdout: out})
	if !rep.HA || len(rep.Steps) != 2 || !rep.Steps[0].Restored || !rep.Steps[1].Restored {
		t.Fatalf("controller drill on compose:\n%s", out)
	}
	for _, s := range rep.Steps {
		t.Logf("%s (kill): down %.1fs, %d checks, longest heartbeat age %s, restored in %s", s.Target, *s.DownSeconds, s.Checks, known(s.MaxHeartbeatAgeSeconds), known(s.RestoreSeconds))
	}

	// The registry database stopped for 8 s: the controllers' heartbeat
	// checkers die; the report names them, plan replaces them, apply
	// repairs them.
	out, code := e.run(5*time.Minute, "drill", "--target", "registry", "--duration", "8s", "-json")
	rep = drillReport(t, hactlResult{Stdout: out})
	if len(rep.Steps) != 1 || !rep.Steps[0].Restored {
		t.Fatalf("registry drill: exit %d\n%s", code, out)
	}
	// A controller whose pooled connection to the vanished database hangs
	// (no answer, not refused) sees its checker die only when that
	// connection fails, which may be after the drill's window: the report
	// names at least one, and plan then replaces every one it named.
	died := rep.Steps[0].CheckerDied
	if len(died) == 0 || code != 2 {
		t.Errorf("registry drill: checker died in %q, want the controllers' (exit %d)\n%s", died, code, out)
	}
	t.Logf("registry drill: exit %d, verdict %q, checker died: %v, problems: %v", code, rep.Steps[0].Verdict, died, rep.Steps[0].Problems)
	out, code = e.run(2*time.Minute, "plan", "-detailed-exitcode")
	if code != 2 || !strings.Contains(out, "heartbeat checker") {
		t.Fatalf("plan after the registry drill: exit %d\n%s", code, out)
	}
	for _, c := range died {
		if !strings.Contains(out, c+" must be replaced") {
			t.Errorf("plan after the registry drill does not replace %s:\n%s", c, out)
		}
	}
	// apply repairs them; a checker that died late is repaired by the next.
	for round := 1; ; round++ {
		e.must(5*time.Minute, "apply", "-auto-approve")
		out, code := e.run(2*time.Minute, "plan", "-detailed-exitcode")
		if code == 0 {
			break
		}
		if round == 3 || !strings.Contains(out, "heartbeat checker") {
			t.Fatalf("plan after the repair (round %d): exit %d\n%s", round, code, out)
		}
		t.Logf("a checker died after the drill's window; apply again:\n%s", out)
	}

	// One controller: not HA, exit 2, and restored.
	e.edit(func(src string) string { return controller2Re.ReplaceAllString(src, "") })
	e.must(5*time.Minute, "apply", "-auto-approve")
	out, code = e.run(5*time.Minute, "drill", "-json")
	rep = drillReport(t, hactlResult{Stdout: out})
	if code != 2 || rep.HA || len(rep.Steps) != 1 || rep.Steps[0].Verdict != drill.VerdictNotHA || !rep.Steps[0].Restored {
		t.Fatalf("drill of a one-controller cluster: exit %d\n%s", code, out)
	}
	t.Logf("one controller: %v", rep.Steps[0].Problems)
	e.modelsLiveVia(90*time.Second, "controller1")
	e.must(5*time.Minute, "destroy", "-auto-approve", "--purge-registry")
}

var (
	controllerBlockRe = regexp.MustCompile(`(controller "controller\d" \{\n  server = server\.server\d)\n\}`)
	workerPortRe      = regexp.MustCompile(`(\n  port   = 800\d)`)
	controller2Re     = regexp.MustCompile(`(?s)controller "controller2" \{.*?\n\}\n`)
)
