package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/jsonschematest"
)

// A local cluster with short heartbeats: the checker runs every 2 s and
// the timeout is 25 s (above the WorkerManager@service row's fixed 20 s
// beat), so a controller's window is 27 s; %[8]s is the second controller
// (or nothing).
const drillCluster = `
cluster {
  name          = "local-drill"
  dbgpt_version = "%[1]s"
}

server "local" {
  transport     = "local"
  address       = "127.0.0.1"
  deploy_dir    = "%[2]s/deploy"
  dbgpt_command = "%[3]s"
}

registry "sqlite" {
  path = "%[2]s/registry.db"
}

model "glm-4-9b-chat" {
  type = "llm"
  path = "%[2]s/models/glm"
}

controller "c1" {
  server             = server.local
  port               = %[4]d
  heartbeat_interval = 2
  heartbeat_timeout  = 25
}
%[8]s
worker "llm" {
  server             = server.local
  model              = model.glm-4-9b-chat
  port               = %[6]d
  heartbeat_interval = 2
}

webserver {
  server      = server.local
  port        = %[7]d
  default_llm = model.glm-4-9b-chat
}
`

const drillSecondController = `
controller "c2" {
  server             = server.local
  port               = %d
  heartbeat_interval = 2
  heartbeat_timeout  = 25
}
`

func writeDrillCluster(t *testing.T, root, dbgpt string, ports []int, two bool) string {
	t.Helper()
	second := ""
	if two {
		second = fmt.Sprintf(drillSecondController, ports[1])
	}
	file := filepath.Join(root, "cluster.hcl")
	src := fmt.Sprintf(drillCluster, "0.6.3", root, dbgpt, ports[0], ports[1], ports[2], ports[3], second)
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// The drill on a real local cluster (dbgpt-sim, transport local): the dry
// run changes nothing; both controllers drilled in turn prove it HA with
// figures that fit the heartbeat settings; a killed worker is detected
// between the timeout and timeout + interval; Ctrl-C in the middle of a
// controller's window restores it before hactl exits; afterwards plan shows
// no changes. Then with one controller: not HA, exit 2, restored.
func TestLocalDrill(t *testing.T) {
	hactl, sim := buildBins(t)
	root := t.TempDir()
	ports := freePorts(t, 4)
	dbgpt := simRoot(t, root, sim, "0.6.3")
	file := writeDrillCluster(t, root, dbgpt, ports, true)
	h := hactlRun{t: t, bin: hactl, file: file}
	t.Cleanup(func() { _ = exec.Command(hactl, "destroy", "--auto-approve", "-f", file).Run() })
	h.run(0, "apply", "-auto-approve")
	pids := observePIDs(t, file)

	out := h.run(0, "drill", "--dry-run", "--target", "controller.c2,worker.llm")
	if !strings.Contains(out, "drill 1/2 controller.c2: would stop controller.c2, check every second for 27s (heartbeat timeout 25s + interval 2s)") ||
		!strings.Contains(out, "drill 2/2 worker.llm: would kill worker.llm") || !strings.Contains(out, "nothing was changed") {
		t.Fatalf("dry run:\n%s", out)
	}
	if again := observePIDs(t, file); fmt.Sprint(again) != fmt.Sprint(pids) {
		t.Fatalf("the dry run changed processes: %v -> %v", pids, again)
	}
	h.run(1, "drill", "--target", "registry") // SQLite: hactl cannot stop it

	// Both controllers, as JSON: every line valid, figures consistent.
	js := h.run(0, "drill", "-json")
	sch, err := jsonschematest.Load(jsonschematest.UIStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := jsonschematest.Stream(sch, strings.NewReader(js)); err != nil {
		t.Fatalf("drill -json: %v\n%s", err, js)
	}
	rep := lastReport(t, js)
	t.Logf("controller drill report: %s", reportJSON(rep))
	if !rep.HA || len(rep.Steps) != 2 {
		t.Fatalf("not HA:\n%s", js)
	}
	for _, s := range rep.Steps {
		// The WorkerManager@service row beats every 20 s: its age stays
		// below that (and a second's slack), far from the timeout.
		if s.Verdict != "ha" || !s.Restored || s.Checks < 25 || s.FailedChecks != 0 || s.DownSeconds < 27 ||
			s.MaxHeartbeatAgeSeconds == nil || *s.MaxHeartbeatAgeSeconds > 22 {
			t.Errorf("step %+v", s)
		}
	}

	// A killed worker: detected between the timeout and timeout + interval
	// after its last heartbeat (a second's slack for the checks' pace).
	out = h.run(0, "drill", "--target", "worker.llm", "-json")
	rep = lastReport(t, out)
	t.Logf("worker drill report: %s", reportJSON(rep))
	if s := rep.Steps[0]; s.DetectSeconds == nil || *s.DetectSeconds < 25 || *s.DetectSeconds > 28 || !s.Restored || s.Verdict != "ha" {
		t.Errorf("worker step %+v", s)
	}

	// Ctrl-C in the middle of a controller's window.
	var buf syncBuffer
	run := exec.Command(hactl, "drill", "--target", "controller.c1", "-json", "-f", file)
	run.Stdout, run.Stderr = &buf, &buf
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the drill's checks while controller.c1 is down", func() bool {
		return strings.Contains(buf.String(), `"second":2,`)
	})
	_ = run.Process.Signal(syscall.SIGINT)
	werr := make(chan error, 1)
	go func() { werr <- run.Wait() }()
	select {
	case err := <-werr:
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 || !strings.Contains(buf.String(), `"phase":"restored"`) {
			t.Fatalf("interrupted drill: %v\n%s", err, buf.String())
		}
	case <-time.After(90 * time.Second):
		_ = run.Process.Kill()
		t.Fatalf("the interrupted drill did not end:\n%s", buf.String())
	}
	h.run(0, "status", "--check")
	out = h.run(0, "plan", "-detailed-exitcode")
	if !strings.Contains(out, "No changes.") {
		t.Fatalf("plan after the drills:\n%s", out)
	}

	// One controller: not HA, exit 2, and it is back.
	h.run(0, "destroy", "-auto-approve")
	writeDrillCluster(t, root, dbgpt, ports, false)
	h.run(0, "apply", "-auto-approve")
	out = h.run(2, "drill", "--mode", "kill")
	if !strings.Contains(out, "no other controller") || !strings.Contains(out, "NOT highly available") {
		t.Fatalf("one controller:\n%s", out)
	}
	h.run(0, "status", "--check")
}

// syncBuffer is a buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type drillStep struct {
	Target                 string   `json:"target"`
	Verdict                string   `json:"verdict"`
	Checks                 int      `json:"checks"`
	FailedChecks           int      `json:"failed_checks"`
	DownSeconds            float64  `json:"down_seconds"`
	MaxHeartbeatAgeSeconds *float64 `json:"max_heartbeat_age_seconds"`
	DetectSeconds          *float64 `json:"detect_seconds"`
	RestoreSeconds         *float64 `json:"restore_seconds"`
	Restored               bool     `json:"restored"`
	WebserverErrors        struct {
		Count int `json:"count"`
	} `json:"webserver_errors"`
	Problems []string `json:"problems"`
}

type drillReport struct {
	HA    bool        `json:"ha"`
	Steps []drillStep `json:"steps"`
}

func lastReport(t *testing.T, stream string) drillReport {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stream), "\n")
	var m struct {
		Type string      `json:"type"`
		Hook drillReport `json:"hook"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil || m.Type != "drill_report" {
		t.Fatalf("last line is no drill_report (%v):\n%s", err, stream)
	}
	return m.Hook
}

func reportJSON(r drillReport) string {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(r)
	return b.String()
}
