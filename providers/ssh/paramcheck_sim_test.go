package ssh

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/schema"
)

// TestSimWorkerParams runs pre-flight against dbgpt-sim's real
// `start worker --model_name … --model_path … --help`: a params key that
// is not an option of the worker is a problem naming the model, the key
// and where the file writes it; a key that is one is not. The help page is
// read once per server, model and version.
func TestSimWorkerParams(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("../../cmd/dbgpt-sim/main.go"); err != nil {
		t.Skip("cmd/dbgpt-sim not present")
	}
	sim := simBinary(t)
	ctx := context.Background()
	root := t.TempDir()
	os.Chmod(root, 0o755)
	models := filepath.Join(root, "models", "glm")
	os.MkdirAll(models, 0o755)
	wrapper := filepath.Join(root, "dbgpt")
	os.WriteFile(wrapper, []byte(fmt.Sprintf("#!/bin/sh\nDBGPT_SIM_VERSION=0.6.3 exec %s \"$@\"\n", sim)), 0o755)
	src := fmt.Sprintf(simCluster, "0.6.3", `  transport = "local"`, filepath.Join(root, "deploy"), wrapper, filepath.Join(root, "reg", "registry.db"), models, freePort(t), freePort(t))
	src = strings.Replace(src, "model \"glm\" {\n  type = \"llm\"\n", "model \"glm\" {\n  type = \"llm\"\n  params = {\n    tracer_file      = \"t.jsonl\"\n    max_context_sise = \"4096\"\n  }\n", 1)
	file := filepath.Join(root, "cluster.hcl")
	os.WriteFile(file, []byte(src), 0o644)
	c, err := schema.Load(file, schema.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := plan.Desired(c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(c, Options{Out: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for range 2 {
		probs := p.Preflight(ctx, c, want)
		if len(probs) != 1 {
			t.Fatalf("want one problem, got %v", probs)
		}
		what := probs[0].What
		line := 0
		for i, l := range strings.Split(src, "\n") {
			if strings.Contains(l, "max_context_sise") {
				line = i + 1
			}
		}
		loc := fmt.Sprintf(" (%s:%d,5)", file, line)
		if len(c.Workers[0].Model.ParamRanges) == 0 {
			loc = "" // until schema records where params keys are written
		}
		if probs[0].Component != "worker.llm" || !strings.HasPrefix(what, `model "glm": params key "max_context_sise" is not an option of DB-GPT 0.6.3's worker for this model`+loc) {
			t.Errorf("problem %+v (want location %s)", probs[0], loc)
		}
	}
	if len(p.help) != 1 {
		t.Errorf("help pages read: %d", len(p.help))
	}
}
