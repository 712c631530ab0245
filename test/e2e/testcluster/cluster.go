package testcluster

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/sync/errgroup"

	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/test/images"
)

// Host names of the cluster, as in the HA guide.
const (
	Server1 = "server1"
	Server2 = "server2"
	Server3 = "server3"
	DBHost  = "db"
)

// Hosts are the SSH hosts, in order.
var Hosts = []string{Server1, Server2, Server3}

const (
	// User is the SSH user with the run's key; DeployUser is a non-root user
	// with the same key and password-less sudo.
	User       = "root"
	DeployUser = "deploy"
	// DBUser is the registry database user (MariaDB root, allowed from
	// anywhere); DBPort its port; Database the registry database created at
	// start unless Options.NoDatabase.
	DBUser   = "root"
	DBPort   = 3306
	Database = "dbgpt"

	// SimPath is where the dbgpt-sim binary lives on a host; /usr/local/bin/dbgpt
	// is a wrapper that sets the claimed version and execs it.
	SimPath = "/usr/local/lib/hactl-e2e/bin/dbgpt"
	// DBGPTPath is the `dbgpt` command on a host.
	DBGPTPath = "/usr/local/bin/dbgpt"
)

// Model directories made on server3 (unless Options.NoModelDirs), as in the guide.
var ModelDirs = []string{"/app/models/glm-4-9b-chat", "/app/models/text2vec-large-chinese"}

// Options choose what the cluster looks like.
type Options struct {
	// Generation is the DB-GPT generation dbgpt-sim claims: schema.GenerationFlags
	// (the default, version 0.6.3) or schema.GenerationTOML (version 0.7.0).
	Generation schema.Generation
	// SimVersion overrides the exact version dbgpt-sim claims.
	SimVersion string
	// SimEnv are further defaults the `dbgpt` wrapper exports unless the caller's
	// environment sets them, e.g. DBGPT_SIM_PROBE_INTERVAL=1s.
	SimEnv map[string]string
	// NoModelDirs leaves out the model directories on server3.
	NoModelDirs bool
	// NoDatabase leaves out creating the registry database.
	NoDatabase bool
	// NoSim skips building and installing dbgpt-sim (hosts then have no dbgpt).
	NoSim bool
}

// Cluster is one running test cluster.
type Cluster struct {
	// ID is unique per cluster; container names are hactl-e2e-<ID>-<host>.
	ID      string
	Network string
	Subnet  netip.Prefix
	// Dir holds the run's files: the SSH key, known_hosts, the sim binary.
	Dir            string
	KeyPath        string
	KnownHostsPath string
	// DBPassword is the generated password of DBUser.
	DBPassword string
	Generation schema.Generation
	SimVersion string

	t       testing.TB
	ips     map[string]netip.Addr
	signer  ssh.Signer
	hostKey map[string]ssh.PublicKey

	mu      sync.Mutex
	clients map[string]*ssh.Client
	dbs     []*sql.DB
	down    bool
}

// Start starts a cluster for t and registers its teardown with t.Cleanup. It
// skips t when HACTL_E2E=skip and fails t when Docker is unusable.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip: no Docker test cluster")
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := dockerUsable(ctx); err != nil {
		t.Fatalf("test cluster: Docker is not usable (set HACTL_E2E=skip to skip e2e tests): %v", err)
	}
	sweepOnce.Do(func() { sweep(t) })

	c := &Cluster{
		ID:         runID(),
		Dir:        t.TempDir(),
		Generation: opts.Generation,
		SimVersion: opts.SimVersion,
		t:          t,
		ips:        map[string]netip.Addr{},
		hostKey:    map[string]ssh.PublicKey{},
		clients:    map[string]*ssh.Client{},
	}
	if c.Generation == "" {
		c.Generation = schema.GenerationFlags
	}
	if c.SimVersion == "" {
		c.SimVersion = map[schema.Generation]string{schema.GenerationFlags: "0.6.3", schema.GenerationTOML: "0.7.0"}[c.Generation]
		if c.SimVersion == "" {
			t.Fatalf("test cluster: unknown generation %q", c.Generation)
		}
	}
	c.Network = "hactl-e2e-" + c.ID
	c.KeyPath = filepath.Join(c.Dir, "id_ed25519")
	c.KnownHostsPath = filepath.Join(c.Dir, "known_hosts")
	c.DBPassword = randHex(16)
	register(c)
	t.Cleanup(c.teardown)

	// Images, the sim binary and the keys do not depend on each other.
	var imgs images.Images
	simBinary := filepath.Join(c.Dir, "dbgpt-sim")
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		imgs, err = images.Ensure(gctx, t.Logf)
		return err
	})
	if !opts.NoSim {
		g.Go(func() error { return buildSim(gctx, simBinary) })
	}
	hostKeys := map[string]ed25519.PrivateKey{}
	g.Go(func() error {
		_, userKey, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		if c.signer, err = ssh.NewSignerFromKey(userKey); err != nil {
			return err
		}
		block, err := ssh.MarshalPrivateKey(userKey, "hactl-e2e "+c.ID)
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.KeyPath, pem.EncodeToMemory(block), 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(c.KeyPath+".pub", ssh.MarshalAuthorizedKey(c.signer.PublicKey()), 0o644); err != nil {
			return err
		}
		for _, h := range Hosts {
			_, k, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			hostKeys[h] = k
			pub, err := ssh.NewPublicKey(k.Public())
			if err != nil {
				return err
			}
			c.hostKey[h] = pub
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		t.Fatalf("test cluster: %v", err)
	}
	prepared := time.Now()

	if err := c.createNetwork(ctx); err != nil {
		t.Fatalf("test cluster: %v", err)
	}
	var khosts bytes.Buffer
	for _, h := range Hosts {
		khosts.WriteString(knownhosts.Line([]string{c.ips[h].String(), h}, c.hostKey[h]) + "\n")
	}
	if err := os.WriteFile(c.KnownHostsPath, khosts.Bytes(), 0o600); err != nil {
		t.Fatalf("test cluster: %v", err)
	}

	g, gctx = errgroup.WithContext(ctx)
	for _, h := range Hosts {
		g.Go(func() error {
			files, err := c.hostFiles(h, hostKeys[h], simBinary, opts)
			if err != nil {
				return err
			}
			if err := c.run(gctx, imgs.Host, h, nil, files); err != nil {
				return err
			}
			return c.waitSSH(gctx, h)
		})
	}
	g.Go(func() error {
		env := "MARIADB_ROOT_PASSWORD=" + c.DBPassword + "\n"
		if !opts.NoDatabase {
			env += "MARIADB_DATABASE=" + Database + "\n"
		}
		envFile := filepath.Join(c.Dir, "db.env")
		if err := os.WriteFile(envFile, []byte(env), 0o600); err != nil {
			return err
		}
		if err := c.run(gctx, imgs.DB, DBHost, []string{"--env-file", envFile}, nil); err != nil {
			return err
		}
		return c.waitDB(gctx)
	})
	if err := g.Wait(); err != nil {
		t.Fatalf("test cluster: %v", err)
	}
	t.Logf("test cluster %s up in %s (images and sim ready after %s; containers %s): server1 %s, server2 %s, server3 %s, db %s, dbgpt %s",
		c.ID, time.Since(began).Round(10*time.Millisecond), prepared.Sub(began).Round(10*time.Millisecond),
		time.Since(prepared).Round(10*time.Millisecond),
		c.ips[Server1], c.ips[Server2], c.ips[Server3], c.ips[DBHost], c.SimVersion)
	return c
}

// IP returns the address of host (server1..3 or db) on the cluster network;
// it is reachable from this machine.
func (c *Cluster) IP(host string) string {
	ip, ok := c.ips[host]
	if !ok {
		c.t.Fatalf("test cluster: no host %q", host)
	}
	return ip.String()
}

// Container returns the Docker container name of host.
func (c *Cluster) Container(host string) string { return "hactl-e2e-" + c.ID + "-" + host }

// DBAddr returns host:port of the registry database as seen from this machine.
func (c *Cluster) DBAddr() string { return net.JoinHostPort(c.IP(DBHost), strconv.Itoa(DBPort)) }

// DSN returns a go-sql-driver/mysql DSN for database (empty: none) on the db host.
func (c *Cluster) DSN(database string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = DBUser, c.DBPassword, database
	cfg.Net, cfg.Addr = "tcp", c.DBAddr()
	cfg.ParseTime = true
	cfg.Timeout = 5 * time.Second
	return cfg.FormatDSN()
}

// DB opens the registry database (Database); it is closed at teardown.
func (c *Cluster) DB() *sql.DB { return c.OpenDB(Database) }

// OpenDB opens database (empty: no default database) on the db host; it is
// closed at teardown.
func (c *Cluster) OpenDB(database string) *sql.DB {
	db, err := sql.Open("mysql", c.DSN(database))
	if err != nil {
		c.t.Fatalf("test cluster: open %s: %v", database, err)
	}
	c.mu.Lock()
	c.dbs = append(c.dbs, db)
	c.mu.Unlock()
	return db
}

// URL returns http://<address of host>:<port>, e.g. a controller's base URL.
func (c *Cluster) URL(host string, port int) string {
	return "http://" + net.JoinHostPort(c.IP(host), strconv.Itoa(port))
}

func (c *Cluster) createNetwork(ctx context.Context) error {
	// Docker picks a free subnet; the network is then made again with that
	// subnet given explicitly, because only then may containers be started
	// and reconnected with fixed addresses (Reconnect and StartHost keep a
	// host's address, as a real server's would be kept).
	labels := c.labels()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if err := docker(ctx, nil, append(append([]string{"network", "create"}, labels...), c.Network)...); err != nil {
			return err
		}
		var out bytes.Buffer
		err := docker(ctx, &out, "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", c.Network)
		_ = docker(ctx, nil, "network", "rm", c.Network)
		if err != nil {
			return err
		}
		fields := strings.Fields(out.String())
		if len(fields) != 2 {
			return fmt.Errorf("network %s: unexpected IPAM config %q", c.Network, out.String())
		}
		subnet, err := netip.ParsePrefix(fields[0])
		if err != nil {
			return fmt.Errorf("network %s: subnet: %w", c.Network, err)
		}
		lastErr = docker(ctx, nil, append(append([]string{"network", "create", "--subnet", fields[0], "--gateway", fields[1]}, labels...), c.Network)...)
		if lastErr != nil {
			continue // another run took the subnet in between
		}
		c.Subnet = subnet.Masked()
		ip := c.Subnet.Addr()
		for i := 0; i < 10; i++ {
			ip = ip.Next()
		}
		for _, h := range append(append([]string{}, Hosts...), DBHost) {
			ip = ip.Next()
			c.ips[h] = ip
		}
		return nil
	}
	return fmt.Errorf("network %s: %w", c.Network, lastErr)
}

func (c *Cluster) labels() []string {
	return []string{"--label", images.Label + "=1", "--label", labelRun + "=" + c.ID, "--label", labelPID + "=" + strconv.Itoa(os.Getpid())}
}

// run creates, fills and starts the container of host.
func (c *Cluster) run(ctx context.Context, image, host string, extra []string, files []file) error {
	args := []string{"create", "--name", c.Container(host), "--hostname", host,
		"--network", c.Network, "--network-alias", host, "--ip", c.ips[host].String(),
		"--stop-timeout", "2"}
	args = append(args, c.labels()...)
	args = append(args, extra...)
	args = append(args, image)
	if err := docker(ctx, nil, args...); err != nil {
		return err
	}
	if len(files) > 0 {
		archive, err := tarOf(files)
		if err != nil {
			return err
		}
		if err := dockerIn(ctx, bytes.NewReader(archive), nil, "cp", "-a", "-", c.Container(host)+":/"); err != nil {
			return err
		}
	}
	return docker(ctx, nil, "start", c.Container(host))
}

func (c *Cluster) hostFiles(host string, hostKey ed25519.PrivateKey, simBinary string, opts Options) ([]file, error) {
	block, err := ssh.MarshalPrivateKey(hostKey, "")
	if err != nil {
		return nil, err
	}
	auth := ssh.MarshalAuthorizedKey(c.signer.PublicKey())
	files := []file{
		{path: "etc/ssh/ssh_host_ed25519_key", mode: 0o600, data: pem.EncodeToMemory(block)},
		{path: "etc/ssh/ssh_host_ed25519_key.pub", mode: 0o644, data: ssh.MarshalAuthorizedKey(c.hostKey[host])},
		{path: "root/.ssh", mode: 0o700, dir: true},
		{path: "root/.ssh/authorized_keys", mode: 0o600, data: auth},
		{path: "home/deploy/.ssh", mode: 0o700, dir: true, uid: 1000},
		{path: "home/deploy/.ssh/authorized_keys", mode: 0o600, data: auth, uid: 1000},
	}
	if !opts.NoSim {
		bin, err := os.ReadFile(simBinary)
		if err != nil {
			return nil, err
		}
		files = append(files,
			file{path: "usr/local/lib/hactl-e2e", mode: 0o755, dir: true},
			file{path: "usr/local/lib/hactl-e2e/bin", mode: 0o755, dir: true},
			file{path: strings.TrimPrefix(SimPath, "/"), mode: 0o755, data: bin},
			file{path: strings.TrimPrefix(DBGPTPath, "/"), mode: 0o755, data: wrapper(c.SimVersion, opts.SimEnv)},
		)
	}
	if host == Server3 && !opts.NoModelDirs {
		files = append(files, file{path: "app", mode: 0o755, dir: true}, file{path: "app/models", mode: 0o755, dir: true})
		for _, d := range ModelDirs {
			files = append(files, file{path: strings.TrimPrefix(d, "/"), mode: 0o755, dir: true},
				file{path: strings.TrimPrefix(d, "/") + "/config.json", mode: 0o644, data: []byte("{}\n")})
		}
	}
	return files, nil
}

// wrapper is /usr/local/bin/dbgpt: it sets the version dbgpt-sim claims (and
// the test knobs) for every caller, including non-interactive SSH commands,
// unless the caller's environment already sets them.
func wrapper(version string, env map[string]string) []byte {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# dbgpt on the hactl e2e test cluster: dbgpt-sim claiming DB-GPT " + version + ".\n")
	vars := map[string]string{"DBGPT_SIM_VERSION": version}
	for k, v := range env {
		vars[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		fmt.Fprintf(&b, "if [ -z \"${%s+set}\" ]; then %s=%s; export %s; fi\n", k, k, shellQuote(vars[k]), k)
	}
	b.WriteString("exec " + SimPath + " \"$@\"\n")
	return []byte(b.String())
}

// SSHConfig returns a client configuration for user with the run's key,
// verifying host keys against the run's known_hosts file.
func (c *Cluster) SSHConfig(user string) *ssh.ClientConfig {
	cb, err := knownhosts.New(c.KnownHostsPath)
	if err != nil {
		c.t.Fatalf("test cluster: %v", err)
	}
	return &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(c.signer)},
		HostKeyCallback: cb, HostKeyAlgorithms: []string{ssh.KeyAlgoED25519}, Timeout: 5 * time.Second}
}

func (c *Cluster) dial(host string) (*ssh.Client, error) {
	return ssh.Dial("tcp", net.JoinHostPort(c.IP(host), "22"), c.SSHConfig(User))
}

// SSHClient returns a connected SSH client to host as root, reused between
// calls; it is dropped when a fault lever touches the host.
func (c *Cluster) SSHClient(host string) (*ssh.Client, error) {
	c.mu.Lock()
	cl := c.clients[host]
	c.mu.Unlock()
	if cl != nil {
		return cl, nil
	}
	cl, err := c.dial(host)
	if err != nil {
		return nil, fmt.Errorf("ssh %s@%s (%s): %w", User, host, c.IP(host), err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.clients[host]; old != nil {
		cl.Close()
		return old, nil
	}
	c.clients[host] = cl
	return cl, nil
}

func (c *Cluster) dropClient(host string) {
	c.mu.Lock()
	cl := c.clients[host]
	delete(c.clients, host)
	c.mu.Unlock()
	if cl != nil {
		cl.Close()
	}
}

// SSHTimeout bounds every command run by SSH.
var SSHTimeout = time.Minute

// SSH runs cmd on host over real SSH (a login-less shell command) with
// stdin as its standard input (may be nil) and returns its standard output
// and error. A non-zero exit is an error carrying the standard error.
func (c *Cluster) SSH(host, cmd string, stdin []byte) (string, error) {
	cl, err := c.SSHClient(host)
	if err != nil {
		return "", err
	}
	s, err := cl.NewSession()
	if err != nil {
		c.dropClient(host)
		if cl, err = c.SSHClient(host); err != nil {
			return "", err
		}
		if s, err = cl.NewSession(); err != nil {
			return "", fmt.Errorf("ssh %s: session: %w", host, err)
		}
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr = &out, &errb
	if stdin != nil {
		s.Stdin = bytes.NewReader(stdin)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case err = <-done:
	case <-time.After(SSHTimeout):
		s.Close()
		err = fmt.Errorf("no answer after %s (a background process holding the session's output?)", SSHTimeout)
	}
	if err != nil {
		return out.String(), fmt.Errorf("ssh %s: %q: %v: %s", host, cmd, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// MustSSH is SSH that fails the test on error.
func (c *Cluster) MustSSH(host, cmd string) string {
	c.t.Helper()
	out, err := c.SSH(host, cmd, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// Exec runs a shell script on host through docker exec (no SSH) and returns
// its standard output; a non-zero exit is an error carrying standard error.
func (c *Cluster) Exec(host, script string) (string, error) {
	var out bytes.Buffer
	err := docker(context.Background(), &out, "exec", c.Container(host), "sh", "-c", script)
	return out.String(), err
}

// Kill kills host's container (every process on it dies at once, like a power
// cut); StartHost brings it back with the same address and host key.
func (c *Cluster) Kill(host string) error { return c.lever(host, "kill", c.Container(host)) }

// StopHost stops host's container gracefully (SIGTERM, then kill after 2 s).
func (c *Cluster) StopHost(host string) error {
	return c.lever(host, "stop", "-t", "2", c.Container(host))
}

// StartHost starts host's stopped or killed container and waits until it
// serves (sshd answers, or the database accepts a login).
func (c *Cluster) StartHost(host string) error {
	if err := c.lever(host, "start", c.Container(host)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if host == DBHost {
		return c.waitDB(ctx)
	}
	return c.waitSSH(ctx, host)
}

// Pause freezes every process of host (it stays on the network but answers
// nothing); Unpause thaws it.
func (c *Cluster) Pause(host string) error   { return c.lever(host, "pause", c.Container(host)) }
func (c *Cluster) Unpause(host string) error { return c.lever(host, "unpause", c.Container(host)) }

// Disconnect takes host off the cluster network (its processes keep running);
// Reconnect puts it back with the same address.
func (c *Cluster) Disconnect(host string) error {
	return c.lever(host, "network", "disconnect", c.Network, c.Container(host))
}
func (c *Cluster) Reconnect(host string) error {
	return c.lever(host, "network", "connect", "--alias", host, "--ip", c.IP(host), c.Network, c.Container(host))
}

func (c *Cluster) lever(host string, args ...string) error {
	c.IP(host) // fails the test on an unknown host
	c.dropClient(host)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return docker(ctx, nil, args...)
}

func (c *Cluster) waitSSH(ctx context.Context, host string) error {
	var last error
	for {
		cl, err := c.dial(host)
		if err == nil {
			c.mu.Lock()
			if old := c.clients[host]; old != nil {
				old.Close()
			}
			c.clients[host] = cl
			c.mu.Unlock()
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s (%s): sshd did not answer: %v", host, c.IP(host), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) waitDB(ctx context.Context) error {
	db, err := sql.Open("mysql", c.DSN(""))
	if err != nil {
		return err
	}
	defer db.Close()
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = db.PingContext(pctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("db (%s): MariaDB did not accept a login: %v\n%s", c.DBAddr(), last, containerLogs(context.Background(), c.Container(DBHost), 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Close tears the cluster down now instead of at the end of the test.
func (c *Cluster) Close() { c.teardown() }

// teardown removes the containers and the network. It runs at t.Cleanup and
// on interrupt, at most once.
func (c *Cluster) teardown() {
	c.mu.Lock()
	if c.down {
		c.mu.Unlock()
		return
	}
	c.down = true
	for _, cl := range c.clients {
		cl.Close()
	}
	for _, db := range c.dbs {
		db.Close()
	}
	c.mu.Unlock()
	unregister(c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if c.t.Failed() {
		for _, h := range append(append([]string{}, Hosts...), DBHost) {
			c.t.Logf("test cluster %s: last lines of %s's container log:\n%s", c.ID, h, containerLogs(ctx, c.Container(h), 15))
		}
	}
	if err := removeRun(ctx, labelRun+"="+c.ID); err != nil {
		c.t.Errorf("test cluster %s teardown: %v", c.ID, err)
	}
}

func buildSim(ctx context.Context, out string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	var errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/dbgpt-sim")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = &errb, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/dbgpt-sim in %s: %v\n%s", root, err, errb.String())
	}
	return nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func runID() string { return randHex(4) }

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
