package testcluster

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hactl/hactl/schema"
)

// TestCluster checks what the harness promises: real SSH with verified host
// keys to each host under its own name, dbgpt claiming the requested version
// for non-interactive commands, the model directories, the registry database,
// and every fault lever with the host coming back unchanged.
func TestCluster(t *testing.T) {
	c := Start(t, Options{Generation: schema.GenerationTOML, SimEnv: map[string]string{"DBGPT_SIM_PROBE_INTERVAL": "1s"}})

	for _, h := range Hosts {
		if got := strings.TrimSpace(c.MustSSH(h, "hostname")); got != h {
			t.Errorf("hostname on %s = %q", h, got)
		}
		if got := strings.TrimSpace(c.MustSSH(h, "dbgpt --version")); got != "dbgpt, version 0.7.0" {
			t.Errorf("dbgpt --version on %s = %q", h, got)
		}
		if got := strings.TrimSpace(c.MustSSH(h, "echo $DBGPT_SIM_VERSION; grep -c PROBE_INTERVAL "+DBGPTPath)); got != "1" {
			t.Errorf("%s: login environment / wrapper: %q", h, got)
		}
		// The other hosts and the database resolve by name inside the network.
		if out := c.MustSSH(h, "getent hosts db server1"); !strings.Contains(out, c.IP(DBHost)) || !strings.Contains(out, c.IP(Server1)) {
			t.Errorf("%s: names do not resolve: %q", h, out)
		}
	}
	if out := c.MustSSH(Server3, "ls /app/models"); !strings.Contains(out, "glm-4-9b-chat") || !strings.Contains(out, "text2vec-large-chinese") {
		t.Errorf("model dirs on server3: %q", out)
	}
	if _, err := c.SSH(Server1, "test -e /app/models", nil); err == nil {
		t.Errorf("server1 has model dirs")
	}
	if out, err := c.Exec(Server2, "cat /etc/hostname"); err != nil || strings.TrimSpace(out) != Server2 {
		t.Errorf("Exec: %q %v", out, err)
	}

	// The deploy user logs in with the same key and has password-less sudo.
	cl, err := ssh.Dial("tcp", net.JoinHostPort(c.IP(Server1), "22"), c.SSHConfig(DeployUser))
	if err != nil {
		t.Fatalf("ssh as %s: %v", DeployUser, err)
	}
	s, _ := cl.NewSession()
	out, err := s.Output("id -un; sudo -n id -un")
	cl.Close()
	if err != nil || strings.Fields(string(out))[0] != DeployUser || strings.Fields(string(out))[1] != "root" {
		t.Errorf("deploy user and sudo: %q %v", out, err)
	}

	// known_hosts is really checked: server2's key does not pass for server1.
	bad := t.TempDir() + "/known_hosts"
	if err := os.WriteFile(bad, []byte(knownhosts.Line([]string{c.IP(Server1)}, c.hostKey[Server2])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(bad)
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.SSHConfig(User)
	cfg.HostKeyCallback = cb
	if _, err := ssh.Dial("tcp", net.JoinHostPort(c.IP(Server1), "22"), cfg); err == nil || !strings.Contains(err.Error(), "key mismatch") {
		t.Errorf("dial with a wrong known_hosts entry: %v, want a key mismatch", err)
	}

	// The registry database accepts the root password from this machine.
	var one int
	if err := c.DB().QueryRow("SELECT 1 FROM information_schema.schemata WHERE schema_name = ?", Database).Scan(&one); err != nil {
		t.Fatalf("registry database %s: %v", Database, err)
	}

	// Every process started over SSH dies with a killed host; the host comes
	// back with its address and host key.
	c.MustSSH(Server1, "setsid nohup sleep 600 >/dev/null 2>&1 </dev/null &")
	if err := c.Kill(Server1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SSH(Server1, "true", nil); err == nil {
		t.Errorf("ssh to a killed host succeeded")
	}
	if err := c.StartHost(Server1); err != nil {
		t.Fatal(err)
	}
	if out, err := c.SSH(Server1, "pgrep -x sleep || echo none", nil); err != nil || strings.TrimSpace(out) != "none" {
		t.Errorf("after kill+start: %q %v", out, err)
	}

	// Orphans are reaped: a background process whose parent has exited ends
	// and leaves the process table (a zombie would stay in it).
	orphan := strings.TrimSpace(c.MustSSH(Server2, "setsid sh -c 'sleep 0.2 >/dev/null 2>&1 </dev/null & echo $!' </dev/null"))
	if _, err := strconv.Atoi(orphan); err != nil {
		t.Fatalf("orphan pid %q", orphan)
	}
	state := "never looked"
	for deadline := time.Now().Add(time.Minute); ; {
		if state = strings.TrimSpace(c.MustSSH(Server2, "ps -o stat= -p "+orphan+" || true")); state == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphan %s on server2 still in the process table after a minute, state %q (a zombie is Z)", orphan, state)
		}
		time.Sleep(200 * time.Millisecond)
	}

	unreachable := func(host string) bool {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(c.IP(host), "22"), time.Second)
		if err != nil {
			return true
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 4) // a paused sshd accepts (the kernel does) but never greets
		_, err = conn.Read(buf)
		return err != nil
	}
	if err := c.Pause(Server2); err != nil {
		t.Fatal(err)
	}
	if !unreachable(Server2) {
		t.Errorf("paused server2 still answers")
	}
	if err := c.Unpause(Server2); err != nil {
		t.Fatal(err)
	}
	c.MustSSH(Server2, "true")

	if err := c.Disconnect(Server3); err != nil {
		t.Fatal(err)
	}
	if !unreachable(Server3) {
		t.Errorf("disconnected server3 still answers")
	}
	if err := c.Reconnect(Server3); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.waitSSH(ctx, Server3); err != nil {
		t.Fatalf("after reconnect: %v", err)
	}
	if out := c.MustSSH(Server3, "ip -4 -o addr"); !strings.Contains(out, c.IP(Server3)+"/") {
		t.Errorf("server3 changed address after reconnect: %s", out)
	}

	if err := c.StopHost(DBHost); err != nil {
		t.Fatal(err)
	}
	if err := c.StartHost(DBHost); err != nil {
		t.Fatal(err)
	}
	if err := c.DB().Ping(); err != nil {
		t.Errorf("registry database after restart: %v", err)
	}
}
