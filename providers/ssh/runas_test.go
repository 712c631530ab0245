package ssh

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/schema"
)

const runAsCluster = `
cluster {
  name          = "runas"
  dbgpt_version = "0.6.3"
}
server "s1" {
%s
  address       = "127.0.0.1"
  deploy_dir    = %q
  dbgpt_command = %q
  run_as        = %q
  log_max_size  = "64KiB"
}
registry "sqlite" {
  path = %q
}
controller "c1" {
  server = server.s1
  port   = %d
  env    = { SECRET_ISH = "x" }
}
`

// runAsUser is an unprivileged user of this machine for run_as tests
// (tests never create users): nobody, which Debian always has.
func runAsUser(t *testing.T) *user.User {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("run_as needs root")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody on this machine")
	}
	return u
}

// TestRunAsAndLogCap deploys a dbgpt-sim controller with an SQLite
// registry that runs as another user and writes 200 KiB of log a second,
// over SSH and locally: the registry, the
// process and every file of its directory are that user's (the secret
// environment still 0600), its log stays near its 64 KiB cap with the
// rest in log.1, and removing it leaves no process (the rotator neither).
func TestRunAsAndLogCap(t *testing.T) {
	t.Parallel()
	u := runAsUser(t)
	uid, _ := strconv.Atoi(u.Uid)
	sim := simBinary(t)
	for _, e := range transports(t) {
		t.Run(e.transport, func(t *testing.T) {
			ctx := context.Background()
			root := t.TempDir()
			// The user must reach the directories on the way.
			os.Chmod(filepath.Dir(root), 0o755)
			os.Chmod(root, 0o755)
			wrapper := filepath.Join(root, "dbgpt")
			os.WriteFile(wrapper, []byte(fmt.Sprintf("#!/bin/sh\nDBGPT_SIM_CHATTY=200KiB exec %s \"$@\"\n", sim)), 0o755)
			conn := `  transport = "local"`
			if e.sshd != nil {
				conn = fmt.Sprintf("  ssh_port = %d\n  key_file = %q\n  known_hosts_file = %q", e.sshd.Port, e.sshd.ClientKey, e.sshd.KnownHosts)
			}
			port := freePort(t)
			deployDir := filepath.Join(root, "deploy")
			regFile := filepath.Join(root, "reg", "registry.db")
			load := func(runAs string) *schema.Cluster {
				file := filepath.Join(root, "cluster-"+runAs+".hcl")
				os.WriteFile(file, []byte(fmt.Sprintf(runAsCluster, conn, deployDir, wrapper, runAs, regFile, port)), 0o644)
				c, err := schema.Load(file, schema.LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				return c
			}

			// A user that does not exist: pre-flight says how to create it.
			c := load("hactl-no-such-user")
			want, err := plan.Desired(c)
			if err != nil {
				t.Fatal(err)
			}
			p := newTestProvider(t, c)
			probs := p.Preflight(ctx, c, want)
			if len(probs) != 1 || !strings.Contains(probs[0].Error(), `run_as user "hactl-no-such-user" does not exist (create it, e.g. useradd --system --no-create-home hactl-no-such-user)`) {
				t.Errorf("pre-flight of a missing user: %v", probs)
			}

			c = load(u.Username)
			want, err = plan.Desired(c)
			if err != nil {
				t.Fatal(err)
			}
			p = newTestProvider(t, c)
			if probs := p.Preflight(ctx, c, want); len(probs) != 0 {
				t.Fatalf("pre-flight: %v", probs)
			}
			// hactl creates the SQLite registry (as root): its directory and
			// file go to the user, whose controller writes it.
			if err := p.Registry(c).Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			if err := p.Deploy(ctx, want[0]); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{regFile, filepath.Dir(regFile)} {
				if fi, err := os.Stat(f); err != nil || int(fi.Sys().(*syscall.Stat_t).Uid) != uid {
					t.Errorf("%s is not %s's: %v", f, u.Username, err)
				}
			}
			dir := filepath.Join(deployDir, "runas", "controller.c1")
			removed := false
			defer func() {
				if !removed {
					obs, _ := p.Observe(ctx, c)
					for _, o := range obs {
						p.Remove(ctx, o)
					}
				}
			}()
			obs, err := p.Observe(ctx, c)
			if err != nil || len(obs) != 1 || !obs[0].Running {
				t.Fatalf("observed %+v %v", obs, err)
			}
			if got := procUID(t, obs[0].PID); got != uid {
				t.Errorf("the process runs as uid %d, want %d (%s)", got, uid, u.Username)
			}
			for _, name := range []string{".", "start.sh", "run.sh", "env", "secret.env", "log", "manifest.json", "child.pid"} {
				fi, err := os.Lstat(filepath.Join(dir, name))
				if err != nil {
					t.Error(err)
					continue
				}
				if owner := int(fi.Sys().(*syscall.Stat_t).Uid); owner != uid {
					t.Errorf("%s belongs to uid %d, want %d", name, owner, uid)
				}
				if (name == "secret.env" || name == "log") && fi.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v", name, fi.Mode().Perm())
				}
			}
			// The deploy directory above stays root's.
			if fi, err := os.Stat(deployDir); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 0 {
				t.Errorf("deploy_dir: %v", err)
			}

			// The log is rotated: log.1 appears, and log stays within its
			// cap plus what 200 KiB/s adds between two checks.
			const limit = 64<<10 + 2*200<<10
			deadline := time.Now().Add(30 * time.Second)
			for {
				if fi, err := os.Stat(filepath.Join(dir, "log.1")); err == nil && fi.Size() > 64<<10 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("no log.1 within 30s")
				}
				time.Sleep(100 * time.Millisecond)
			}
			for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
				if fi, err := os.Stat(filepath.Join(dir, "log")); err == nil && fi.Size() > limit {
					t.Fatalf("log is %d bytes, over %d", fi.Size(), limit)
				}
			}
			if fi, _ := os.Stat(filepath.Join(dir, "log.1")); fi == nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("log.1: %v", fi)
			}
			logs, err := p.Logs(ctx, obs[0], 5)
			if err != nil || !strings.Contains(logs, "GET /api/health") {
				t.Errorf("logs: %q %v", logs, err)
			}

			if err := p.Remove(ctx, obs[0]); err != nil {
				t.Fatal(err)
			}
			removed = true
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s is still there: %v", dir, err)
			}
			if left := processesIn(dir); len(left) > 0 {
				t.Errorf("processes left in %s: %v", dir, left)
			}
		})
	}
}

func procUID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "Uid:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatalf("no Uid in /proc/%d/status", pid)
	return -1
}

// processesIn lists the pids whose working directory is dir.
func processesIn(dir string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd"); err == nil && (cwd == dir || cwd == dir+" (deleted)") {
			out = append(out, e.Name())
		}
	}
	return out
}
