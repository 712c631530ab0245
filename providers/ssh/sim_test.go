package ssh

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

var simBuild struct {
	once sync.Once
	bin  string
	err  error
}

// simBinary builds cmd/dbgpt-sim once (static, as on the test hosts).
func simBinary(t *testing.T) string {
	t.Helper()
	simBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "hactl-ssh-sim-")
		if err != nil {
			simBuild.err = err
			return
		}
		os.Chmod(dir, 0o755)
		simBuild.bin = filepath.Join(dir, "dbgpt-sim")
		cmd := exec.Command("go", "build", "-o", simBuild.bin, "../../cmd/dbgpt-sim")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			simBuild.err = fmt.Errorf("go build dbgpt-sim: %v\n%s", err, out)
		}
	})
	if simBuild.err != nil {
		t.Fatal(simBuild.err)
	}
	return simBuild.bin
}

const simCluster = `
cluster {
  name          = "simtest"
  dbgpt_version = %q
}
server "s1" {
%s
  address       = "127.0.0.1"
  deploy_dir    = %q
  dbgpt_command = %q
}
registry "sqlite" {
  path = %q
}
model "glm" {
  type = "llm"
  path = %q
}
controller "c1" {
  server = server.s1
  port   = %d
}
worker "llm" {
  server = server.s1
  model  = model.glm
  port   = %d
}
`

// TestDBGPTSim deploys a real dbgpt-sim controller and worker with an
// SQLite registry, from a cluster file through plan.Desired, in both
// generations, over SSH and locally: pre-flight clean, registry prepared,
// the worker registers through the controller (seen through DialContext and
// in the registry file), then everything is removed.
func TestDBGPTSim(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("../../cmd/dbgpt-sim/main.go"); err != nil {
		t.Skip("cmd/dbgpt-sim not present")
	}
	sim := simBinary(t)
	for _, e := range transports(t) {
		for _, version := range []string{"0.6.3", "0.7.0"} {
			t.Run(e.transport+"/"+version, func(t *testing.T) {
				ctx := context.Background()
				root := t.TempDir()
				os.Chmod(root, 0o755)
				models := filepath.Join(root, "models", "glm")
				os.MkdirAll(models, 0o755)
				wrapper := filepath.Join(root, "dbgpt")
				os.WriteFile(wrapper, []byte(fmt.Sprintf("#!/bin/sh\nDBGPT_SIM_VERSION=%s DBGPT_SIM_LOAD_DELAY=100ms DBGPT_SIM_REGISTER_DELAY=100ms exec %s \"$@\"\n", version, sim)), 0o755)
				conn := `  transport = "local"`
				if e.sshd != nil {
					conn = fmt.Sprintf("  ssh_port = %d\n  key_file = %q\n  known_hosts_file = %q", e.sshd.Port, e.sshd.ClientKey, e.sshd.KnownHosts)
				}
				ctlPort, workerPort := freePort(t), freePort(t)
				src := fmt.Sprintf(simCluster, version, conn, filepath.Join(root, "deploy"), wrapper, filepath.Join(root, "reg", "registry.db"), models, ctlPort, workerPort)
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
				pr, err := New(c, Options{StopTimeout: 5 * time.Second, Out: testWriter{t}})
				if err != nil {
					t.Fatal(err)
				}
				p := pr
				defer p.Close()
				if probs := p.Preflight(ctx, c, want); len(probs) != 0 {
					t.Fatalf("pre-flight: %v", probs)
				}
				if err := p.Registry(c).Ensure(ctx); err != nil {
					t.Fatal(err)
				}
				for _, comp := range want {
					if err := p.Deploy(ctx, comp); err != nil {
						t.Fatal(err)
					}
				}
				defer func() {
					obs, _ := p.Observe(ctx, c)
					for _, o := range obs {
						if err := p.Remove(ctx, o); err != nil {
							t.Error(err)
						}
					}
				}()
				// The worker registers through the controller.
				var rows []map[string]any
				deadline := time.Now().Add(time.Minute)
				for {
					body := get(t, p, c.Servers[0], ctlPort, "/api/controller/models")
					rows = nil
					_ = json.Unmarshal([]byte(body), &rows)
					if len(rows) >= 2 {
						break
					}
					if time.Now().After(deadline) {
						logs, _ := p.Logs(ctx, observedOf(t, p, c, "worker.llm"), 30)
						t.Fatalf("worker did not register within a minute: %s\nworker log:\n%s", body, logs)
					}
					time.Sleep(200 * time.Millisecond)
				}
				var names []string
				for _, r := range rows {
					names = append(names, fmt.Sprint(r["model_name"], "@", r["host"], ":", r["port"]))
				}
				if !strings.Contains(strings.Join(names, " "), fmt.Sprintf("glm@llm@127.0.0.1:%d", workerPort)) {
					t.Errorf("rows %v", names)
				}
				regRows, err := p.Registry(c).Rows(ctx)
				if err != nil || len(regRows) < 2 {
					t.Errorf("registry rows %+v %v", regRows, err)
				}
				obs, err := p.Observe(ctx, c)
				if err != nil || len(obs) != 2 || !obs[0].Running || !obs[1].Running {
					t.Errorf("observed %+v %v", obs, err)
				}
				// Pre-flight with everything deployed: ports held by their own components.
				if probs := p.Preflight(ctx, c, want); len(probs) != 0 {
					t.Errorf("pre-flight after deploy: %v", probs)
				}
			})
		}
	}
}

func observedOf(t *testing.T, p *Provider, c *schema.Cluster, address string) providers.Observed {
	obs, _ := p.Observe(context.Background(), c)
	for _, x := range obs {
		if x.Address == address {
			return x
		}
	}
	return providers.Observed{Address: address, Server: c.Servers[0].Name}
}
