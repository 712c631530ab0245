package compose

import (
	"encoding/json"
	"testing"
	"time"
)

// A trimmed `docker inspect` of a running worker, a killed controller twice
// (an old exited copy and a running one) and the database.
const inspectJSON = `[
 {"Id":"a1","Name":"/p_worker-llm_1","RestartCount":2,
  "Config":{"Labels":{"dev.hactl.project":"p","dev.hactl.component":"worker.llm","dev.hactl.role":"worker",
   "dev.hactl.service":"worker-llm","dev.hactl.port":"8001","dev.hactl.hash":"sha256:w",
   "dev.hactl.attributes":"{\"port\":\"8001\",\"model\":\"llm@llm\"}"}},
  "State":{"Status":"running","Running":true,"Pid":4242,"StartedAt":"2026-11-26T15:01:44.123456789Z","Health":{"Status":"healthy"}}},
 {"Id":"b1","Name":"/p_controller1_1",
  "Config":{"Labels":{"dev.hactl.project":"p","dev.hactl.component":"controller.controller1","dev.hactl.role":"controller",
   "dev.hactl.service":"controller1","dev.hactl.port":"8000","dev.hactl.hash":"sha256:old"}},
  "State":{"Status":"exited","Running":false,"Pid":0,"StartedAt":"2026-11-26T15:00:00Z","ExitCode":137}},
 {"Id":"b2","Name":"/p_controller1_2",
  "Config":{"Labels":{"dev.hactl.project":"p","dev.hactl.component":"controller.controller1","dev.hactl.role":"controller",
   "dev.hactl.service":"controller1","dev.hactl.port":"8000","dev.hactl.hash":"sha256:c"}},
  "State":{"Status":"running","Running":true,"Pid":99,"StartedAt":"2026-11-26T15:02:00Z"}},
 {"Id":"d1","Name":"/p_registry-db_1",
  "Config":{"Labels":{"dev.hactl.project":"p","dev.hactl.role":"registry-database","dev.hactl.service":"registry-db"}},
  "State":{"Status":"running","Running":true,"Pid":7}}
]`

func TestObservedFromInspect(t *testing.T) {
	var cs []container
	if err := json.Unmarshal([]byte(inspectJSON), &cs); err != nil {
		t.Fatal(err)
	}
	obs := observed(cs)
	if len(obs) != 2 {
		t.Fatalf("observed %d components, want 2 (the database is not one): %+v", len(obs), obs)
	}
	w := obs[0]
	if w.Address != "worker.llm" || w.Role != "worker" || w.Server != "worker-llm" || w.Port != 8001 ||
		w.Hash != "sha256:w" || !w.Running || w.PID != 4242 || w.Restarts != 2 || w.Attributes["model"] != "llm@llm" {
		t.Errorf("worker = %+v", w)
	}
	if want := time.Date(2026, 11, 26, 15, 1, 44, 123456789, time.UTC); !w.StartedAt.Equal(want) {
		t.Errorf("started at %v", w.StartedAt)
	}
	c := obs[1]
	if !c.Running || c.Hash != "sha256:c" || c.PID != 99 {
		t.Errorf("controller: the running copy should win: %+v", c)
	}
}
