package compose

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/test/images"
)

func TestPublishedHostPort(t *testing.T) {
	var ct container
	if err := json.Unmarshal([]byte(`{"NetworkSettings":{"Ports":{
		"5670/tcp":[{"HostIp":"127.0.0.1","HostPort":"15670"}],
		"8000/tcp":[{"HostIp":"0.0.0.0","HostPort":"8000"},{"HostIp":"::","HostPort":"8000"}],
		"8100/tcp":[{"HostIp":"::","HostPort":"8100"}],
		"8001/tcp":null}}}`), &ct); err != nil {
		t.Fatal(err)
	}
	for port, want := range map[string]string{"5670": "127.0.0.1:15670", "8000": "127.0.0.1:8000", "8100": "[::1]:8100", "8001": "", "3306": ""} {
		if got := publishedHostPort(ct, port); got != want {
			t.Errorf("port %s: %q, want %q", port, got, want)
		}
	}
}

func TestIsLocalEndpoint(t *testing.T) {
	for ep, want := range map[string]bool{"": true, "unix:///var/run/docker.sock": true, "npipe:////./pipe/docker_engine": true,
		"tcp://10.0.0.5:2376": false, "ssh://me@box": false} {
		if got := isLocalEndpoint(ep); got != want {
			t.Errorf("%q: %v", ep, got)
		}
	}
}

func TestAccessSetting(t *testing.T) {
	p := newHA(t, nil)
	if p.accessSetting() != AccessAuto || p.AccessMode() != "" {
		t.Errorf("default %q %q", p.accessSetting(), p.AccessMode())
	}
	p = newHA(t, func(c *schema.Cluster) { c.Compose.Access = AccessExec })
	if p.AccessMode() != AccessExec {
		t.Errorf("exec: %q", p.AccessMode())
	}
}

// tunnelProcs lists the processes of a tunnel still alive in a container.
func tunnelProcs(t *testing.T, id string) []string {
	t.Helper()
	out, err := exec.Command("docker", "exec", id, "bash", "-c",
		`for p in /proc/[0-9]*; do [ "$p" = /proc/$$ ] && continue; c=$(tr '\0' ' ' <$p/cmdline 2>/dev/null); case "$c" in cat*|*hactl-tunnel*) echo "${p#/proc/} $c";; esac; done`).Output()
	if err != nil {
		t.Fatalf("listing processes: %v", err)
	}
	return strings.Fields(strings.TrimSpace(string(out)))
}

// A tunnel through docker exec reaches a port bound to the container's
// loopback only, carries an HTTP request both ways, sees the server close,
// and leaves no process behind, in the container or here, once closed. A
// port nobody listens on is refused like a dial.
func TestExecTunnel(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "dbgpt-sim")
	build := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", bin, "../../cmd/dbgpt-sim")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build dbgpt-sim: %v\n%s", err, out)
	}
	sim, err := images.EnsureSim(ctx, bin, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, "docker", "run", "-d", "--rm", "--label", images.Label+"=1", sim,
		"start", "controller", "--host", "127.0.0.1", "--port", "8000").Output()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	id := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", id).Run() })

	get := func(close bool) (*tunnelConn, string, error) {
		dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
		defer dcancel()
		conn, err := dialTunnel(dctx, id, "ctl", "8000")
		if err != nil {
			return nil, "", err
		}
		tc := conn.(*tunnelConn)
		proto := "HTTP/1.1"
		if close {
			proto = "HTTP/1.0"
		}
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.WriteString(conn, "GET /api/health "+proto+"\r\nHost: x\r\n\r\n"); err != nil {
			return tc, "", err
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return tc, "", err
		}
		b, err := io.ReadAll(resp.Body)
		return tc, resp.Status + " " + string(b), err
	}
	// The controller takes a moment to listen: refused until then.
	deadline := time.Now().Add(60 * time.Second)
	var tc *tunnelConn
	for {
		var body string
		tc, body, err = get(false)
		if err == nil {
			if !strings.Contains(body, "200") || !strings.Contains(body, `"ok"`) {
				t.Fatalf("answer %q", body)
			}
			break
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("tunnel: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Keep-alive: the connection stays open until hactl closes it.
	if len(tunnelProcs(t, id)) == 0 {
		t.Errorf("no tunnel process while the connection is open")
	}
	tc.Close()
	waitGone := func(tc *tunnelConn) {
		t.Helper()
		select {
		case <-tc.done:
		case <-time.After(tunnelGrace - time.Second):
			t.Errorf("docker exec still runs after Close")
		}
		for end := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			left := tunnelProcs(t, id)
			if len(left) == 0 {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("left in the container: %q", left)
			}
		}
	}
	waitGone(tc)

	// HTTP/1.0: the server closes; the reader sees the end of the body
	// (EOF) and the process ends by itself.
	tc, body, err := get(true)
	if err != nil || !strings.Contains(body, "200") {
		t.Fatalf("HTTP/1.0: %q %v", body, err)
	}
	select {
	case <-tc.done:
	case <-time.After(20 * time.Second):
		t.Errorf("docker exec still runs after the server closed")
	}
	tc.Close()
	waitGone(tc)

	// Nobody listens: refused, as a dial would be.
	dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
	defer dcancel()
	if _, err := dialTunnel(dctx, id, "ctl", "8999"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("closed port: %v", err)
	}
	// A container that does not exist: docker's message.
	if _, err := dialTunnel(dctx, "hactl-no-such-container", "ctl", "8000"); err == nil || !strings.Contains(err.Error(), "No such container") {
		t.Errorf("missing container: %v", err)
	}
}

// The registry's MySQL protocol through exec tunnels: Ensure creates the
// schema and Rows reads it with access = "exec", and no tunnel process is
// left in the database container once the registry is closed.
func TestRegistryThroughExec(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	imgs, err := images.Ensure(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	c := registryOnly(t, imgs.DB)
	c.Compose.Access = AccessExec
	p, err := New(c, Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer ccancel()
		if err := p.Teardown(cctx, true); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})
	start := time.Now()
	if err := p.Registry(c).Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Ensure through exec: %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if rows, err := p.Registry(c).Rows(ctx); err != nil || len(rows) != 0 {
		t.Fatalf("rows = %v, %v", rows, err)
	}
	t.Logf("Rows through exec: %s", time.Since(start).Round(time.Millisecond))
	ct, err := p.serviceContainer(ctx, DatabaseService(p.c))
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		left := tunnelProcs(t, ct.ID)
		if len(left) == 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("tunnels left in the database container: %q", left)
		}
	}
}

// auto's choice from its first dials: the address refusing, then exec
// connecting, is tried again, so a service that began to listen between
// the two dials does not make every later dial a docker exec.
func TestChooseAccess(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	timeout := context.DeadlineExceeded
	conn := func() net.Conn { a, b := net.Pipe(); b.Close(); return a }
	type dial struct {
		ok  bool
		err error
	}
	for _, tc := range []struct {
		name     string
		net      []dial // successive answers of the address
		exec     dial
		mode     string
		wantErr  bool
		netDials int
	}{
		{"address answers", []dial{{ok: true}}, dial{}, AccessNetwork, false, 1},
		{"refused both ways", []dial{{err: refused}}, dial{err: refused}, "", true, 1},
		{"began to listen", []dial{{err: refused}, {ok: true}}, dial{ok: true}, AccessNetwork, false, 2},
		{"firewall rejects", []dial{{err: refused}, {err: refused}}, dial{ok: true}, AccessExec, false, 2},
		{"address silent, exec connects", []dial{{err: timeout}}, dial{ok: true}, AccessExec, false, 1},
		{"address silent, exec refused", []dial{{err: timeout}}, dial{err: refused}, AccessExec, true, 1},
		{"exec fails", []dial{{err: timeout}}, dial{err: errors.New("docker exec: no such container")}, "", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			dialNet := func() (net.Conn, error) {
				d := tc.net[min(n, len(tc.net)-1)]
				n++
				if d.ok {
					return conn(), nil
				}
				return nil, d.err
			}
			dialExec := func() (net.Conn, error) {
				if tc.exec.ok {
					return conn(), nil
				}
				return nil, tc.exec.err
			}
			mode, c, _, err := chooseAccess(context.Background(), dialNet, dialExec)
			if mode != tc.mode || (err != nil) != tc.wantErr || (c == nil) != tc.wantErr || n != tc.netDials {
				t.Errorf("mode %q, conn %v, err %v after %d address dials; want %q, error %v, %d dials", mode, c, err, n, tc.mode, tc.wantErr, tc.netDials)
			}
		})
	}
}
