package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hactl/hactl/internal/status"
	"github.com/hactl/hactl/test/e2e/testcluster"
)

// Issue 10: the servers DB-GPT runs on are ordinary Linux machines. These
// tests run hactl as an operator does on them: systemd is PID 1, hactl logs
// in as the non-root user deploy and uses sudo, the servers are reached only
// through a bastion, and the processes run as the unprivileged service user
// dbgpt.

const (
	// chattyRate is how fast server3's components write to their log, and
	// logCap the cluster file's log_max_size: the log is rotated many times
	// over during the test.
	chattyRate = 256 << 10
	logCap     = 512 << 10
	// rebootTimeout bounds how long a rebooted host takes to bring its
	// components back and registered (the workers' start timeout is longer).
	rebootTimeout = 3 * time.Minute
)

// acceptedRe is a login of hactl's (root: the harness's own tunnel logs in as deploy).
var acceptedRe = regexp.MustCompile(`Accepted publickey for root from`)

// TestRealServers is the HA guide's topology on three systemd hosts, as
// deploy with sudo, through a bastion, the processes running as dbgpt: plan,
// apply, status, a no-op plan, kill -9 of a worker (systemd restarts it), a
// chatty component's log under its cap, a reboot of a host (its components
// come back without hactl), a port change, destroy leaving nothing.
func TestRealServers(t *testing.T) {
	t.Parallel() // a test cluster of its own
	bin := hactlBinary(t)
	tc := testcluster.Start(t, testcluster.Options{Systemd: true, Bastion: true, SimEnv: map[string]string{
		"DBGPT_SIM_MANAGER_HEARTBEAT": "2s",
		"DBGPT_SIM_PROBE_INTERVAL":    "1s",
		"DBGPT_SIM_LOAD_DELAY":        "200ms",
	}})
	dir := t.TempDir()
	p := tc.HAParams()
	p.DeployDir, p.HeartbeatInterval, p.HeartbeatTimeout, p.ConnectTimeout = deployDir, 2, 6, "5s"
	p.User, p.Sudo, p.RunAs, p.LogMaxSize = testcluster.DeployUser, true, testcluster.ServiceUser, strconv.Itoa(logCap)
	p.ServerEnv = map[string]map[string]string{testcluster.Server3: {"DBGPT_SIM_CHATTY": strconv.Itoa(chattyRate)}}
	if p.Jump == nil {
		t.Fatal("the bastion cluster's parameters have no jump host")
	}
	file := filepath.Join(dir, "cluster.hcl")
	write := func() {
		t.Helper()
		if err := os.WriteFile(file, testcluster.HAClusterFile(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write()
	// HACTL_VERBOSE: the provider's lines, among them how each server was reached.
	h := &hactlCLI{t: t, bin: bin, dir: dir, env: []string{"HACTL_VAR_registry_password=" + tc.DBPassword, "HACTL_VERBOSE=1"}}
	web := tc.HTTPClient()
	s1, s3 := p.Servers[testcluster.Server1], p.Servers[testcluster.Server3]
	bothControllers := []string{"controller.controller1", "controller.controller2"}

	before := map[string][]string{}
	for _, s := range testcluster.Hosts {
		before[s] = hactlFiles(t, tc, s)
	}

	// The arrangement itself: this machine cannot reach a server directly.
	step(t, "0-no-direct-route", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(s1, "22"), 5*time.Second)
		if err == nil {
			conn.Close()
			t.Fatalf("server1's sshd is reachable from this machine: the bastion proves nothing")
		}
		t.Logf("direct connection to server1: %v", err)
	})

	// Host keys are checked for the bastion as for the servers: a wrong
	// key for either stops the run before anything is done.
	step(t, "0-host-keys-checked", func(t *testing.T) {
		good, err := os.ReadFile(p.KnownHostsFile)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range []struct{ name, addr, says string }{
			{"the bastion", p.Jump.Address, "jump host of"},
			{"server2", p.Servers[testcluster.Server2], "server server2"},
		} {
			bad := filepath.Join(dir, "known_hosts.bad")
			if err := os.WriteFile(bad, replaceHostKey(t, good, target.addr), 0o600); err != nil {
				t.Fatal(err)
			}
			p.KnownHostsFile = bad
			write()
			r := h.must(1, cmdTimeout, "plan")
			if out := r.Stdout + r.Stderr; !strings.Contains(out, "does not match known_hosts") || !strings.Contains(out, target.says) {
				t.Errorf("plan with a wrong host key for %s:\n%s", target.name, r)
			}
		}
		p.KnownHostsFile = tc.KnownHostsPath
		write()
	})

	step(t, "1-plan-apply-status", func(t *testing.T) {
		logins := bastionLogins(t, tc)
		r := h.must(2, cmdTimeout, "plan", "-detailed-exitcode")
		if got := planSummary(r.Stdout); got != "Plan: 6 to add, 0 to change, 0 to destroy." {
			t.Fatalf("first plan: summary %q\n%s", got, r)
		}
		// One connection to the bastion carries the run's three servers.
		if n := bastionLogins(t, tc) - logins; n != 1 {
			t.Errorf("plan logged in to the bastion %d times, want 1", n)
		}
		for _, s := range testcluster.Hosts {
			want := fmt.Sprintf("connected to %s (deploy@%s:22 via jump host %s)", s, p.Servers[s], p.Jump.Address)
			if !strings.Contains(r.Stderr+r.Stdout, want) {
				t.Errorf("plan does not say %q\n%s", want, r)
			}
		}
		logins = bastionLogins(t, tc)
		r = h.must(0, cmdTimeout, "apply", "-auto-approve")
		if !strings.Contains(r.Stdout, "Resources: 6 added, 0 changed, 0 destroyed.") {
			t.Fatalf("first apply:\n%s", r)
		}
		if n := bastionLogins(t, tc) - logins; n != 1 {
			t.Errorf("apply logged in to the bastion %d times, want 1", n)
		}
		rep := h.status()
		for _, c := range rep.Components {
			if c.State != status.StateRunning || c.PID == 0 || c.UptimeSeconds == nil {
				t.Errorf("%s: state %s pid %d: %s", c.Name, c.State, c.PID, c.Reason)
			}
		}
		expectLive(t, rep, "glm-4-9b-chat", "llm", s3, 8001, bothControllers)
		expectLive(t, rep, "text2vec", "text2vec", s3, 8003, bothControllers)

		// Every component is an enabled systemd unit whose main process is
		// status's pid and runs as dbgpt; its files are dbgpt's, the
		// secret ones owner-only.
		for _, c := range rep.Components {
			server := serverOf(t, p, c)
			unit := strings.TrimSpace(mustExec(t, tc, server, "cat "+deployDir+"/e2e/"+c.Name+"/unit"))
			got := strings.Fields(mustExec(t, tc, server, "systemctl is-enabled "+unit+"; systemctl show -p MainPID --value "+unit+"; ps -o user= -p $(systemctl show -p MainPID --value "+unit+")"))
			if want := []string{"enabled", strconv.Itoa(c.PID), testcluster.ServiceUser}; !slices.Equal(got, want) {
				t.Errorf("%s: unit %s: enabled, main pid, user = %v, want %v", c.Name, unit, got, want)
			}
			cdir := deployDir + "/e2e/" + c.Name
			if left := strings.TrimSpace(mustExec(t, tc, server, "find "+cdir+" ! -user "+testcluster.ServiceUser)); left != "" {
				t.Errorf("%s: files not owned by %s:\n%s", c.Name, testcluster.ServiceUser, left)
			}
			if got := strings.TrimSpace(mustExec(t, tc, server, "stat -c '%a %U' "+cdir+"/secret.env")); got != "600 "+testcluster.ServiceUser {
				t.Errorf("%s: secret.env is %q, want 600 %s", c.Name, got, testcluster.ServiceUser)
			}
		}
		// The registry password is in no file others can read.
		for _, s := range testcluster.Hosts {
			if out := strings.TrimSpace(mustExec(t, tc, s, "find "+deployDir+" /etc/systemd/system -type f -perm -o=r -exec grep -lF "+quote(tc.DBPassword)+" {} + 2>/dev/null; true")); out != "" {
				t.Errorf("%s: world-readable files holding the registry password:\n%s", s, out)
			}
		}
		// hactl logs reads what systemd appends: start.sh's mark, and the
		// process's own output (server3's are chatty).
		r = h.must(0, cmdTimeout, "logs", "controller.controller1")
		if !strings.Contains(r.Stdout, "attempt 1 starting") {
			t.Errorf("hactl logs controller.controller1:\n%s", r)
		}
		r = h.must(0, cmdTimeout, "logs", "-n", "5", "worker.text2vec")
		if strings.Count(r.Stdout, `"GET /api/health HTTP/1.1" 200 OK`) != 5 {
			t.Errorf("hactl logs -n 5 worker.text2vec:\n%s", r)
		}
	})

	step(t, "2-no-op", func(t *testing.T) {
		r := h.must(0, cmdTimeout, "plan", "-detailed-exitcode")
		if !strings.Contains(r.Stdout, "No changes.") {
			t.Fatalf("second plan:\n%s", r)
		}
	})

	// kill -9 of a worker: systemd (not hactl) restarts it; status says so.
	step(t, "3-kill-worker", func(t *testing.T) {
		rep := h.status()
		w, _ := componentByName(rep, "worker.glm-4-9b-chat")
		mustExec(t, tc, testcluster.Server3, fmt.Sprintf("kill -9 %d", w.PID))
		eventually(t, time.Minute, time.Second, "the killed worker restarted by systemd and live again", func() error {
			rep := h.status()
			c, _ := componentByName(rep, "worker.glm-4-9b-chat")
			if c.State != status.StateRunning || c.PID == w.PID || c.Restarts == nil || *c.Restarts < 1 {
				return fmt.Errorf("state %s pid %d (was %d) restarts %s", c.State, c.PID, w.PID, known(c.Restarts))
			}
			rows := modelRows(rep, "glm-4-9b-chat", "llm", s3, 8001)
			if len(rows) != 1 || !rows[0].Live {
				return fmt.Errorf("rows %+v", rows)
			}
			return nil
		})
		txt := h.must(0, statusTimout, "status").Stdout
		t.Logf("status after kill -9:\n%s", txt)
	})

	// A chatty component's log stays under its cap (rotated to log.1).
	step(t, "4-log-cap", func(t *testing.T) {
		logf := deployDir + "/e2e/worker.text2vec/log"
		// At chattyRate the cap fills in two seconds; one rotation check a
		// second lets the log pass the cap by at most what is written
		// between two checks (and a loaded machine's lateness).
		limit := int64(logCap + 2*chattyRate)
		var written, last, largest int64
		deadline := time.Now().Add(12 * time.Second)
		for time.Now().Before(deadline) {
			out := mustExec(t, tc, testcluster.Server3, "stat -c %s "+logf+" "+logf+".1 2>/dev/null; true")
			sizes := strings.Fields(out)
			if len(sizes) == 0 {
				t.Fatalf("no log at %s", logf)
			}
			n, _ := strconv.ParseInt(sizes[0], 10, 64)
			if n > limit {
				t.Fatalf("the log is %d bytes, over its cap %d (+%d for the check interval)", n, logCap, 2*chattyRate)
			}
			if len(sizes) > 1 {
				m, _ := strconv.ParseInt(sizes[1], 10, 64)
				if m > limit {
					t.Fatalf("log.1 is %d bytes, over the cap", m)
				}
			}
			largest = max(largest, n)
			if n < last {
				written += last
			}
			last = n
			time.Sleep(200 * time.Millisecond)
		}
		if written < logCap {
			t.Fatalf("the log was never rotated in 12 s (chatty at %d B/s, cap %d)", chattyRate, logCap)
		}
		t.Logf("log of worker.text2vec (cap %d, %d B/s): >= %d bytes moved aside in 12 s; largest seen %d, limit %d", logCap, chattyRate, written, largest, limit)
	})

	// A reboot: the host's components come back by themselves (systemd)
	// and register again; hactl then finds nothing to do.
	step(t, "5-reboot", func(t *testing.T) {
		rebooted := time.Now()
		if err := tc.RestartHost(testcluster.Server3); err != nil {
			t.Fatal(err)
		}
		for _, ctl := range []string{testcluster.Server1, testcluster.Server2} {
			url := tc.URL(ctl, 8000) + "/api/controller/models"
			eventually(t, rebootTimeout, time.Second, "both models registered again through "+ctl, func() error {
				rows, err := listModelsWith(web, url)
				if err != nil {
					return err
				}
				// Healthy, and beating since the reboot began (the
				// controllers' clock is this machine's; seconds only).
				since := rebooted.UTC().Truncate(time.Second)
				for _, m := range []string{"glm-4-9b-chat@llm", "text2vec@text2vec"} {
					ok := false
					for _, r := range rows {
						beat, err := time.Parse("2006-01-02T15:04:05", r.Beat)
						if r.Model == m && r.Healthy && r.Host == s3 && err == nil && beat.After(since) {
							ok = true
						}
					}
					if !ok {
						return fmt.Errorf("%s not healthy with a heartbeat after %s: %+v", m, since.Format(time.TimeOnly), rows)
					}
				}
				return nil
			})
		}
		t.Logf("server3's components back and registered %s after the reboot began", time.Since(rebooted).Round(100*time.Millisecond))
		r := h.must(0, cmdTimeout, "plan", "-detailed-exitcode")
		if !strings.Contains(r.Stdout, "No changes.") {
			t.Fatalf("plan after the reboot:\n%s", r)
		}
		rep := h.status()
		for _, c := range rep.Components {
			if c.State != status.StateRunning {
				t.Errorf("after the reboot %s is %s: %s", c.Name, c.State, c.Reason)
			}
		}
	})

	step(t, "6-port-change", func(t *testing.T) {
		p.Text2VecPort = 8013
		write()
		r := h.must(2, cmdTimeout, "plan", "-detailed-exitcode")
		if !slices.Contains(planTargets(r.Stdout), "worker.text2vec") || !strings.Contains(planSummary(r.Stdout), "0 to add") {
			t.Fatalf("plan of the port change:\n%s", r)
		}
		h.must(0, cmdTimeout, "apply", "-auto-approve")
		rep := h.status()
		expectLive(t, rep, "text2vec", "text2vec", s3, 8013, bothControllers)
		if got := strings.TrimSpace(mustExec(t, tc, testcluster.Server3, "ss -Htln 'sport = :8003' | wc -l")); got != "0" {
			t.Errorf("something still listens on the old port 8003 (%s sockets)", got)
		}
	})

	step(t, "7-destroy", func(t *testing.T) {
		h.must(0, cmdTimeout, "destroy", "-auto-approve", "--purge-registry")
		for _, s := range testcluster.Hosts {
			if out := strings.TrimSpace(mustExec(t, tc, s, "ls /etc/systemd/system | grep hactl; systemctl list-units --all --no-legend 'hactl-*'; true")); out != "" {
				t.Errorf("%s: units left after destroy:\n%s", s, out)
			}
			if out := strings.TrimSpace(mustExec(t, tc, s, "ps -u "+testcluster.ServiceUser+" -o pid=,args=; true")); out != "" {
				t.Errorf("%s: processes of %s left after destroy:\n%s", s, testcluster.ServiceUser, out)
			}
			if left := newItems(before[s], hactlFiles(t, tc, s)); len(left) > 0 {
				t.Errorf("%s: files left after destroy: %v", s, left)
			}
		}
	})
}

// TestSudoAndRunAsWithoutSystemd: on hosts without systemd (hactl's own
// supervisor), a user lacking sudo on two servers is named for both in one
// run, and nothing is changed; then as deploy with sudo, the processes run
// as the service user, own their files, keep their logs under the cap, and
// destroy leaves nothing.
func TestSudoAndRunAsWithoutSystemd(t *testing.T) {
	t.Parallel() // a test cluster of its own
	bin := hactlBinary(t)
	tc := testcluster.Start(t, testcluster.Options{SimEnv: map[string]string{
		"DBGPT_SIM_MANAGER_HEARTBEAT": "2s",
		"DBGPT_SIM_PROBE_INTERVAL":    "1s",
		"DBGPT_SIM_LOAD_DELAY":        "200ms",
	}})
	dir := t.TempDir()
	p := tc.HAParams()
	p.DeployDir, p.HeartbeatInterval, p.HeartbeatTimeout, p.ConnectTimeout = deployDir, 2, 6, "5s"
	p.User, p.Sudo = testcluster.DeployUser, true
	p.ServerUsers = map[string]string{testcluster.Server1: testcluster.NoSudoUser, testcluster.Server2: testcluster.PasswordSudoUser}
	file := filepath.Join(dir, "cluster.hcl")
	write := func() {
		t.Helper()
		if err := os.WriteFile(file, testcluster.HAClusterFile(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write()
	h := &hactlCLI{t: t, bin: bin, dir: dir, env: []string{"HACTL_VAR_registry_password=" + tc.DBPassword}}
	before := map[string][]string{}
	for _, s := range testcluster.Hosts {
		before[s] = hactlFiles(t, tc, s)
	}
	s3 := p.Servers[testcluster.Server3]

	step(t, "1-no-sudo-on-two-servers", func(t *testing.T) {
		for _, cmd := range []string{"plan", "apply"} {
			args := []string{cmd}
			if cmd == "apply" {
				args = append(args, "-auto-approve")
			}
			r := h.must(1, cmdTimeout, args...)
			out := r.Stdout + r.Stderr
			for _, want := range []string{"server1", "nosudo", "server2", "pwsudo"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s does not name %q:\n%s", cmd, want, r)
				}
			}
			if !strings.Contains(out, "password") {
				t.Errorf("%s does not say sudo asks pwsudo for a password:\n%s", cmd, r)
			}
			t.Logf("%s with no sudo on server1 and server2:\n%s", cmd, out)
		}
		for _, s := range testcluster.Hosts {
			if left := newItems(before[s], hactlFiles(t, tc, s)); len(left) > 0 {
				t.Errorf("%s: a refused apply left files: %v", s, left)
			}
		}
	})

	step(t, "2-run-as-service-user", func(t *testing.T) {
		p.ServerUsers = nil
		p.RunAs, p.LogMaxSize = testcluster.ServiceUser, strconv.Itoa(logCap)
		p.ServerEnv = map[string]map[string]string{testcluster.Server3: {"DBGPT_SIM_CHATTY": strconv.Itoa(chattyRate)}}
		write()
		r := h.must(0, cmdTimeout, "apply", "-auto-approve")
		if !strings.Contains(r.Stdout, "Resources: 6 added") {
			t.Fatalf("apply:\n%s", r)
		}
		rep := h.status()
		expectLive(t, rep, "text2vec", "text2vec", s3, 8003, []string{"controller.controller1", "controller.controller2"})
		for _, c := range rep.Components {
			server := serverOf(t, p, c)
			cdir := deployDir + "/e2e/" + c.Name
			// The supervisor and the process run as dbgpt.
			users := strings.Fields(mustExec(t, tc, server, fmt.Sprintf("ps -o user= -p %d -p $(cat %s/supervisor.pid)", c.PID, cdir)))
			if len(users) != 2 || users[0] != testcluster.ServiceUser || users[1] != testcluster.ServiceUser {
				t.Errorf("%s: process and supervisor run as %v, want %s", c.Name, users, testcluster.ServiceUser)
			}
			if left := strings.TrimSpace(mustExec(t, tc, server, "find "+cdir+" ! -user "+testcluster.ServiceUser)); left != "" {
				t.Errorf("%s: files not owned by %s:\n%s", c.Name, testcluster.ServiceUser, left)
			}
			if got := strings.TrimSpace(mustExec(t, tc, server, "stat -c '%a %U' "+cdir+"/secret.env")); got != "600 "+testcluster.ServiceUser {
				t.Errorf("%s: secret.env is %q", c.Name, got)
			}
		}
		logf := deployDir + "/e2e/worker.text2vec/log"
		limit := int64(logCap + 2*chattyRate)
		rotated := false
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			sizes := strings.Fields(mustExec(t, tc, testcluster.Server3, "stat -c %s "+logf+" "+logf+".1 2>/dev/null; true"))
			for _, s := range sizes {
				if n, _ := strconv.ParseInt(s, 10, 64); n > limit {
					t.Fatalf("a log file is %d bytes, over the cap %d (+%d)", n, logCap, 2*chattyRate)
				}
			}
			rotated = rotated || len(sizes) == 2
			time.Sleep(200 * time.Millisecond)
		}
		if !rotated {
			t.Errorf("the chatty worker's log was never rotated")
		}
		h.must(0, cmdTimeout, "destroy", "-auto-approve", "--purge-registry")
		for _, s := range testcluster.Hosts {
			if out := strings.TrimSpace(mustExec(t, tc, s, "ps -u "+testcluster.ServiceUser+" -o pid=,args=; true")); out != "" {
				t.Errorf("%s: processes left after destroy:\n%s", s, out)
			}
			if left := newItems(before[s], hactlFiles(t, tc, s)); len(left) > 0 {
				t.Errorf("%s: files left after destroy: %v", s, left)
			}
		}
	})
}

// bastionLogins counts the logins the bastion's sshd has accepted so far.
func bastionLogins(t *testing.T, tc *testcluster.Cluster) int {
	t.Helper()
	out, err := tc.ContainerLog(testcluster.Bastion)
	if err != nil {
		t.Fatal(err)
	}
	return len(acceptedRe.FindAllString(out, -1))
}

// serverOf is the host a status component runs on.
func serverOf(t *testing.T, p testcluster.HAParams, c status.Component) string {
	t.Helper()
	for name, addr := range p.Servers {
		if c.Server == name || c.Server == addr {
			return name
		}
	}
	t.Fatalf("%s: unknown server %q", c.Name, c.Server)
	return ""
}

func listModelsWith(cl *http.Client, url string) ([]row, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	var rows []row
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("GET %s: %v: %s", url, err, body)
	}
	return rows, nil
}

// replaceHostKey returns known_hosts with the key of the lines for addr
// replaced by a key of no host.
func replaceHostKey(t *testing.T, knownHosts []byte, addr string) []byte {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	replaced := false
	for _, line := range strings.Split(strings.TrimSpace(string(knownHosts)), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && slices.Contains(strings.Split(f[0], ","), addr) {
			line = knownhosts.Line(strings.Split(f[0], ","), k)
			replaced = true
		}
		out = append(out, line)
	}
	if !replaced {
		t.Fatalf("known_hosts has no line for %s:\n%s", addr, knownHosts)
	}
	return []byte(strings.Join(out, "\n") + "\n")
}
