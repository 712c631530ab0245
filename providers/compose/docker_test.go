package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readInspect reads testdata/docker-inspect.json: `docker inspect` of two
// containers captured from Docker Engine 20.10: a healthy worker and an
// exited database, on the network hactlcap29096_hactl.
func readInspect(t *testing.T) []container {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "docker-inspect.json"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := parseInspect(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("%d containers in the sample", len(cs))
	}
	return cs
}

func TestParseInspectRecorded(t *testing.T) {
	cs := readInspect(t)
	db, w := cs[0], cs[1]
	if w.ID != "16ad35b74940460a7ca98c30c69489f19ba0a47c97fa338e72f93ab3c8541c8f" || w.Name != "/hactlcap29096_worker-llm_1" ||
		w.Config.Image != "hactl-e2e/base:latest" {
		t.Errorf("worker container %s %s %s", w.ID, w.Name, w.Config.Image)
	}
	if !w.State.Running || w.State.Status != "running" || w.State.Pid != 831 || w.health() != "healthy" {
		t.Errorf("worker state %+v, health %q", w.State, w.health())
	}
	if want := time.Date(2026, 12, 7, 9, 0, 20, 965086519, time.UTC); !w.startedAt().Equal(want) {
		t.Errorf("worker started at %v", w.startedAt())
	}
	if n := w.NetworkSettings.Networks["hactlcap29096_hactl"]; n.IPAddress == "" || !containsStr(n.Aliases, "worker-llm") {
		t.Errorf("worker network %+v", w.NetworkSettings.Networks)
	}
	if db.State.Running || db.State.Status != "exited" || db.State.ExitCode != 3 || db.health() != "" {
		t.Errorf("database state %+v", db.State)
	}
	obs := observed(cs)
	if len(obs) != 1 {
		t.Fatalf("observed %+v, want the worker only", obs)
	}
	o := obs[0]
	if o.Address != "worker.llm" || o.Server != "worker-llm" || o.Port != 8001 || o.Hash != "sha256:abc" ||
		o.PID != 831 || !o.Running || o.Attributes["model"] != "llm@llm" || o.StartedAt.IsZero() {
		t.Errorf("observed worker %+v", o)
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestParseInspectRejectsGarbage(t *testing.T) {
	if _, err := parseInspect("Error: No such object: x\n"); err == nil || !strings.Contains(err.Error(), "docker inspect") {
		t.Errorf("err = %v", err)
	}
	if cs, err := parseInspect("[]"); err != nil || len(cs) != 0 {
		t.Errorf("empty list: %v %v", cs, err)
	}
}

func TestStartedAt(t *testing.T) {
	for s, zero := range map[string]bool{
		"2026-11-26T15:01:44.123456789Z": false,
		"2026-11-26T16:01:44+01:00":      false,
		"0001-01-01T00:00:00Z":           true, // never started
		"":                               true,
		"yesterday":                      true,
	} {
		var c container
		c.State.StartedAt = s
		if got := c.startedAt(); got.IsZero() != zero {
			t.Errorf("startedAt(%q) = %v", s, got)
		}
	}
}

// A stopped container of a component is observed not running, without a
// PID; bad attribute JSON leaves the attributes empty.
func TestObservedStoppedAndOddLabels(t *testing.T) {
	var c container
	c.Config.Labels = map[string]string{LabelComponent: "webserver", LabelRole: "webserver", LabelPort: "x",
		LabelAttributes: "{not json"}
	c.State.Pid, c.State.Running, c.State.Restarting = 12, true, true
	obs := observed([]container{c})
	if len(obs) != 1 || obs[0].Running || obs[0].PID != 0 || obs[0].Port != 0 || len(obs[0].Attributes) != 0 {
		t.Errorf("observed %+v", obs)
	}
	c.State.Restarting, c.State.Paused = false, true
	if obs := observed([]container{c}); obs[0].Running {
		t.Error("a paused container is observed running")
	}
}

func TestLastLines(t *testing.T) {
	if got := lastLines("a\nb\nc\nd\n", 2); got != "c\nd" {
		t.Errorf("lastLines = %q", got)
	}
	if got := lastLines("one", 5); got != "one" {
		t.Errorf("lastLines = %q", got)
	}
}

// run and runCombined over a real program (sh): stdout on success; on
// failure the command, the exit status and the last lines of stderr (else
// stdout).
func TestRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	out, err := run(ctx, dir, "sh", "-c", "pwd; echo ignored >&2")
	if err != nil || strings.TrimSpace(out) != dir {
		t.Errorf("run = %q, %v", out, err)
	}
	out, err = run(ctx, "", "sh", "-c", "echo partial; for i in $(seq 1 30); do echo line$i >&2; done; exit 3")
	if err == nil || out != "partial\n" {
		t.Fatalf("run = %q, %v", out, err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "sh -c ") || !strings.Contains(msg, "exit status 3") || !strings.HasSuffix(msg, "line30") ||
		strings.Contains(msg, "line15\n") || !strings.Contains(msg, "line16\n") {
		t.Errorf("run error = %q", msg)
	}
	_, err = run(ctx, "", "sh", "-c", "echo only-stdout; exit 1")
	if err == nil || !strings.HasSuffix(err.Error(), "only-stdout") {
		t.Errorf("run error without stderr = %v", err)
	}
	out, err = runCombined(ctx, "sh", "-c", "echo out; echo err >&2")
	if err != nil || !strings.Contains(out, "out\n") || !strings.Contains(out, "err\n") {
		t.Errorf("runCombined = %q, %v", out, err)
	}
	out, err = runCombined(ctx, "sh", "-c", "echo boom >&2; exit 2")
	if err == nil || out != "boom\n" || !strings.Contains(err.Error(), "exit status 2: boom") {
		t.Errorf("runCombined = %q, %v", out, err)
	}
}

func TestChooseCompose(t *testing.T) {
	ctx := context.Background()
	fail := errors.New("fail\nsecond line")
	type call struct{ plugin, lookV1, v1 error }
	for _, tc := range []struct {
		name  string
		want  string // HACTL_COMPOSE_CLI
		c     call
		got   string
		calls string
		err   string
	}{
		{"plugin", "", call{nil, nil, nil}, "docker compose", "docker compose version", ""},
		{"v1", "", call{fail, nil, nil}, "docker-compose", "docker compose version|docker-compose version", ""},
		{"v1 broken", "", call{fail, nil, fail}, "", "docker compose version|docker-compose version", "neither"},
		{"none", "", call{fail, fail, nil}, "", "docker compose version", "neither"},
		{"v2 asked", "v2", call{nil, nil, nil}, "docker compose", "docker compose version", ""},
		{"v2 asked, absent", "v2", call{fail, nil, nil}, "", "docker compose version", "HACTL_COMPOSE_CLI=v2, but the docker compose plugin does not answer: fail"},
		{"v1 asked", "v1", call{nil, nil, nil}, "docker-compose", "docker-compose version", ""},
		{"v1 asked, absent", "v1", call{nil, fail, nil}, "", "", "HACTL_COMPOSE_CLI=v1, but docker-compose does not answer: fail"},
		{"v1 asked, broken", "v1", call{nil, nil, fail}, "", "docker-compose version", "HACTL_COMPOSE_CLI=v1, but docker-compose does not answer"},
		{"unknown", "v3", call{nil, nil, nil}, "", "", `HACTL_COMPOSE_CLI="v3": want v1`},
	} {
		var calls []string
		runFn := func(_ context.Context, dir, name string, args ...string) (string, error) {
			calls = append(calls, strings.Join(append([]string{name}, args...), " "))
			if name == "docker" {
				return "", tc.c.plugin
			}
			return "", tc.c.v1
		}
		lookPath := func(string) (string, error) { return "/usr/bin/docker-compose", tc.c.lookV1 }
		got, err := chooseCompose(ctx, tc.want, runFn, lookPath)
		if strings.Join(got, " ") != tc.got || (tc.got == "") != (err != nil) {
			t.Errorf("%s: %v, %v", tc.name, got, err)
		}
		if err != nil && (!strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "second line")) {
			t.Errorf("%s: error %q, want %q on one line", tc.name, err, tc.err)
		}
		if err != nil && (cliFix(err) == "" || tc.want != "" && !strings.Contains(cliFix(err), "HACTL_COMPOSE_CLI")) {
			t.Errorf("%s: fix %q", tc.name, cliFix(err))
		}
		if strings.Join(calls, "|") != tc.calls {
			t.Errorf("%s: ran %q", tc.name, calls)
		}
	}
}
