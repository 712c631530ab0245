package host

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hactl/hactl/schema"
)

// knownHostsMu serialises appends to known_hosts files (accept-new).
var knownHostsMu sync.Mutex

// hostKeyChecker verifies a server's host key per its policy and remembers
// the precise error, which the ssh package would otherwise wrap in a
// generic handshake failure.
type hostKeyChecker struct {
	name   string
	policy string
	file   string
	db     ssh.HostKeyCallback // nil when the file does not exist
	log    io.Writer
	err    error
}

func newHostKeyChecker(name string, s schema.SSHSettings, log io.Writer) (*hostKeyChecker, error) {
	policy := s.HostKeyPolicy
	if policy == "" {
		policy = schema.HostKeyStrict
	}
	hk := &hostKeyChecker{name: name, policy: policy, log: log}
	if policy == schema.HostKeyInsecure {
		return hk, nil
	}
	file := s.KnownHostsFile
	if file == "" {
		file = "~/.ssh/known_hosts"
	}
	file, err := ExpandHome(file)
	if err != nil {
		return nil, err
	}
	hk.file = file
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	fi, err := os.Stat(file)
	if errors.Is(err, fs.ErrNotExist) {
		return hk, nil
	}
	if c, ok := knownHostsParsed[file]; ok && err == nil && c.mod.Equal(fi.ModTime()) && c.size == fi.Size() {
		hk.db = c.db
		return hk, nil
	}
	db, err := knownhosts.New(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("server %s: reading known_hosts file %s: %w", name, file, err)
	}
	if err == nil {
		hk.db = db
		if fi != nil {
			knownHostsParsed[file] = parsedKnownHosts{fi.ModTime(), fi.Size(), db}
		}
	}
	return hk, nil
}

// knownHostsParsed keeps each known_hosts file parsed (under knownHostsMu)
// while it stays as it was: a cluster of 100 servers sharing one file
// parses it once, not once per connection.
var knownHostsParsed = map[string]parsedKnownHosts{}

type parsedKnownHosts struct {
	mod  time.Time
	size int64
	db   ssh.HostKeyCallback
}

// algorithms returns the host key algorithms of the keys known for addr, so
// the server is asked for a key type the file can vouch for.
func (hk *hostKeyChecker) algorithms(addr string) []string {
	if hk.db == nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if err := hk.db(addr, &net.TCPAddr{IP: net.IPv4zero}, probeKey); !errors.As(err, &ke) || len(ke.Want) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(a ...string) {
		for _, x := range a {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	for _, k := range ke.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	return out
}

var probeKey = func() ssh.PublicKey {
	seed := make([]byte, ed25519.SeedSize)
	k, _ := ssh.NewPublicKey(ed25519.NewKeyFromSeed(seed).Public())
	return k
}()

func (hk *hostKeyChecker) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	if hk.policy == schema.HostKeyInsecure {
		return nil
	}
	hk.err = hk.verify(hostname, remote, key)
	return hk.err
}

func (hk *hostKeyChecker) verify(hostname string, remote net.Addr, key ssh.PublicKey) error {
	fp := ssh.FingerprintSHA256(key)
	var err error
	if hk.db != nil {
		err = hk.db(hostname, remote, key)
		if err == nil {
			return nil
		}
	}
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		return fmt.Errorf("host key of server %s (%s) is revoked in %s line %d", hk.name, hostname, re.Revoked.Filename, re.Revoked.Line)
	case errors.As(err, &ke) && len(ke.Want) > 0:
		w := ke.Want[0]
		return fmt.Errorf("host key for server %s (%s) does not match known_hosts line %d of %s: possible man-in-the-middle attack, or the server was reinstalled; it offered %s %s. If the change is expected, remove the old entry (ssh-keygen -R %s -f %s) and connect again",
			hk.name, hostname, w.Line, w.Filename, key.Type(), fp, Quote(knownhosts.Normalize(hostname)), Quote(hk.file))
	case err != nil && !errors.As(err, &ke):
		return fmt.Errorf("server %s: checking host key against %s: %w", hk.name, hk.file, err)
	}
	// Unknown host.
	if hk.policy == schema.HostKeyAcceptNew {
		if err := appendKnownHost(hk.file, hostname, key); err != nil {
			return fmt.Errorf("server %s: adding its host key to %s: %w", hk.name, hk.file, err)
		}
		fmt.Fprintf(hk.log, "added host key of %s (%s, %s %s) to %s\n", hk.name, hostname, key.Type(), fp, hk.file)
		return nil
	}
	host, port, _ := net.SplitHostPort(hostname)
	return fmt.Errorf("host key of server %s (%s) is unknown: it is not in %s. Check its fingerprint (%s %s) out of band and add it (ssh-keyscan -p %s %s >> %s), or set host_key_policy = \"accept-new\" for this server",
		hk.name, hostname, hk.file, key.Type(), fp, port, Quote(host), Quote(hk.file))
}

func appendKnownHost(file, hostname string, key ssh.PublicKey) error {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
