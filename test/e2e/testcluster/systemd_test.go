package testcluster

import (
	"strings"
	"testing"
	"time"
)

// TestClusterSystemd checks Options.Systemd (with a bastion, as the e2e
// tests use it): systemd is PID 1 and the system "running" on server1..3,
// an enabled unit is restarted by systemd after kill -9 and comes back after
// RestartHost, which keeps the host's address and host key. And the users
// of the contract, on the systemd image and the plain one (the bastion).
func TestClusterSystemd(t *testing.T) {
	c := Start(t, Options{Systemd: true, Bastion: true})

	for _, h := range Hosts {
		if got := strings.TrimSpace(c.MustSSH(h, "cat /proc/1/comm; systemctl is-system-running")); got != "systemd\nrunning" {
			t.Errorf("%s: PID 1 and system state %q, want systemd and running", h, got)
		}
	}
	if got := strings.TrimSpace(c.MustSSH(Bastion, "cat /proc/1/comm")); got != "tini" {
		t.Errorf("bastion's PID 1 is %q, want tini (the plain host image)", got)
	}
	for _, h := range []string{Server1, Bastion} {
		checkUsers(t, c, h)
	}

	unit := `[Unit]
Description=hactl-e2e test controller
[Service]
ExecStart=` + DBGPTPath + ` start controller --port 8000
Restart=always
RestartSec=1
[Install]
WantedBy=multi-user.target
`
	if _, err := c.SSH(Server2, "cat >/etc/systemd/system/e2e-ctl.service && systemctl daemon-reload && systemctl enable --now e2e-ctl", []byte(unit)); err != nil {
		t.Fatal(err)
	}
	url := c.URL(Server2, 8000) + "/api/controller/models"
	waitHTTP(t, c, url)
	pid := strings.TrimSpace(c.MustSSH(Server2, "systemctl show -p MainPID --value e2e-ctl"))
	c.MustSSH(Server2, "kill -9 "+pid)
	waitFor(t, "systemd restarts the killed unit", func() (bool, string) {
		out, _ := c.SSH(Server2, "systemctl show -p NRestarts -p MainPID -p ActiveState e2e-ctl", nil)
		return strings.Contains(out, "NRestarts=1") && strings.Contains(out, "ActiveState=active") && !strings.Contains(out, "MainPID="+pid+"\n"), out
	})
	waitHTTP(t, c, url)

	t0 := time.Now()
	if err := c.RestartHost(Server2); err != nil {
		t.Fatal(err)
	}
	t.Logf("RestartHost(server2) took %s", time.Since(t0).Round(10*time.Millisecond))
	// The harness verified the host key (known_hosts, strict) on reconnecting.
	if out := c.MustSSH(Server2, "ip -4 -o addr; systemctl is-active e2e-ctl ssh"); !strings.Contains(out, c.IP(Server2)+"/") || strings.Count(out, "active") != 2 {
		t.Errorf("after RestartHost: %s", out)
	}
	waitHTTP(t, c, url)
	if log, err := c.ContainerLog(Server2); err != nil || !strings.Contains(log, "Accepted publickey for root") {
		t.Errorf("server2's journal has no sshd login: %v\n%s", err, log)
	}
}

// checkUsers checks the users of the contract on host: deploy with
// password-less sudo, nosudo and pwsudo whose `sudo -n` fails, and the
// service user dbgpt that cannot log in.
func checkUsers(t *testing.T, c *Cluster, host string) {
	t.Helper()
	want := map[string]string{DeployUser: "1000", NoSudoUser: "1001", PasswordSudoUser: "1002", ServiceUser: "999"}
	for u, uid := range want {
		if got := strings.TrimSpace(c.MustSSH(host, "id -u "+u)); got != uid {
			t.Errorf("%s: uid of %s = %s, want %s", host, u, got, uid)
		}
	}
	if got := strings.TrimSpace(c.MustSSH(host, "getent passwd "+ServiceUser+" | cut -d: -f7; test ! -e ~"+ServiceUser+"/.ssh && echo nokey")); got != "/usr/sbin/nologin\nnokey" {
		t.Errorf("%s: %s's shell and key: %q", host, ServiceUser, got)
	}
	sudo := map[string]string{DeployUser: "root", NoSudoUser: "a password is required", PasswordSudoUser: "a password is required"}
	for u, want := range sudo {
		cl, err := c.DialSSH(host, u)
		if err != nil {
			t.Errorf("%s: ssh as %s: %v", host, u, err)
			continue
		}
		s, err := cl.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		out, _ := s.CombinedOutput("id -un; sudo -n id -un")
		cl.Close()
		if lines := strings.SplitN(strings.TrimSpace(string(out)), "\n", 2); len(lines) != 2 || lines[0] != u || !strings.Contains(lines[1], want) {
			t.Errorf("%s: as %s, id and sudo -n: %q, want %s then %q", host, u, out, u, want)
		}
	}
	if cl, err := c.DialSSH(host, ServiceUser); err == nil {
		cl.Close()
		t.Errorf("%s: %s logged in", host, ServiceUser)
	}
	if got := strings.TrimSpace(c.MustSSH(host, "sudo -l -U "+NoSudoUser+" | tail -1; sudo -l -U "+PasswordSudoUser+" | tail -1")); !strings.Contains(got, "not allowed") || !strings.Contains(got, "(ALL) ALL") {
		t.Errorf("%s: sudo rules of %s and %s: %q", host, NoSudoUser, PasswordSudoUser, got)
	}
}

func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
	}
	t.Fatalf("%s: not within a minute; last: %s", what, last)
}
