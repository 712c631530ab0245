package engine_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/engine"
	"github.com/hactl/hactl/internal/status"
	"github.com/hactl/hactl/internal/testport"
	"github.com/hactl/hactl/schema"
)

const cluster = `
cluster {
  name          = "engine-test"
  dbgpt_version = "0.6.3"
}

server "local" {
  transport     = "local"
  address       = "127.0.0.1"
  deploy_dir    = "%[1]s/deploy"
  dbgpt_command = "%[2]s"
}

registry "sqlite" {
  path = "%[1]s/registry.db"
}

model "m" {
  type = "llm"
  path = "%[1]s/models/m"
}

controller "c1" {
  server = server.local
  port   = %[3]d
}

worker "m" {
  server = server.local
  model  = model.m
  port   = %[4]d
}
`

// The library without the command line: Open, Plan, Apply, Status,
// Destroy on this machine (transport local, dbgpt-sim as dbgpt, a SQLite
// registry). No cobra, no hactl binary.
func TestPlanApplyStatusDestroyThroughTheLibrary(t *testing.T) {
	root := t.TempDir()
	sim := filepath.Join(root, "dbgpt-sim")
	build := exec.Command("go", "build", "-o", sim, "../cmd/dbgpt-sim")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building dbgpt-sim: %v\n%s", err, out)
	}
	dbgpt := filepath.Join(root, "dbgpt")
	wrapper := fmt.Sprintf("#!/bin/sh\nDBGPT_SIM_LOAD_DELAY=100ms DBGPT_SIM_REGISTER_DELAY=100ms exec %s \"$@\"\n", sim)
	if err := os.WriteFile(dbgpt, []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "models", "m"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "cluster.hcl")
	src := fmt.Sprintf(cluster, root, dbgpt, testport.Free(t), testport.Free(t))
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := schema.Load(file, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := engine.Open(c, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t.Cleanup(func() {
		if p, err := s.DestroyPlan(context.Background()); err == nil {
			_, _ = s.Destroy(context.Background(), p, false, apply.Options{})
		}
	})

	p, err := s.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum := p.Summary(); sum.Add != 3 || sum.Change != 0 || sum.Destroy != 0 {
		t.Fatalf("first plan: %+v, want 3 to add (registry, controller, worker)", sum)
	}
	res, err := s.Apply(ctx, p, apply.Options{})
	if err != nil {
		t.Fatalf("apply: %v (done: %s)", err, res)
	}
	if res.Added != 3 {
		t.Errorf("apply: %s, want 3 added", res)
	}
	if p, err = s.Plan(ctx); err != nil || !p.Empty() {
		t.Fatalf("second plan: %v, empty %v", err, p != nil && p.Empty())
	}

	r, err := s.Status(ctx, status.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Healthy() || len(r.Models) != 2 {
		t.Errorf("status: healthy %v, %d model rows (want 2: m@llm, WorkerManager@service): %+v", r.Healthy(), len(r.Models), r.Models)
	}
	var pids []int
	for _, comp := range r.Components {
		if comp.State != status.StateRunning || comp.PID == 0 {
			t.Errorf("%s: %s pid %d", comp.Name, comp.State, comp.PID)
		}
		pids = append(pids, comp.PID)
	}

	dp, err := s.DestroyPlan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res, err = s.Destroy(ctx, dp, false, apply.Options{}); err != nil || res.Destroyed != 2 {
		t.Fatalf("destroy: %s, %v; want 2 destroyed", res, err)
	}
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("pid %d still runs after destroy", pid)
		}
	}
	if err := s.Logs(ctx, "c1", engine.LogsOptions{Lines: 10}, io.Discard); err == nil {
		t.Error("logs of a destroyed component: no error")
	}
}
