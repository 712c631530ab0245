// Package sshdtest starts a real OpenSSH server on loopback for tests: a
// generated host key, a generated client key in authorized_keys, root login,
// no passwords. Tests skip when HACTL_E2E=skip; when /usr/sbin/sshd is
// missing they fail with the package to install (openssh-server).
package sshdtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hactl/hactl/internal/testport"
)

// Server is a running sshd.
type Server struct {
	Dir        string        // temporary directory of keys and config
	Port       int           // on 127.0.0.1
	HostKey    ssh.PublicKey // the server's host key
	ClientKey  string        // private key file that may log in
	KnownHosts string        // a known_hosts file holding HostKey for 127.0.0.1:Port
	PID        int           // of the listening sshd
}

// SkipIfDisabled skips the test when HACTL_E2E=skip.
func SkipIfDisabled(t testing.TB) {
	t.Helper()
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip: no real sshd")
	}
}

// Start runs sshd for the duration of the test.
func Start(t testing.TB) *Server {
	t.Helper()
	SkipIfDisabled(t)
	const sshd = "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Fatalf("%s is missing: install openssh-server (apt-get install -y openssh-server) or set HACTL_E2E=skip", sshd)
	}
	dir := t.TempDir()
	hostPub := writeKey(t, filepath.Join(dir, "host_ed25519"))
	clientPub := writeKey(t, filepath.Join(dir, "client_ed25519"))
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll("/run/sshd", 0o755) // privilege separation directory
	port := freePort(t)
	cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin yes
StrictModes no
UsePAM no
PidFile %s
LogLevel INFO
MaxStartups 100
`, port, filepath.Join(dir, "host_ed25519"), filepath.Join(dir, "authorized_keys"), filepath.Join(dir, "sshd.pid"))
	cfgFile := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfgFile)
	logf, err := os.Create(filepath.Join(dir, "sshd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sshd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(time.Minute) // generous: a loaded machine
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			t.Fatalf("sshd did not listen on %s within a minute: %v\n%s", addr, err, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	kh := filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, hostPub)
	if err := os.WriteFile(kh, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &Server{Dir: dir, Port: port, HostKey: hostPub, ClientKey: filepath.Join(dir, "client_ed25519"), KnownHosts: kh, PID: cmd.Process.Pid}
}

// Addr is 127.0.0.1:Port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// WriteKey writes a new passphrase-less ed25519 private key to path (mode
// 0600) and returns its public key.
func WriteKey(t testing.TB, path string) ssh.PublicKey { return writeKey(t, path) }

func writeKey(t testing.TB, path string) ssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func freePort(t testing.TB) int { return testport.Free(t) }

// Log returns what sshd logged so far (LogLevel INFO: one "Accepted
// publickey" line per login).
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "sshd.log"))
	return string(b)
}

// DropConnections kills sshd's per-connection processes (its children), as
// a network failure or a server restart would end every open connection.
func (s *Server) DropConnections(t testing.TB) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", s.PID, s.PID))
	if err != nil {
		t.Fatalf("listing sshd's children: %v", err)
	}
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
