package compose

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

func TestContainerStarts(t *testing.T) {
	var ct container
	ct.State.Running, ct.State.Pid = true, 42
	ct.State.StartedAt = "2026-12-01T10:00:05.5Z"
	ct.State.FinishedAt = "2026-12-01T10:00:03Z"
	ct.State.ExitCode = 2
	ct.RestartCount = 3
	st := containerStarts(ct)
	at := time.Date(2026, 12, 1, 10, 0, 3, 0, time.UTC)
	if !st.Running || st.PID != 42 || st.Restarts != 3 || !st.StartedAt.Equal(at.Add(2500*time.Millisecond)) ||
		len(st.Exits) != 1 || st.Exits[0] != (providers.Exit{At: at, Status: 2}) {
		t.Errorf("restarting: %+v", st)
	}
	// Stopped: the exit's uptime is known.
	ct.State.Running, ct.RestartCount = false, 0
	ct.State.StartedAt, ct.State.FinishedAt, ct.State.ExitCode = "2026-12-01T10:00:00Z", "2026-12-01T10:00:03Z", 137
	st = containerStarts(ct)
	if st.Running || st.PID != 0 || len(st.Exits) != 1 || st.Exits[0].Status != 137 || st.Exits[0].Uptime != 3*time.Second {
		t.Errorf("stopped: %+v", st)
	}
	// Running, never restarted (Docker's zero FinishedAt): no exit.
	ct.State.Running, ct.State.FinishedAt = true, "0001-01-01T00:00:00Z"
	if st := containerStarts(ct); len(st.Exits) != 0 {
		t.Errorf("fresh: %+v", st.Exits)
	}
}

// Starts reads the container's state and the error lines of the attempt
// before the current one (docker logs --until the current start).
func TestStartsRestarted(t *testing.T) {
	rec := recordedContainers(t, "ha-demo")
	ct := relabel(rec[1], "w1", "worker.llm", "worker-llm")
	state := map[string]any{"Status": "running", "Running": true, "Pid": 77, "ExitCode": 2,
		"StartedAt": "2026-12-01T10:00:05Z", "FinishedAt": "2026-12-01T10:00:04Z"}
	ct["State"], ct["RestartCount"] = state, 2
	calls, _ := fakeDockerOn(t, fakeState{Containers: []map[string]any{ct},
		Logs:      "Error: No such option: --x\nloading shards 1/4\n",
		LogsUntil: "Usage: dbgpt start worker [OPTIONS]\n\nError: No such option: --x\n"})
	p := newHA(t, nil)
	st, err := p.Starts(fakeCtx(t), &plan.Component{Address: "worker.llm"})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Running || st.PID != 77 || st.Restarts != 2 || len(st.Exits) != 1 || st.Exits[0].Status != 2 ||
		!slices.Equal(st.ErrorLines, []string{"Error: No such option: --x"}) || st.LastLine != "loading shards 1/4" {
		t.Errorf("starts %+v", st)
	}
	if !slices.Contains(calls(), "logs --tail 300 --until 2026-12-01T10:00:05Z w1") {
		t.Errorf("calls %q", calls())
	}
	if st, err := p.Starts(fakeCtx(t), &plan.Component{Address: "webserver"}); err != nil || st.Running {
		t.Errorf("no container: %+v %v", st, err)
	}
}

// A worker's params checked in the image check's one container: the
// worker's help page is asked for with its model name and path, and keys
// that are not options are reported.
func TestImageParamsCheck(t *testing.T) {
	p := newHA(t, func(c *schema.Cluster) {
		c.Models[0].Params = map[string]string{"max_context_sise": "8", "device": "cpu"}
	})
	comps := fakeComponents(p.Cluster())
	for _, c := range comps {
		if c.Address == "worker.llm" {
			c.Launch.Args = []string{"start", "worker", "--model_name", "glm-4-9b-chat", "--model_path", "/models/glm", "--port", "8001"}
		}
	}
	args, _, helps := p.checkImageCommand(comps)
	script := args[len(args)-4]
	if len(helps) != 1 || helps[0].component != "worker.llm" ||
		!strings.Contains(script, `h=$(dbgpt start worker --model_name glm-4-9b-chat --model_path /models/glm --help 2>&1 </dev/null); echo "hactl-whrc 0 $?"`) {
		t.Fatalf("helps %+v, script %s", helps, script)
	}
	out := "dbgpt, version 0.6.3\nhactl-whrc 0 0\nhactl-wh 0 Options:\nhactl-wh 0   --max_context_size INTEGER  size\nhactl-wh 0   --device TEXT  device\n"
	probs := append(p.imageProblems(out, nil, nil), p.helpProblems(out, nil, helps)...)
	if len(probs) != 1 || probs[0].Component != "worker.llm" ||
		!strings.HasPrefix(probs[0].What, `model "glm-4-9b-chat": params key "max_context_sise" is not an option of DB-GPT 0.6.3's worker for this model; did you mean "max_context_size"?`) {
		t.Errorf("problems %+v", probs)
	}
	// The 0.7 generation has no per-model flags: nothing to ask.
	p.c.Generation = schema.GenerationTOML
	if _, _, helps := p.checkImageCommand(comps); len(helps) != 0 {
		t.Errorf("0.7: helps %+v", helps)
	}
}

// Remove and Teardown keep a component's data directory; Teardown with
// purge deletes it.
func TestDataKeptInWorkDir(t *testing.T) {
	fakeDockerOn(t, fakeState{})
	p := newHA(t, nil)
	var out strings.Builder
	p.opts.Out = &out
	ctx := fakeCtx(t)
	meta := filepath.Join(p.WorkDir(), "webserver", "data", "dbgpt-meta.db")
	os.MkdirAll(filepath.Dir(meta), 0o700)
	os.WriteFile(meta, []byte("rows"), 0o600)
	os.WriteFile(filepath.Join(p.WorkDir(), "webserver", "dbgpt.toml"), []byte("x"), 0o600)
	if err := p.Remove(ctx, providers.Observed{Address: "webserver"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(meta); string(b) != "rows" {
		t.Fatal("Remove deleted the data")
	}
	if _, err := os.Stat(filepath.Join(p.WorkDir(), "webserver", "dbgpt.toml")); !os.IsNotExist(err) {
		t.Errorf("settings left: %v", err)
	}
	if !strings.Contains(out.String(), "kept the data of webserver in "+filepath.Dir(meta)) {
		t.Errorf("out: %q", out.String())
	}
	if err := p.Teardown(ctx, false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(meta); string(b) != "rows" {
		t.Fatal("Teardown deleted the data")
	}
	if _, err := os.Stat(filepath.Join(p.WorkDir(), ComposeFile)); !os.IsNotExist(err) {
		t.Errorf("project file left: %v", err)
	}
	if err := p.Teardown(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.WorkDir()); !os.IsNotExist(err) {
		t.Errorf("purge left the work directory: %v", err)
	}
	if !strings.Contains(out.String(), "deleted "+filepath.Dir(meta)) {
		t.Errorf("out: %q", out.String())
	}
}

// Paths the renderer writes under dbgpt.ComponentDir point into the
// container's component directory.
func TestBuildSubstitutesComponentDir(t *testing.T) {
	c, err := Adapt(haCluster())
	if err != nil {
		t.Fatal(err)
	}
	comps := fakeComponents(c)
	for _, comp := range comps {
		if comp.Address == "webserver" {
			comp.Launch.Args = append(comp.Launch.Args, "-c", dbgpt.ComponentDir+"/dbgpt.toml")
			comp.Launch.Files = map[string]dbgpt.File{"dbgpt.toml": {Content: []byte(`path = "` + dbgpt.ComponentDir + `/data/dbgpt-meta.db"` + "\n")}}
		}
	}
	proj, err := Build(c, comps, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := proj.Compose.Services["webserver"]
	if got := strings.Join(s.Command, " "); !strings.HasSuffix(got, "-c "+ContainerDir+"/dbgpt.toml") {
		t.Errorf("command %q", got)
	}
	for _, f := range proj.Files {
		if f.Path == "webserver/dbgpt.toml" && string(f.Content) != `path = "`+ContainerDir+`/data/dbgpt-meta.db"`+"\n" {
			t.Errorf("settings file %q", f.Content)
		}
	}
}
