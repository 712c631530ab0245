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
	"net/http"
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
	// Bastion is the jump host of Options.Bastion (the plain host image).
	Bastion = "bastion"
)

// Hosts are the SSH hosts, in order.
var Hosts = []string{Server1, Server2, Server3}

// Users on every SSH host (both images). The run's key is authorized for
// User, DeployUser, NoSudoUser and PasswordSudoUser.
const (
	// User is the SSH user the harness uses.
	User = "root"
	// DeployUser (uid 1000) has password-less sudo.
	DeployUser = "deploy"
	// NoSudoUser (uid 1001) has no sudo rights at all.
	NoSudoUser = "nosudo"
	// PasswordSudoUser (uid 1002) may use sudo, which asks for a password
	// (a random one nobody knows): `sudo -n` fails.
	PasswordSudoUser = "pwsudo"
	// ServiceUser (uid and gid 999) is a system user with no login shell and
	// no key, home /var/lib/dbgpt: what DB-GPT's processes may run as.
	ServiceUser = "dbgpt"
)

// sshUsers are the users whose authorized_keys the harness writes, with their uid.
var sshUsers = []struct {
	name string
	uid  int
}{{DeployUser, 1000}, {NoSudoUser, 1001}, {PasswordSudoUser, 1002}}

const (
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
	// Systemd runs server1–3 on the systemd image: systemd is PID 1, sshd
	// runs as ssh.service, enabled units come back after RestartHost.
	Systemd bool
	// Bastion adds the host Bastion and makes it the only host of the
	// cluster this machine can connect to (an iptables rule; needs root):
	// the harness reaches the others through an SSH connection to it.
	Bastion bool
	// ExtraHosts adds that many more SSH hosts like server3 (the model
	// directories included), named by ExtraHost(1..ExtraHosts): the
	// benchmark's clusters of up to 100 servers.
	ExtraHosts int
}

// ExtraHost is the name of the i-th extra host (1-based) of
// Options.ExtraHosts: host004, host005, … (server1..3 come first).
func ExtraHost(i int) string { return fmt.Sprintf("host%03d", i+len(Hosts)) }

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
	opts    Options
	ips     map[string]netip.Addr
	signer  ssh.Signer
	hostKey map[string]ssh.PublicKey
	// dbNet is the go-sql-driver network name that dials through the
	// bastion; http the transport of HTTPClient.
	dbNet string
	http  *http.Transport

	mu      sync.Mutex
	clients map[string]*ssh.Client
	dbs     []*sql.DB
	down    bool
	ruleSet bool

	// jump is the harness's SSH connection to the bastion; jumpMu
	// serialises (re)connecting it.
	jumpMu sync.Mutex
	jump   *ssh.Client
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
		opts:       opts,
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
	c.http = &http.Transport{
		DialContext:         func(ctx context.Context, _, addr string) (net.Conn, error) { return c.dialTCP(ctx, addr) },
		MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second,
	}
	if opts.Bastion {
		c.dbNet = "hactl-e2e-" + c.ID
		mysql.RegisterDialContext(c.dbNet, c.dialTCP)
	}
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
		for _, h := range c.sshHosts() {
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
	if opts.Bastion {
		if os.Geteuid() != 0 {
			t.Fatalf("test cluster: Options.Bastion needs root (an iptables rule)")
		}
		comment := ruleComment(c.ID, os.Getpid())
		if err := iptables(ctx, nil, append([]string{"-I", "OUTPUT"}, isolationRule(c.Subnet, c.ips[Bastion], comment)...)...); err != nil {
			t.Fatalf("test cluster: %v", err)
		}
		c.mu.Lock()
		c.ruleSet = true
		c.mu.Unlock()
	}
	var khosts bytes.Buffer
	for _, h := range c.sshHosts() {
		khosts.WriteString(knownhosts.Line([]string{c.ips[h].String(), h}, c.hostKey[h]) + "\n")
	}
	if err := os.WriteFile(c.KnownHostsPath, khosts.Bytes(), 0o600); err != nil {
		t.Fatalf("test cluster: %v", err)
	}

	g, gctx = errgroup.WithContext(ctx)
	// Many hosts (ExtraHosts) start a few at a time: Docker and sshd's
	// first handshakes are CPU work on this machine.
	starting := make(chan struct{}, 8)
	for _, h := range c.sshHosts() {
		g.Go(func() error {
			starting <- struct{}{}
			defer func() { <-starting }()
			files, err := c.hostFiles(h, hostKeys[h], simBinary, opts)
			if err != nil {
				return err
			}
			image, extra := imgs.Host, []string(nil)
			if c.isSystemd(h) {
				image, extra = imgs.Systemd, systemdRunFlags
			}
			if err := c.run(gctx, image, h, extra, files); err != nil {
				return err
			}
			if err := c.waitSSH(gctx, h); err != nil {
				return err
			}
			if c.isSystemd(h) {
				return c.waitBooted(gctx, h, true)
			}
			return nil
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
	kind := "tini+sshd"
	if opts.Systemd {
		kind = "systemd"
	}
	access := "direct from this machine"
	if opts.Bastion {
		access = fmt.Sprintf("only through bastion %s (direct connections refused)", c.ips[Bastion])
	}
	extra := ""
	if opts.ExtraHosts > 0 {
		extra = fmt.Sprintf(", %d more hosts %s..%s", opts.ExtraHosts, ExtraHost(1), ExtraHost(opts.ExtraHosts))
	}
	t.Logf("test cluster %s up in %s (images and sim ready after %s; containers %s): server1 %s, server2 %s, server3 %s (%s)%s, db %s, reached %s, dbgpt %s",
		c.ID, time.Since(began).Round(10*time.Millisecond), prepared.Sub(began).Round(10*time.Millisecond),
		time.Since(prepared).Round(10*time.Millisecond),
		c.ips[Server1], c.ips[Server2], c.ips[Server3], kind, extra, c.ips[DBHost], access, c.SimVersion)
	return c
}

// systemdRunFlags start the systemd image (see test/images/README.md): /run
// and /run/lock must be tmpfs for systemd, and it needs the cgroup
// hierarchy (Docker's own mount of it is not enough on a cgroup v1 host).
var systemdRunFlags = []string{"--tmpfs", "/run", "--tmpfs", "/run/lock", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro"}

// sshHosts are the cluster's SSH hosts: server1..3 and the bastion if any.
func (c *Cluster) sshHosts() []string {
	hosts := c.Servers()
	if c.opts.Bastion {
		hosts = append(hosts, Bastion)
	}
	return hosts
}

// Servers are the hosts a cluster file may deploy to: server1..3, then the
// extra hosts (Options.ExtraHosts).
func (c *Cluster) Servers() []string {
	hosts := append([]string{}, Hosts...)
	for i := 1; i <= c.opts.ExtraHosts; i++ {
		hosts = append(hosts, ExtraHost(i))
	}
	return hosts
}

// allHosts are the cluster's containers: server1..3, db, the bastion if
// any, the extra hosts.
func (c *Cluster) allHosts() []string {
	hosts := append(append([]string{}, Hosts...), DBHost)
	if c.opts.Bastion {
		hosts = append(hosts, Bastion)
	}
	for i := 1; i <= c.opts.ExtraHosts; i++ {
		hosts = append(hosts, ExtraHost(i))
	}
	return hosts
}

func (c *Cluster) isSystemd(host string) bool { return c.opts.Systemd && slices.Contains(Hosts, host) }

// waitBooted waits until systemd on host has finished booting; with
// wantRunning a degraded system (a failed unit) is an error.
func (c *Cluster) waitBooted(ctx context.Context, host string, wantRunning bool) error {
	var out bytes.Buffer
	// is-system-running exits non-zero unless running; --wait blocks until
	// the boot is over.
	_ = docker(ctx, &out, "exec", c.Container(host), "systemctl", "is-system-running", "--wait")
	state := strings.TrimSpace(out.String())
	if state == "running" || (!wantRunning && state == "degraded") {
		return nil
	}
	failed, _ := c.Exec(host, "systemctl --failed --no-legend --no-pager; journalctl -n 30 --no-pager")
	return fmt.Errorf("%s: systemd is %q after boot, want running:\n%s", host, state, failed)
}

// IP returns the address of host (server1..3, db, bastion) on the cluster
// network. With Options.Bastion only the bastion's is reachable from this
// machine; the others through it (SSH, DB, HTTPClient).
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

// DSN returns a go-sql-driver/mysql DSN for database (empty: none) on the db
// host. With Options.Bastion its network is one registered in this process
// that dials through the bastion.
func (c *Cluster) DSN(database string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = DBUser, c.DBPassword, database
	cfg.Net, cfg.Addr = "tcp", c.DBAddr()
	if c.dbNet != "" {
		cfg.Net = c.dbNet
	}
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
		for _, h := range c.allHosts() {
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
		"--stop-timeout", strconv.Itoa(c.stopTimeout(host))}
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

// stopTimeout is how long docker stop/restart waits before killing: systemd
// gets time to stop its units as at a shutdown.
func (c *Cluster) stopTimeout(host string) int {
	if c.isSystemd(host) {
		return 10
	}
	return 2
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
	}
	for _, u := range sshUsers {
		files = append(files, file{path: "home/" + u.name + "/.ssh", mode: 0o700, dir: true, uid: u.uid},
			file{path: "home/" + u.name + "/.ssh/authorized_keys", mode: 0o600, data: auth, uid: u.uid})
	}
	if host == Bastion {
		return files, nil
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
	if (host == Server3 || strings.HasPrefix(host, "host")) && !opts.NoModelDirs {
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

func (c *Cluster) dial(host string) (*ssh.Client, error) { return c.DialSSH(host, User) }

// connectTimeout bounds a TCP connect and an SSH handshake of the harness.
const connectTimeout = 5 * time.Second

// DialSSH opens a new SSH connection to host as user (through the bastion
// with Options.Bastion); the caller closes it.
func (c *Cluster) DialSSH(host, user string) (*ssh.Client, error) {
	addr := net.JoinHostPort(c.IP(host), "22")
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn, err := c.dialTCP(ctx, addr)
	if err != nil {
		return nil, err
	}
	return handshake(conn, addr, c.SSHConfig(user))
}

// handshake runs the SSH handshake on conn within connectTimeout (a
// tunnelled connection has no deadlines of its own).
func handshake(conn net.Conn, addr string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	type result struct {
		conn  ssh.Conn
		chans <-chan ssh.NewChannel
		reqs  <-chan *ssh.Request
		err   error
	}
	done := make(chan result, 1)
	go func() {
		cc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
		done <- result{cc, chans, reqs, err}
	}()
	timer := time.NewTimer(connectTimeout)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			conn.Close()
			return nil, r.err
		}
		return ssh.NewClient(r.conn, r.chans, r.reqs), nil
	case <-timer.C:
		conn.Close()
		return nil, fmt.Errorf("ssh %s: no handshake within %s", addr, connectTimeout)
	}
}

// dialTCP connects to addr (an address on the cluster network) from this
// machine, or with Options.Bastion from the bastion, unless addr is the
// bastion's own.
func (c *Cluster) dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(addr)
	if !c.opts.Bastion || host == c.ips[Bastion].String() {
		d := net.Dialer{Timeout: connectTimeout}
		return d.DialContext(ctx, "tcp", addr)
	}
	for attempt := 0; ; attempt++ {
		jump, err := c.jumpClient(ctx)
		if err != nil {
			return nil, err
		}
		conn, err := dialVia(ctx, jump, addr)
		var refused *ssh.OpenChannelError
		if err == nil || errors.As(err, &refused) || attempt > 0 || ctx.Err() != nil {
			return conn, err
		}
		// The connection to the bastion broke (it was restarted, say): once more
		// on a new one.
		c.dropJump(jump)
	}
}

// dialVia opens a direct-tcpip channel to addr on jump; x/crypto/ssh has no
// deadline for that, so a stuck one is abandoned (and closed when it comes).
func dialVia(ctx context.Context, jump *ssh.Client, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*connectTimeout)
	defer cancel()
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := jump.Dial("tcp", addr)
		done <- result{conn, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("through the bastion to %s: %w", addr, r.err)
		}
		return r.conn, nil
	case <-ctx.Done():
		go func() {
			if r := <-done; r.conn != nil {
				r.conn.Close()
			}
		}()
		return nil, fmt.Errorf("through the bastion to %s: %w", addr, ctx.Err())
	}
}

// jumpUser is who the harness's own tunnel logs in as on the bastion: not
// root, so "Accepted publickey for root" lines in the bastion's log are
// hactl's logins (and c.SSH(Bastion, ...)'s).
const jumpUser = DeployUser

// jumpClient returns the harness's SSH connection to the bastion, made on
// first use and again after it broke.
func (c *Cluster) jumpClient(ctx context.Context) (*ssh.Client, error) {
	c.jumpMu.Lock()
	defer c.jumpMu.Unlock()
	if c.jump != nil {
		return c.jump, nil
	}
	c.mu.Lock()
	down := c.down
	c.mu.Unlock()
	if down {
		return nil, errors.New("test cluster: torn down")
	}
	addr := net.JoinHostPort(c.ips[Bastion].String(), "22")
	d := net.Dialer{Timeout: connectTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bastion %s: %w", addr, err)
	}
	jump, err := handshake(conn, addr, c.SSHConfig(jumpUser))
	if err != nil {
		return nil, fmt.Errorf("bastion %s: %w", addr, err)
	}
	c.jump = jump
	go func() {
		jump.Wait()
		c.dropJump(jump)
	}()
	return jump, nil
}

// dropJump forgets (and closes) jump if it is still the current connection.
func (c *Cluster) dropJump(jump *ssh.Client) {
	c.jumpMu.Lock()
	if c.jump == jump {
		c.jump = nil
	}
	c.jumpMu.Unlock()
	jump.Close()
}

// HTTPClient returns an HTTP client that reaches the cluster's hosts (c.URL):
// through the bastion with Options.Bastion, directly otherwise. Its Timeout
// is 30 s; it is a new client each time, so a caller may change it.
func (c *Cluster) HTTPClient() *http.Client {
	return &http.Client{Transport: c.http, Timeout: 30 * time.Second}
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

// StopHost stops host's container gracefully (SIGTERM, then kill after 2 s;
// on a systemd host a shutdown, killed after 10 s).
func (c *Cluster) StopHost(host string) error {
	return c.lever(host, "stop", "-t", strconv.Itoa(c.stopTimeout(host)), c.Container(host))
}

// StartHost starts host's stopped or killed container and waits until it
// serves (sshd answers, or the database accepts a login).
func (c *Cluster) StartHost(host string) error {
	if err := c.lever(host, "start", c.Container(host)); err != nil {
		return err
	}
	return c.waitServing(host)
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

// RestartHost restarts host's container as a reboot: processes stop (on a
// systemd host, systemd stops its units within 10 s), the container starts
// again with the same address, host key and files, and RestartHost waits
// until it serves again (sshd answers and, on a systemd host, the boot is
// over; or the database accepts a login).
func (c *Cluster) RestartHost(host string) error {
	if err := c.lever(host, "restart", "-t", strconv.Itoa(c.stopTimeout(host)), c.Container(host)); err != nil {
		return err
	}
	return c.waitServing(host)
}

func (c *Cluster) waitServing(host string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if host == DBHost {
		return c.waitDB(ctx)
	}
	if err := c.waitSSH(ctx, host); err != nil {
		return err
	}
	if c.isSystemd(host) {
		return c.waitBooted(ctx, host, false)
	}
	return nil
}

// ContainerLog returns what host logged since its container was made: for a
// systemd host the journal (journalctl, through docker exec; the container's
// own output is empty), else the container's output (sshd's log on the
// plain image: "Accepted publickey for <user> from ..." per login).
func (c *Cluster) ContainerLog(host string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	if c.isSystemd(host) {
		err := docker(ctx, &out, "exec", c.Container(host), "journalctl", "--no-pager", "-q")
		return out.String(), err
	}
	cmd := exec.CommandContext(ctx, "docker", "logs", c.Container(host))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("docker logs %s: %w", c.Container(host), err)
	}
	return out.String(), nil
}

func (c *Cluster) lever(host string, args ...string) error {
	c.IP(host) // fails the test on an unknown host
	c.dropClient(host)
	if host == Bastion {
		c.jumpMu.Lock()
		jump := c.jump
		c.jumpMu.Unlock()
		if jump != nil {
			c.dropJump(jump)
		}
	}
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
	ruleSet := c.ruleSet
	c.mu.Unlock()
	c.jumpMu.Lock()
	if c.jump != nil {
		c.jump.Close()
	}
	c.jumpMu.Unlock()
	c.http.CloseIdleConnections()
	unregister(c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if c.t.Failed() {
		for _, h := range c.allHosts() {
			if c.isSystemd(h) {
				c.t.Logf("test cluster %s: last lines of %s's journal:\n%s", c.ID, h, journalTail(ctx, c.Container(h), 30))
				continue
			}
			c.t.Logf("test cluster %s: last lines of %s's container log:\n%s", c.ID, h, containerLogs(ctx, c.Container(h), 15))
		}
	}
	if err := removeRun(ctx, labelRun+"="+c.ID); err != nil {
		c.t.Errorf("test cluster %s teardown: %v", c.ID, err)
	}
	if ruleSet {
		if err := deleteRunRules(ctx, c.ID); err != nil {
			c.t.Errorf("test cluster %s teardown: %v", c.ID, err)
		}
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
