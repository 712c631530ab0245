package views

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hactl/hactl/drill"
	"github.com/hactl/hactl/internal/jsonschematest"
	"github.com/hactl/hactl/providers"
)

func f(v float64) *float64 { return &v }

func drillFixture() (*drill.Report, []any) {
	rep := &drill.Report{Cluster: "dbgpt-ha", Steps: []drill.StepReport{
		{Target: "controller.c1", Kind: drill.KindController, Mode: providers.FaultStop, Verdict: drill.VerdictHA, Through: []string{"controller.c2"},
			DownSeconds: f(81.2), WindowSeconds: 80, Checks: 81, MaxHeartbeatAgeSeconds: f(20.4), RestoreSeconds: f(6.1), Restored: true},
		{Target: "worker.llm", Kind: drill.KindWorker, Mode: providers.FaultKill, Verdict: drill.VerdictNotHA, WindowSeconds: 105, Checks: 70, DetectSeconds: f(71),
			WebserverErrors: drill.ErrorCount{Count: 2, First: "webserver: refused", Last: "webserver: timeout"}, Restored: true, RestoreSeconds: f(12),
			Problems: []string{"controller.c2 did not mark it unhealthy"}},
		{Target: "registry", Kind: drill.KindRegistry, Mode: providers.FaultStop, Verdict: drill.VerdictNotHA, WindowSeconds: 160, Checks: 160, FailedChecks: 160,
			ControllerErrors: &drill.ErrorCount{Count: 320, First: "controller.c1: 500", Last: "controller.c2: 500"}, Restored: true, RestoreSeconds: f(3),
			CheckerDied: []string{"controller.c1"}, Problems: []string{"controller.c1: its heartbeat checker thread died"}},
	}}
	evs := []any{
		drill.StepEvent{Step: 1, Steps: 3, Target: "controller.c1", Kind: drill.KindController, Mode: providers.FaultStop, Phase: drill.PhaseDown, ElapsedSeconds: 0.4},
		drill.Check{Step: 1, Target: "controller.c1", Second: 1, OK: true, Live: 2, Want: 2, MaxHeartbeatAgeSeconds: f(3)},
		drill.Check{Step: 1, Target: "controller.c1", Second: 2, Want: 2, Errors: []string{"glm@llm stale through controller.c2"}},
		drill.StepEvent{Step: 1, Steps: 3, Target: "controller.c1", Kind: drill.KindController, Mode: providers.FaultStop, Phase: drill.PhaseUp, ElapsedSeconds: 81},
		drill.StepEvent{Step: 1, Steps: 3, Target: "controller.c1", Kind: drill.KindController, Mode: providers.FaultStop, Phase: drill.PhaseRestored, ElapsedSeconds: 87, Detail: "healthy 6.1s after it was started again"},
		drill.StepEvent{Step: 1, Steps: 3, Target: "controller.c1", Kind: drill.KindController, Mode: providers.FaultStop, Phase: drill.PhaseVerdict, Verdict: drill.VerdictHA},
		drill.StepEvent{Step: 2, Steps: 3, Target: "worker.llm", Kind: drill.KindWorker, Mode: providers.FaultKill, Phase: drill.PhaseLeftDown, ElapsedSeconds: 300, Detail: "starting it again failed"},
		drill.StepEvent{Step: 2, Steps: 3, Target: "worker.llm", Kind: drill.KindWorker, Mode: providers.FaultKill, Phase: drill.PhaseVerdict, Verdict: drill.VerdictNotHA, Detail: "x"},
	}
	return rep, evs
}

func TestDrillJSONIsValid(t *testing.T) {
	rep, evs := drillFixture()
	var out bytes.Buffer
	j := NewJSON(&out)
	for _, ev := range evs {
		j.Event(ev.(interface{ Type() string }))
	}
	j.DrillReport(rep)
	j.DrillReport(&drill.Report{Cluster: "x", DryRun: true, Steps: []drill.StepReport{{Target: "registry", Kind: drill.KindRegistry, Mode: providers.FaultStop, Verdict: drill.VerdictPlanned, WindowSeconds: 160}}})
	if err := jsonschematest.Stream(uiSchema(t), bytes.NewReader(out.Bytes())); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	msgs := lines(t, out.Bytes())
	if m := msgs[len(msgs)-2]; m["type"] != "drill_report" || m["@level"] != "error" || !strings.Contains(m["@message"].(string), "NOT highly available (2 worker.llm, 3 registry)") {
		t.Errorf("report message %v", m)
	}
	if m := msgs[7]; m["type"] != "drill_step" || m["@level"] != "error" {
		t.Errorf("left-down message %v", m)
	}
}

func TestDrillHuman(t *testing.T) {
	rep, evs := drillFixture()
	var out, errw bytes.Buffer
	h := NewHuman(&out, &errw, false)
	for _, ev := range evs {
		h.Event(ev.(interface{ Type() string }))
	}
	if err := DrillReport(&out, rep); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"drill 1/3 controller.c1: down (stop) [0s]\n",
		"drill 1/3 controller.c1: restored [87s]: healthy 6.1s after it was started again\n",
		"drill 1/3 controller.c1: HA\n",
		"drill 2/3 worker.llm: LEFT DOWN [300s]: starting it again failed\n",
		"STEP  TARGET         MODE  DOWN  CHECKS  FAILED  MAX HB AGE  WEB ERRORS  DETECT  RESTORE  VERDICT",
		"1     controller.c1  stop  81s   81      0       20s         0           -       6.1s     HA",
		"2     worker.llm     kill  -     70      0       -           2           71s     12s      NOT HA",
		"webserver/API server errors: 2, first: webserver: refused\n    last: webserver: timeout",
		"controllers' registry listings failed 320 time(s), first: controller.c1: 500",
		"heartbeat checker died on: controller.c1",
		"Drill complete: the cluster is NOT highly available (2 worker.llm, 3 registry).",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "0s ok") || strings.Contains(text, "stale through") {
		t.Errorf("the per-second checks are printed:\n%s", text)
	}
}
