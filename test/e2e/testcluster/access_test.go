package testcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClusterBastion checks Options.Bastion: this machine's connections to
// server1..3 and db are refused at once, the bastion answers, and the
// harness's SSH, database and HTTP access work through it, also after the
// bastion was restarted. Close removes the iptables rule.
func TestClusterBastion(t *testing.T) {
	c := Start(t, Options{Bastion: true})

	for _, addr := range []string{c.IP(Server1) + ":22", c.IP(Server2) + ":22", c.IP(Server3) + ":22", c.DBAddr()} {
		t0 := time.Now()
		conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err == nil {
			conn.Close()
			t.Errorf("direct connection to %s succeeded", addr)
		} else if !errors.Is(err, syscall.ECONNREFUSED) || time.Since(t0) > time.Second {
			t.Errorf("direct connection to %s: %v after %s, want connection refused at once", addr, err, time.Since(t0))
		}
	}
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(c.IP(Bastion), "22"), 3*time.Second)
	if err != nil {
		t.Fatalf("direct connection to the bastion: %v", err)
	}
	conn.Close()

	for _, h := range Hosts {
		if got := strings.TrimSpace(c.MustSSH(h, "hostname")); got != h {
			t.Errorf("hostname on %s through the bastion = %q", h, got)
		}
	}
	if err := c.DB().Ping(); err != nil {
		t.Errorf("registry database through the bastion: %v", err)
	}
	startController(t, c, Server3)
	if _, err := http1(c, c.URL(Server3, 8000)+"/api/controller/models", false); err == nil {
		t.Errorf("direct HTTP to server3 succeeded")
	}

	// The harness's tunnel logs in as deploy; root logins are someone else's.
	c.MustSSH(Bastion, "true")
	log, err := c.ContainerLog(Bastion)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "Accepted publickey for "+jumpUser+" ") || strings.Count(log, "Accepted publickey for root ") != 1 {
		t.Errorf("bastion's log: want the harness's tunnel as %s and one root login:\n%s", jumpUser, log)
	}

	// A restarted bastion breaks the tunnel; the harness makes a new one.
	if err := c.RestartHost(Bastion); err != nil {
		t.Fatal(err)
	}
	c.dropClient(Server1)
	if got := strings.TrimSpace(c.MustSSH(Server1, "hostname")); got != Server1 {
		t.Errorf("after the bastion's restart: %q", got)
	}

	c.Close()
	rules, err := outputRules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for comment := range rules {
		if strings.Contains(comment, "run="+c.ID+" ") {
			t.Errorf("iptables rule %q left after Close", comment)
		}
	}
}

// TestSweepDeadRule: the rule of a test process that died is deleted by the
// sweep; a live process's stays.
func TestSweepDeadRule(t *testing.T) {
	if os.Getenv("HACTL_E2E") == "skip" || !hasIptables() {
		t.Skip("needs root and iptables (HACTL_E2E=skip skips it)")
	}
	ctx := context.Background()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := cmd.Process.Pid
	// TEST-NET-1: nothing real is behind it.
	subnet, bastion := mustPrefix(t, "192.0.2.0/24"), mustPrefix(t, "192.0.2.15/32").Addr()
	dead, alive := "sweep"+randHex(2), "sweep"+randHex(2)
	t.Cleanup(func() { deleteRunRules(ctx, dead); deleteRunRules(ctx, alive) })
	for id, pid := range map[string]int{dead: deadPID, alive: os.Getpid()} {
		if err := iptables(ctx, nil, append([]string{"-I", "OUTPUT"}, isolationRule(subnet, bastion, ruleComment(id, pid))...)...); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := deleteDeadRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids, dead) || slices.Contains(ids, alive) {
		t.Errorf("swept runs %v, want %s and not %s", ids, dead, alive)
	}
	rules, err := outputRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rules[ruleComment(dead, deadPID)]; ok {
		t.Errorf("dead run's rule still there")
	}
	if _, ok := rules[ruleComment(alive, os.Getpid())]; !ok {
		t.Errorf("live run's rule gone")
	}
}

func TestSplitRule(t *testing.T) {
	got := splitRule(`-A OUTPUT -d 10.0.0.0/24 -m comment --comment "hactl-e2e run=ab pid=1" -j REJECT`)
	want := []string{"-A", "OUTPUT", "-d", "10.0.0.0/24", "-m", "comment", "--comment", "hactl-e2e run=ab pid=1", "-j", "REJECT"}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != len(want) {
		t.Errorf("splitRule = %q", got)
	}
}

// startController runs a dbgpt-sim controller on host's port 8000 (in the
// background, over SSH) and waits until it answers through c.HTTPClient.
func startController(t *testing.T, c *Cluster, host string) {
	t.Helper()
	c.MustSSH(host, "setsid dbgpt start controller --port 8000 >/tmp/controller.log 2>&1 </dev/null &")
	waitHTTP(t, c, c.URL(host, 8000)+"/api/controller/models")
}

func waitHTTP(t *testing.T, c *Cluster, url string) {
	t.Helper()
	var last error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, last = http1(c, url, true); last == nil {
			return
		}
	}
	t.Fatalf("GET %s: %v", url, last)
}

// http1 GETs url through c.HTTPClient (via) or a plain client.
func http1(c *Cluster, url string, via bool) (string, error) {
	cl := c.HTTPClient()
	if !via {
		cl.Transport = nil
	}
	cl.Timeout = 5 * time.Second
	resp, err := cl.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return string(body), err
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
