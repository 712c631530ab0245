package host_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/providers/host/sshdtest"
	"github.com/hactl/hactl/schema"
)

func sshServer(d *sshdtest.Server, name string) *schema.Server {
	return &schema.Server{
		Name: name, Address: "127.0.0.1", Transport: schema.TransportSSH, DeployDir: "/tmp",
		SSH: schema.SSHSettings{Port: d.Port, User: "root", KeyFile: d.ClientKey, HostKeyPolicy: schema.HostKeyStrict,
			KnownHostsFile: d.KnownHosts, ConnectTimeout: 30 * time.Second, CommandTimeout: time.Minute},
	}
}

func localServer(name string) *schema.Server {
	return &schema.Server{Name: name, Address: "127.0.0.1", Transport: schema.TransportLocal, DeployDir: "/tmp",
		SSH: schema.SSHSettings{CommandTimeout: time.Minute}}
}

// eachTransport runs f over a real loopback sshd (unless HACTL_E2E=skip)
// and locally.
func eachTransport(t *testing.T, f func(t *testing.T, h host.Host)) {
	if os.Getenv("HACTL_E2E") != "skip" {
		d := sshdtest.Start(t)
		t.Run("ssh", func(t *testing.T) {
			p := host.NewPool(host.Options{})
			defer p.Close()
			f(t, p.Host(sshServer(d, "server1")))
		})
	}
	t.Run("local", func(t *testing.T) {
		p := host.NewPool(host.Options{})
		defer p.Close()
		f(t, p.Host(localServer("here")))
	})
}

func TestRunQuotingAndStdin(t *testing.T) {
	eachTransport(t, func(t *testing.T, h host.Host) {
		ctx := context.Background()
		marker := filepath.Join(t.TempDir(), "pwned")
		values := []string{
			"$(touch " + marker + ")", "`touch " + marker + "`", "; touch " + marker, "x' ; touch " + marker + " ; '",
			"line\n touch " + marker, `"$(touch ` + marker + `)"`, "it's", "",
		}
		script := `for a in ` + host.Join(values...) + `; do printf '<%s>' "$a"; done; cat`
		out, err := h.Run(ctx, script, strings.NewReader("from stdin"))
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		for _, v := range values {
			want += "<" + v + ">"
		}
		if string(out) != want+"from stdin" {
			t.Errorf("got %q\nwant %q", out, want+"from stdin")
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatal("a quoted value ran a command")
		}
	})
}

func TestRunExitAndTimeout(t *testing.T) {
	d := sshdtest.Start(t)
	for _, s := range []*schema.Server{sshServer(d, "server1"), localServer("here")} {
		t.Run(s.Transport, func(t *testing.T) {
			// The command timeout bounds only the command: connect first
			// (under the connect timeout). 5 s is long enough for a shell
			// to start on a loaded machine, far shorter than the sleep.
			const timeout = 5 * time.Second
			s.SSH.CommandTimeout = timeout
			p := host.NewPool(host.Options{})
			defer p.Close()
			h := p.Host(s)
			if err := h.Connect(context.Background()); err != nil {
				t.Fatal(err)
			}
			_, err := h.Run(context.Background(), "echo oops >&2; exit 3", nil)
			var ee *host.ExitError
			if !errors.As(err, &ee) || ee.Status != 3 || !strings.Contains(err.Error(), "oops") {
				t.Fatalf("want exit 3 with stderr, got %v", err)
			}
			start := time.Now()
			_, err = h.Run(context.Background(), "sleep 60", nil)
			if !errors.Is(err, host.ErrTimeout) {
				t.Fatalf("want timeout, got %v", err)
			}
			if el := time.Since(start); el < timeout || el > 40*time.Second {
				t.Errorf("the %s timeout cut sleep 60 after %s", timeout, el)
			}
			// The connection is still usable after a timed-out command.
			out, err := h.Run(context.Background(), "echo still", nil)
			if err != nil || string(out) != "still\n" {
				t.Fatalf("after timeout: %q %v", out, err)
			}
		})
	}
}

func TestWriteFileModes(t *testing.T) {
	eachTransport(t, func(t *testing.T, h host.Host) {
		dir := t.TempDir()
		ctx := context.Background()
		secret := []byte("password=$(hunter2)'\n")
		if err := host.WriteFile(ctx, h, filepath.Join(dir, "secret.env"), secret, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := host.WriteFile(ctx, h, filepath.Join(dir, "it's public"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]os.FileMode{"secret.env": 0o600, "it's public": 0o644} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s: mode %o, want %o", name, fi.Mode().Perm(), want)
			}
		}
		got, _ := os.ReadFile(filepath.Join(dir, "secret.env"))
		if !bytes.Equal(got, secret) {
			t.Errorf("content %q", got)
		}
		// Overwriting keeps the mode asked for, and leaves no temporary file.
		if err := host.WriteFile(ctx, h, filepath.Join(dir, "secret.env"), []byte("new"), 0o600); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 2 {
			t.Errorf("left files: %v", entries)
		}
	})
}

func TestDialThroughHost(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello from ", r.URL.Path) })}
	go srv.Serve(l)
	defer srv.Close()
	eachTransport(t, func(t *testing.T, h host.Host) {
		hc := &http.Client{Transport: &http.Transport{DialContext: h.DialContext}}
		resp, err := hc.Get("http://" + l.Addr().String() + "/api/health")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "hello from /api/health" {
			t.Errorf("got %q", b)
		}
		// A closed port is ECONNREFUSED through every transport (the
		// gates ask the supervisor at once when they see it).
		if _, err := h.DialContext(context.Background(), "tcp", "127.0.0.1:1"); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dialing a closed port: %v, want ECONNREFUSED", err)
		}
		// Deadlines work on the connection (the MySQL driver needs them).
		c, err := h.DialContext(context.Background(), "tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read past the deadline: %v", err)
		}
		// Nothing ever arrives: only the deadline ends the read.
		if el := time.Since(start); el > 30*time.Second {
			t.Errorf("deadline took %s", el)
		}
	})
}

func TestHostKeys(t *testing.T) {
	d := sshdtest.Start(t)
	ctx := context.Background()
	connect := func(s *schema.Server, log io.Writer) error {
		p := host.NewPool(host.Options{Log: log})
		defer p.Close()
		_, err := p.Host(s).Run(ctx, "true", nil)
		return err
	}

	t.Run("strict known", func(t *testing.T) {
		if err := connect(sshServer(d, "server1"), nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("strict unknown", func(t *testing.T) {
		s := sshServer(d, "server1")
		s.SSH.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		os.WriteFile(s.SSH.KnownHostsFile, nil, 0o600)
		err := connect(s, nil)
		if err == nil || !strings.Contains(err.Error(), "host key of server server1 (127.0.0.1:") || !strings.Contains(err.Error(), "is unknown") ||
			!strings.Contains(err.Error(), "ssh-keyscan") || !strings.Contains(err.Error(), "accept-new") {
			t.Fatalf("want unknown-host error, got %v", err)
		}
	})
	t.Run("strict missing file", func(t *testing.T) {
		s := sshServer(d, "server1")
		s.SSH.KnownHostsFile = filepath.Join(t.TempDir(), "nope", "known_hosts")
		if err := connect(s, nil); err == nil || !strings.Contains(err.Error(), "is unknown") {
			t.Fatalf("want unknown-host error, got %v", err)
		}
	})
	t.Run("mismatch", func(t *testing.T) {
		s := sshServer(d, "server1")
		other := sshdtest.WriteKey(t, filepath.Join(t.TempDir(), "other"))
		kh := filepath.Join(t.TempDir(), "known_hosts")
		content := "# comment\n[127.0.0.1]:1 " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(other))) + "\n" +
			fmt.Sprintf("[127.0.0.1]:%d %s", d.Port, ssh.MarshalAuthorizedKey(other))
		os.WriteFile(kh, []byte(content), 0o600)
		s.SSH.KnownHostsFile = kh
		for _, policy := range []string{schema.HostKeyStrict, schema.HostKeyAcceptNew} {
			s.SSH.HostKeyPolicy = policy
			err := connect(s, nil)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("host key for server server1 (127.0.0.1:%d) does not match known_hosts line 3", d.Port)) ||
				!strings.Contains(err.Error(), "man-in-the-middle") {
				t.Fatalf("%s: want mismatch error, got %v", policy, err)
			}
		}
		s.SSH.HostKeyPolicy = schema.HostKeyInsecure
		if err := connect(s, nil); err != nil {
			t.Fatalf("insecure: %v", err)
		}
	})
	t.Run("accept-new", func(t *testing.T) {
		s := sshServer(d, "server1")
		s.SSH.KnownHostsFile = filepath.Join(t.TempDir(), "sub", "known_hosts")
		s.SSH.HostKeyPolicy = schema.HostKeyAcceptNew
		var log bytes.Buffer
		if err := connect(s, &log); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(log.String(), "added host key of server1") {
			t.Errorf("log: %q", log.String())
		}
		b, err := os.ReadFile(s.SSH.KnownHostsFile)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		n := 0
		for sc.Scan() {
			n++
			if !strings.Contains(sc.Text(), fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 ", d.Port)) {
				t.Errorf("line %q", sc.Text())
			}
		}
		if n != 1 {
			t.Fatalf("%d lines", n)
		}
		// Now strict works with the learned key, and accept-new adds nothing.
		s.SSH.HostKeyPolicy = schema.HostKeyStrict
		if err := connect(s, nil); err != nil {
			t.Fatal(err)
		}
		s.SSH.HostKeyPolicy = schema.HostKeyAcceptNew
		if err := connect(s, nil); err != nil {
			t.Fatal(err)
		}
		b2, _ := os.ReadFile(s.SSH.KnownHostsFile)
		if !bytes.Equal(b, b2) {
			t.Errorf("known_hosts changed:\n%s", b2)
		}
	})
}

func TestAuthErrors(t *testing.T) {
	d := sshdtest.Start(t)
	ctx := context.Background()
	t.Setenv("SSH_AUTH_SOCK", "")
	t.Run("wrong key", func(t *testing.T) {
		s := sshServer(d, "server1")
		s.SSH.KeyFile = filepath.Join(t.TempDir(), "stranger")
		sshdtest.WriteKey(t, s.SSH.KeyFile)
		p := host.NewPool(host.Options{})
		defer p.Close()
		err := p.Host(s).Connect(ctx)
		if err == nil || !strings.Contains(err.Error(), "ssh login to server server1 as root@127.0.0.1") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("encrypted key", func(t *testing.T) {
		s := sshServer(d, "server1")
		raw, _ := os.ReadFile(d.ClientKey)
		k, err := ssh.ParseRawPrivateKey(raw)
		if err != nil {
			t.Fatal(err)
		}
		block, err := ssh.MarshalPrivateKeyWithPassphrase(k, "", []byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		s.SSH.KeyFile = filepath.Join(t.TempDir(), "enc")
		os.WriteFile(s.SSH.KeyFile, pem.EncodeToMemory(block), 0o600)
		p := host.NewPool(host.Options{})
		defer p.Close()
		err = p.Host(s).Connect(ctx)
		if err == nil || !strings.Contains(err.Error(), "protected by a passphrase") || !strings.Contains(err.Error(), "ssh-add") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("no key no agent", func(t *testing.T) {
		s := sshServer(d, "server1")
		s.SSH.KeyFile = ""
		p := host.NewPool(host.Options{})
		defer p.Close()
		err := p.Host(s).Connect(ctx)
		if err == nil || !strings.Contains(err.Error(), "SSH_AUTH_SOCK") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("silent port", func(t *testing.T) {
		// Accepts TCP but never speaks SSH: the connect timeout applies.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var accepted atomic.Int32
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				accepted.Add(1)
				defer c.Close()
			}
		}()
		s := sshServer(d, "server1")
		s.SSH.Port = l.Addr().(*net.TCPAddr).Port
		s.SSH.ConnectTimeout = 300 * time.Millisecond
		p := host.NewPool(host.Options{})
		defer p.Close()
		start := time.Now()
		err = p.Host(s).Connect(ctx)
		if err == nil || !strings.Contains(err.Error(), "no SSH handshake within the connect timeout") {
			t.Fatalf("got %v", err)
		}
		// Without the timeout the handshake would wait forever; the bound
		// is loose so a loaded machine does not fail it.
		if el := time.Since(start); el > 30*time.Second {
			t.Errorf("took %s", el)
		}
		// The failure is remembered: the next operation fails with the same
		// error without dialing again.
		if _, err2 := p.Host(s).Run(ctx, "true", nil); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("second attempt: %v", err2)
		}
		if n := accepted.Load(); n != 1 {
			t.Errorf("%d connections accepted, want 1 (the failed dial was not remembered)", n)
		}
	})
	t.Run("nothing listens", func(t *testing.T) {
		s := sshServer(d, "server1")
		s.SSH.Port = 1
		p := host.NewPool(host.Options{})
		defer p.Close()
		err := p.Host(s).Connect(ctx)
		if err == nil || !strings.Contains(err.Error(), "cannot reach server server1 at 127.0.0.1:1") {
			t.Fatalf("got %v", err)
		}
	})
}

// TestOneConnectionReused: many commands and dials share one SSH connection,
// and a dropped connection is re-dialed.
func TestOneConnectionReused(t *testing.T) {
	d := sshdtest.Start(t)
	var log bytes.Buffer
	p := host.NewPool(host.Options{Log: &log})
	defer p.Close()
	h := p.Host(sshServer(d, "server1"))
	ctx := context.Background()
	errs := make(chan error, 30)
	for i := 0; i < 30; i++ {
		go func() {
			_, err := h.Run(ctx, "echo $SSH_CONNECTION", nil)
			errs <- err
		}()
	}
	for i := 0; i < 30; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(log.String(), "connected to server1"); n != 1 {
		t.Fatalf("%d connections:\n%s", n, log.String())
	}
	h.Close()
	if _, err := h.Run(ctx, "true", nil); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), "connected to server1"); n != 2 {
		t.Fatalf("want a reconnect, log:\n%s", log.String())
	}
	// The server side drops the connection: the next command redials.
	d.DropConnections(t)
	if _, err := h.Run(ctx, "true", nil); err != nil {
		t.Fatalf("after the connection dropped: %v", err)
	}
	if n := strings.Count(log.String(), "connected to server1"); n != 3 {
		t.Fatalf("want a second reconnect, log:\n%s", log.String())
	}
}

// TestJumpHost reaches a server through another sshd (ProxyJump): both
// sshds see a login, and the target's commands and dials work.
func TestJumpHost(t *testing.T) {
	jump := sshdtest.Start(t)
	target := sshdtest.Start(t)
	s := sshServer(target, "server1")
	s.SSH.Jump = &schema.JumpHost{Address: "127.0.0.1", Port: jump.Port, User: "root", KeyFile: jump.ClientKey}
	// One known_hosts for both hosts.
	a, _ := os.ReadFile(target.KnownHosts)
	b, _ := os.ReadFile(jump.KnownHosts)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, append(a, b...), 0o600)
	s.SSH.KnownHostsFile = kh
	var log bytes.Buffer
	p := host.NewPool(host.Options{Log: &log})
	defer p.Close()
	out, err := p.Host(s).Run(context.Background(), "echo through", nil)
	if err != nil || string(out) != "through\n" {
		t.Fatalf("%q %v", out, err)
	}
	if !strings.Contains(log.String(), "via jump host 127.0.0.1") {
		t.Errorf("log %q", log.String())
	}
	if !strings.Contains(jump.Log(), "Accepted publickey for root") || !strings.Contains(target.Log(), "Accepted publickey for root") {
		t.Errorf("logins: jump %q, target %q", jump.Log(), target.Log())
	}
	// A jump host not in known_hosts is refused like any host.
	os.WriteFile(kh, a, 0o600)
	p2 := host.NewPool(host.Options{})
	defer p2.Close()
	if err := p2.Host(s).Connect(context.Background()); err == nil || !strings.Contains(err.Error(), "jump host of server1") || !strings.Contains(err.Error(), "is unknown") {
		t.Errorf("unknown jump host: %v", err)
	}
}

// TestSudo runs commands through `sudo -n sh -c` (as root, so no sudoers
// entry is needed): quoting survives the extra layer and a timeout still
// applies.
func TestSudo(t *testing.T) {
	if _, err := os.Stat("/usr/bin/sudo"); err != nil {
		t.Skip("sudo is not installed (apt-get install sudo)")
	}
	d := sshdtest.Start(t)
	for _, s := range []*schema.Server{sshServer(d, "server1"), localServer("here")} {
		t.Run(s.Transport, func(t *testing.T) {
			s.SSH.Sudo = true
			p := host.NewPool(host.Options{})
			defer p.Close()
			h := p.Host(s)
			v := "it's $(id) `x` ; \n"
			out, err := h.Run(context.Background(), `printf '%s|%s' "$SUDO_USER" `+host.Quote(v), nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != "root|"+v {
				t.Errorf("got %q", out)
			}
			dir := t.TempDir()
			if err := host.WriteFile(context.Background(), h, filepath.Join(dir, "f"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFileScript writes files of any content through a script on stdin.
func TestFileScript(t *testing.T) {
	eachTransport(t, func(t *testing.T, h host.Host) {
		dir := filepath.Join(t.TempDir(), "it's a dir")
		os.MkdirAll(dir, 0o755)
		files := map[string][]byte{
			"empty":      nil,
			"binary":     {0, 1, 2, 255, '\n', 0},
			"heredoc":    []byte("HACTL_BASE64_END\nEOF\n$(id)\n'"),
			"big":        bytes.Repeat([]byte("0123456789abcdef"), 20000),
			"no newline": []byte("x"),
		}
		var script strings.Builder
		for name, content := range files {
			script.WriteString(host.FileScript(filepath.Join(dir, name), content, 0o600))
		}
		script.WriteString("echo done\n")
		out, err := host.RunStdinScript(context.Background(), h, script.String())
		if err != nil || string(out) != "done\n" {
			t.Fatalf("%q %v", out, err)
		}
		for name, content := range files {
			got, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil || !bytes.Equal(got, content) {
				t.Errorf("%s: got %d bytes %v", name, len(got), err)
			}
			fi, _ := os.Stat(filepath.Join(dir, name))
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %o", name, fi.Mode().Perm())
			}
		}
		// A failed write stops the script.
		_, err = host.RunStdinScript(context.Background(), h, host.FileScript("/nonexistent/dir/f", []byte("x"), 0o600)+"echo not reached\n")
		if err == nil || strings.Contains(err.Error(), "not reached") || !strings.Contains(err.Error(), "writing /nonexistent/dir/f failed") {
			t.Errorf("got %v", err)
		}
	})
}

// TestAgent logs in with a key held by a real ssh-agent (no key_file).
func TestAgent(t *testing.T) {
	if _, err := exec.LookPath("ssh-agent"); err != nil {
		t.Skip("ssh-agent not installed (openssh-client)")
	}
	d := sshdtest.Start(t)
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	for deadline := time.Now().Add(time.Minute); ; {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ssh-agent did not create its socket within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	add := exec.Command("ssh-add", d.ClientKey)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	t.Setenv("SSH_AUTH_SOCK", sock)
	s := sshServer(d, "server1")
	s.SSH.KeyFile = ""
	s.SSH.UseAgent = true
	p := host.NewPool(host.Options{})
	defer p.Close()
	out, err := p.Host(s).Run(context.Background(), "echo agent", nil)
	if err != nil || string(out) != "agent\n" {
		t.Fatalf("%q %v", out, err)
	}
}
