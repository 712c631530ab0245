package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// reachGID is the group hactl runs under in TestComposeReachableFromHost, so
// that a firewall rule can refuse its connections (and only its) to
// container addresses.
const reachGID = 47815

// reachSubnets cover Docker's default address pools.
var reachSubnets = []string{"172.16.0.0/12", "192.168.0.0/16", "10.0.0.0/8"}

// freePort is a TCP port nothing listens on on 127.0.0.1 right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// reachFirewall refuses, with iptables, every connection a process of group
// reachGID opens to a container address, and counts them. It returns the
// count of refused packets, or nil when iptables cannot be used here (then
// the test relies on the forced access mode alone).
func reachFirewall(t *testing.T) func() int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Logf("not root: no firewall rule, relying on access = \"exec\" alone")
		return nil
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Logf("no iptables: relying on access = \"exec\" alone")
		return nil
	}
	comment := fmt.Sprintf("hactl-e2e-reach-%d", os.Getpid())
	var added [][]string
	t.Cleanup(func() {
		for _, rule := range added {
			_ = exec.Command("iptables", append([]string{"-D", "OUTPUT"}, rule...)...).Run()
		}
	})
	for _, subnet := range reachSubnets {
		rule := []string{"-d", subnet, "-p", "tcp", "-m", "owner", "--gid-owner", strconv.Itoa(reachGID),
			"-m", "comment", "--comment", comment, "-j", "REJECT", "--reject-with", "tcp-reset"}
		if out, err := exec.Command("iptables", append([]string{"-I", "OUTPUT"}, rule...)...).CombinedOutput(); err != nil {
			t.Logf("iptables refuses the rule (%v: %s): relying on access = \"exec\" alone", err, out)
			return nil
		}
		added = append(added, rule)
	}
	return func() int {
		out, err := exec.Command("iptables", "-L", "OUTPUT", "-v", "-x", "-n").Output()
		if err != nil {
			t.Fatalf("iptables -L: %v", err)
		}
		n := 0
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 0 && strings.Contains(line, comment) {
				k, _ := strconv.Atoi(f[0])
				n += k
			}
		}
		return n
	}
}

// asReachGroup makes cmd run with group reachGID (and no other group).
func asReachGroup(cmd *exec.Cmd) {
	if os.Geteuid() != 0 {
		return
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 0, Gid: reachGID, Groups: []uint32{}}}
}

// reachRun runs hactl like composeEnv.run, in group reachGID.
func reachRun(e *composeEnv, timeout time.Duration, args ...string) (string, int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	full := append([]string{args[0], "-f", e.example}, args[1:]...)
	cmd := exec.CommandContext(ctx, e.hactl, full...)
	cmd.Env = e.env
	asReachGroup(cmd)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			e.t.Fatalf("hactl %s: %v", strings.Join(full, " "), err)
		}
		code = ee.ExitCode()
	}
	for _, secret := range []string{composeSecret, composeAPIKey} {
		if strings.Contains(out.String(), secret) {
			e.t.Errorf("hactl %s printed a secret", args[0])
		}
	}
	return out.String(), code
}

func reachMust(e *composeEnv, timeout time.Duration, args ...string) string {
	e.t.Helper()
	out, code := reachRun(e, timeout, args...)
	if code != 0 {
		e.t.Fatalf("hactl %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// Issue 15, must show 1: a copy of the compose example with its own
// project, volume and a free host port for the webserver, access = "exec":
// apply passes every gate, status shows the webserver's URL (text and
// JSON), the webserver answers on 127.0.0.1 at that port, plan sees no
// change, and access = "auto" then finds container addresses unreachable and
// works too; destroy removes it all. Where iptables can be used, hactl's
// connections to container addresses are refused (and counted: none is
// tried with exec).
func TestComposeReachableFromHost(t *testing.T) {
	eachComposeCLI(t, composeReachable)
}

func composeReachable(t *testing.T, cli string) {
	// Not the example's own version: newComposeEnv would sweep the example's
	// project, which other tests may be running.
	e := newComposeEnv(t, "0.6.2").withCLI(cli)
	port := freePort(t)
	src, err := os.ReadFile(e.example)
	if err != nil {
		t.Fatal(err)
	}
	project, volume := fmt.Sprintf("dbgpt-reach-%s-%d", cli, port), fmt.Sprintf("dbgpt-reach-%s-%d-registry", cli, port)
	text := strings.Replace(string(src), `"`+e.project+`"`, `"`+project+`"`, 1)
	text = strings.Replace(text, `"`+e.volume+`"`, `"`+volume+`"`, 1)
	text = strings.Replace(text, "webserver {\n", fmt.Sprintf("webserver {\n  port              = %d\n", port), 1)
	text = strings.Replace(text, "compose {\n", "compose {\n  access           = \"exec\"\n", 1)
	for _, want := range []string{project, volume, strconv.Itoa(port), `access           = "exec"`} {
		if !strings.Contains(text, want) {
			t.Fatalf("cannot rewrite the example copy (%s):\n%s", want, text)
		}
	}
	write := func(s string) {
		if err := os.WriteFile(e.example, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(text)
	e.project, e.volume = project, volume
	e.env = append(e.env, `HACTL_VAR_publish=["webserver"]`) // the last value counts
	composeSweep(t, project, volume)
	t.Cleanup(func() { composeSweep(t, project, volume) })

	refused := reachFirewall(t)
	if refused != nil {
		// The rule works: a process of the group cannot reach a container
		// address, one of another group can (checked on the webserver below).
		t.Logf("iptables: connections of group %d to %v are refused", reachGID, reachSubnets)
	}

	start := time.Now()
	out := reachMust(e, 10*time.Minute, "apply", "-auto-approve")
	t.Logf("compose %s apply with access exec: %s", cli, time.Since(start).Round(100*time.Millisecond))
	running := projectContainers(t, project)
	for _, svc := range []string{"controller1", "controller2", "worker-llm", "worker-embedding", "webserver", "registry-db"} {
		if !running[svc] {
			t.Fatalf("service %s not running after apply: %v\n%s", svc, running, out)
		}
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)

	// status: the URL in the text and the JSON; every component running.
	start = time.Now()
	out = reachMust(e, 2*time.Minute, "status")
	t.Logf("status with access exec: %s", time.Since(start).Round(100*time.Millisecond))
	if !strings.Contains(out, "webserver: "+url+"\n") {
		t.Errorf("status does not show %s:\n%s", url, out)
	}
	out = reachMust(e, 2*time.Minute, "status", "--json")
	var st struct {
		Components []struct {
			Name, State, URL, Reason string
		} `json:"components"`
		ModelsSource string `json:"models_source"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	for _, c := range st.Components {
		want := ""
		if c.Name == "webserver" {
			want = url
		}
		if c.URL != want || c.State != "running" {
			t.Errorf("%s: state %s (%s) url %q, want running and %q", c.Name, c.State, c.Reason, c.URL, want)
		}
	}
	if st.ModelsSource != "controllers" {
		t.Errorf("models from %q, want through the controllers", st.ModelsSource)
	}

	// The test itself opens the URL.
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(url + "/api/health")
	if err != nil {
		t.Fatalf("GET %s/api/health: %v", url, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET %s/api/health: %s %s", url, resp.Status, body)
	}

	// The firewall rule does refuse the group's direct connections.
	if refused != nil {
		ip := reachContainerIP(t, project, "webserver")
		probe := func(group bool) error {
			cmd := exec.Command("bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%d", ip, port))
			if group {
				asReachGroup(cmd)
			}
			return cmd.Run()
		}
		if err := probe(false); err != nil {
			t.Fatalf("the webserver's address %s is not reachable from this machine at all: %v", ip, err)
		}
		if err := probe(true); err == nil {
			t.Fatalf("the iptables rule does not refuse group %d's connection to %s", reachGID, ip)
		}
		// That probe is the only refused connection so far: hactl tried none.
		if n := refused(); n != 1 {
			t.Errorf("%d packets of hactl to container addresses refused, want only the probe's 1", n)
		}
	}

	// Nothing changes when nothing changed.
	if out, code := reachRun(e, 3*time.Minute, "plan", "-detailed-exitcode"); code != 0 {
		t.Errorf("plan after apply: exit %d\n%s", code, out)
	}

	// access = "auto" is no change to the project, and with the rule it
	// finds the addresses unreachable and uses exec.
	write(strings.Replace(text, `access           = "exec"`, `access           = "auto"`, 1))
	if out, code := reachRun(e, 3*time.Minute, "plan", "-detailed-exitcode"); code != 0 {
		t.Errorf("plan with access auto: exit %d\n%s", code, out)
	}
	start = time.Now()
	out = reachMust(e, 2*time.Minute, "status", "--check")
	t.Logf("status with access auto: %s", time.Since(start).Round(100*time.Millisecond))
	if !strings.Contains(out, "webserver: "+url+"\n") {
		t.Errorf("status with access auto does not show %s:\n%s", url, out)
	}

	out = reachMust(e, 5*time.Minute, "destroy", "-auto-approve", "--purge-registry")
	if left := projectContainers(t, project); len(left) > 0 {
		t.Fatalf("containers left after destroy: %v\n%s", left, out)
	}
	if _, err := hc.Get(url + "/api/health"); err == nil {
		t.Errorf("%s still answers after destroy", url)
	}
}

// reachContainerIP is a project service's address on its project network.
func reachContainerIP(t *testing.T, project, svc string) string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "--format",
		`{{range $k, $v := .NetworkSettings.Networks}}{{$v.IPAddress}} {{end}}`, containerID(t, project, svc)).Output()
	if err != nil || len(strings.Fields(string(out))) == 0 {
		t.Fatalf("address of %s: %q %v", svc, out, err)
	}
	return strings.Fields(string(out))[0]
}
