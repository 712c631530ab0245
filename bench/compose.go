package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/providers/compose"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/test/images"
)

// The compose benchmark's project: the compose example
// (examples/compose/cluster.hcl: a managed registry database, two
// controllers, two proxy workers, a light webserver) under its own project
// and volume names, so it meets no test's project.
const (
	ComposeBenchProject = "hactl-bench-compose"
	composeBenchVolume  = "hactl-bench-compose-registry"
)

// ComposeLevels names the levels of a compose cluster in start order, as
// ComposeFigures.Levels holds them.
var ComposeLevels = [4]string{"database", "controllers", "workers", "webserver"}

// ComposeImages are the images the compose benchmark runs: DBGPT is the
// compose.dbgpt_image (an image whose dbgpt is dbgpt-sim), Database the
// compose.database_image (the e2e database image). ComposeImagesFor builds
// them.
type ComposeImages struct {
	DBGPT, Database string
}

// ComposeImagesFor builds (or finds) the e2e images the compose benchmark
// needs, the DB-GPT one from the static dbgpt-sim binary at simBinary (see
// test/images: nothing is pulled).
func ComposeImagesFor(ctx context.Context, simBinary string, logf func(string, ...any)) (ComposeImages, error) {
	imgs, err := images.Ensure(ctx, logf)
	if err != nil {
		return ComposeImages{}, err
	}
	sim, err := images.EnsureSim(ctx, simBinary, logf)
	if err != nil {
		return ComposeImages{}, err
	}
	return ComposeImages{DBGPT: sim, Database: imgs.DB}, nil
}

// ComposeFigures are MeasureCompose's figures, one entry per run.
type ComposeFigures struct {
	// Readiness is the sum of the levels' readiness times: the containers
	// started by hand, level by level, each level polled every
	// composeReadinessPoll until ready (the physical limit of a compose apply).
	Readiness []time.Duration
	// Levels are the parts of Readiness, in ComposeLevels order.
	Levels [][4]time.Duration
	// Apply is the wall time of a cold `hactl apply -auto-approve` of the
	// same file (nothing of the project exists before it: no container,
	// network or volume).
	Apply []time.Duration
}

// composeReadinessPoll is how often the by-hand start checks a level's readiness.
const composeReadinessPoll = 20 * time.Millisecond

// composeLevelTimeout bounds the wait for one level started by hand.
const composeLevelTimeout = 2 * time.Minute

// MeasureCompose measures, runs times, the compose example's containers'
// own readiness and a cold hactl apply of it (hactlBin, the hactl binary),
// with the given images, on this machine's Docker engine (a Linux host: the
// by-hand start dials the containers at their project-network addresses).
// Each run:
//
//  1. readiness: `hactl export compose` writes the project hactl would
//     deploy; `up -d --no-deps` of the compose CLI hactl uses too (as
//     HACTL_COMPOSE_CLI says) then starts, by hand, each level's services
//     in one call — the database, the controllers, the workers, the
//     webserver — and polls every 20 ms until the level is ready by the
//     criteria of hactl's health gates (internal/health, the same code):
//     the database sends its greeting, then the registry database and table
//     are created as hactl's registry step does; each controller answers
//     /api/controller/models with its registry's rows; each worker is
//     registered healthy and fresh through both controllers; the webserver
//     answers /api/health and sees both workers. A level's time runs from
//     its up command to its readiness; the figure is their sum. `down
//     --volumes` removes it all.
//  2. apply: `hactl apply -auto-approve` of the same file, timed as a
//     process (pre-flight and plan included), then `hactl destroy
//     --purge-registry`.
//
// Runs alternate the two so that a loaded machine weighs on both. logf
// (nil: silent) gets one line per measurement. Containers, network and
// volumes of the project are removed before the first run and at the end,
// also on error.
func MeasureCompose(ctx context.Context, hactlBin string, imgs ComposeImages, runs int, logf func(string, ...any)) (ComposeFigures, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	var figs ComposeFigures
	s, err := newComposeBench(hactlBin, imgs)
	if err != nil {
		return figs, err
	}
	defer s.close()
	if err := s.sweep(ctx); err != nil {
		return figs, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		_ = s.sweep(cctx)
	}()
	for i := 0; i < runs; i++ {
		lv, err := s.readiness(ctx)
		if err != nil {
			return figs, fmt.Errorf("compose readiness, run %d: %w", i+1, err)
		}
		var sum time.Duration
		for _, d := range lv {
			sum += d
		}
		figs.Readiness = append(figs.Readiness, sum)
		figs.Levels = append(figs.Levels, lv)
		logf("compose run %d: readiness %s (database %s, controllers %s, workers %s, webserver %s)",
			i+1, composeMS(sum), composeMS(lv[0]), composeMS(lv[1]), composeMS(lv[2]), composeMS(lv[3]))
		if err := s.sweep(ctx); err != nil {
			return figs, err
		}
		d, err := s.apply(ctx)
		if err != nil {
			return figs, fmt.Errorf("compose apply, run %d: %w", i+1, err)
		}
		figs.Apply = append(figs.Apply, d)
		logf("compose run %d: hactl apply %s (%.2f× readiness)", i+1, composeMS(d), float64(d)/float64(sum))
		if err := s.sweep(ctx); err != nil {
			return figs, err
		}
	}
	return figs, nil
}

func composeMS(d time.Duration) string { return d.Round(time.Millisecond).String() }

// composeBench is one MeasureCompose: its cluster file, environment and
// the loaded, adapted cluster.
type composeBench struct {
	hactl string
	dir   string   // temporary: cluster file, HOME, exported project
	file  string   // cluster file
	env   []string // hactl's environment
	c     *schema.Cluster
	pw    string   // registry root password (never on a command line)
	cli   []string // the compose CLI hactl uses too
}

func newComposeBench(hactlBin string, imgs ComposeImages) (*composeBench, error) {
	if imgs.DBGPT == "" || imgs.Database == "" {
		return nil, errors.New("compose bench: both images are needed (ComposeImagesFor)")
	}
	_, here, _, _ := runtime.Caller(0)
	example := filepath.Join(filepath.Dir(here), "..", "examples", "compose", "cluster.hcl")
	src, err := os.ReadFile(example)
	if err != nil {
		return nil, fmt.Errorf("compose bench: %w", err)
	}
	text := strings.Replace(string(src), `name          = "dbgpt-ha"`, `name          = "`+ComposeBenchProject+`"`, 1)
	text = strings.Replace(text, `"dbgpt-ha-registry"`, `"`+composeBenchVolume+`"`, 1)
	if !strings.Contains(text, ComposeBenchProject) || !strings.Contains(text, composeBenchVolume) {
		return nil, fmt.Errorf("compose bench: cannot rename the project of %s", example)
	}
	dir, err := os.MkdirTemp("", "hactl-bench-compose-")
	if err != nil {
		return nil, err
	}
	s := &composeBench{hactl: hactlBin, dir: dir, file: filepath.Join(dir, "cluster.hcl")}
	if err := os.WriteFile(s.file, []byte(text), 0o600); err != nil {
		s.close()
		return nil, err
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	s.pw = "bench-" + hex.EncodeToString(b[:])
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		s.close()
		return nil, err
	}
	s.env = append(os.Environ(),
		"HOME="+home,
		"NO_COLOR=1",
		"HACTL_PROVIDER=compose",
		"HACTL_VAR_dbgpt_image="+imgs.DBGPT,
		"HACTL_VAR_database_image="+imgs.Database,
		"HACTL_VAR_registry_password="+s.pw,
		"HACTL_VAR_openai_api_key=sk-bench-unused",
		"HACTL_VAR_publish=[]",
	)
	c, err := schema.Load(s.file, schema.LoadOptions{Environ: s.env})
	if err != nil {
		s.close()
		return nil, fmt.Errorf("compose bench: %w", err)
	}
	if s.c, err = compose.Adapt(c); err != nil {
		s.close()
		return nil, err
	}
	s.cli = composeCLI()
	return s, nil
}

// composeCLI is the compose CLI hactl picks (compose.CLIEnv): "v1"
// docker-compose, "v2" the docker compose plugin, unset the plugin when it
// answers, else docker-compose.
func composeCLI() []string {
	switch os.Getenv(compose.CLIEnv) {
	case "v1":
		return []string{"docker-compose"}
	case "v2":
		return []string{"docker", "compose"}
	}
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	return []string{"docker-compose"}
}

// compose runs the compose CLI on the exported project file y.
func (s *composeBench) compose(ctx context.Context, y string, args ...string) error {
	full := append(append(append([]string{}, s.cli[1:]...), "-p", ComposeBenchProject, "-f", y), args...)
	return s.cmd(ctx, s.cli[0], full...)
}

func (s *composeBench) close() { os.RemoveAll(s.dir) }

// cmd runs a command with hactl's environment; the error carries its output.
func (s *composeBench) cmd(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = s.env
	cmd.Dir = s.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, composeTail(out.String(), 30))
	}
	return nil
}

func composeTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// sweep removes whatever a run left: hactl's destroy with purge, then
// every container, the network and the volumes of the project.
func (s *composeBench) sweep(ctx context.Context) error {
	_ = s.cmd(ctx, s.hactl, "destroy", "-auto-approve", "--purge-registry", "-f", s.file)
	if y := filepath.Join(s.dir, "export", compose.ComposeFile); composeFileExists(y) {
		_ = s.compose(ctx, y, "down", "--volumes", "--remove-orphans", "--timeout", "5")
	}
	out, _ := exec.CommandContext(ctx, "docker", "ps", "-aq", "--filter", "label="+compose.LabelProject+"="+ComposeBenchProject).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		if err := s.cmd(ctx, "docker", append([]string{"rm", "-f", "-v"}, ids...)...); err != nil {
			return err
		}
	}
	_ = exec.CommandContext(ctx, "docker", "network", "rm", ComposeBenchProject+"_"+compose.NetworkName).Run()
	for _, v := range []string{composeBenchVolume, ComposeBenchProject + "_" + compose.WebserverDataVolume} {
		_ = exec.CommandContext(ctx, "docker", "volume", "rm", v).Run()
	}
	if exec.CommandContext(ctx, "docker", "volume", "inspect", composeBenchVolume).Run() == nil {
		return fmt.Errorf("compose bench: volume %s is still there after the sweep", composeBenchVolume)
	}
	return nil
}

func composeFileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// apply times one cold hactl apply.
func (s *composeBench) apply(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	err := s.cmd(ctx, s.hactl, "apply", "-auto-approve", "-f", s.file)
	return time.Since(start), err
}

// readiness starts the exported project by hand, level by level, and
// returns each level's time from its up command to its readiness.
func (s *composeBench) readiness(ctx context.Context) ([4]time.Duration, error) {
	var lv [4]time.Duration
	y := filepath.Join(s.dir, "export", compose.ComposeFile)
	if err := s.cmd(ctx, s.hactl, "export", "compose", "-f", s.file, "-o", y); err != nil {
		return lv, err
	}
	ips := map[string]string{} // service → address on the project network
	cl := health.NewClient(composeDialer(ips), s.c, 2*time.Second)
	defer cl.Close()
	c := s.c
	var workers []string
	for _, w := range c.Workers {
		workers = append(workers, w.Server.Name)
	}
	var ctls []string
	for _, ctl := range c.Controllers {
		ctls = append(ctls, ctl.Server.Name)
	}
	levels := []struct {
		svcs  []string
		ready func(ctx context.Context) error
	}{
		{[]string{compose.DatabaseService(c)}, func(ctx context.Context) error {
			return s.registryReady(ctx, ips[compose.DatabaseService(c)])
		}},
		{ctls, func(ctx context.Context) error {
			for _, ctl := range c.Controllers {
				if err := health.CheckController(ctx, cl, ctl); err != nil {
					return err
				}
			}
			return nil
		}},
		{workers, func(ctx context.Context) error {
			for _, w := range c.Workers {
				if err := health.CheckWorker(ctx, cl, c, w); err != nil {
					return err
				}
			}
			return nil
		}},
		{[]string{c.Webserver.Server.Name}, func(ctx context.Context) error {
			return health.CheckWebserver(ctx, cl, c)
		}},
	}
	for i, l := range levels {
		start := time.Now()
		if err := s.compose(ctx, y, append([]string{"up", "-d", "--no-deps", "--no-build", "--no-color"}, l.svcs...)...); err != nil {
			return lv, err
		}
		if err := composeIPs(ctx, l.svcs, ips); err != nil {
			return lv, err
		}
		if err := composePoll(ctx, l.ready); err != nil {
			return lv, fmt.Errorf("%s (%s) not ready: %w", ComposeLevels[i], strings.Join(l.svcs, ", "), err)
		}
		lv[i] = time.Since(start)
	}
	return lv, nil
}

// composePoll calls ready every composeReadinessPoll until it succeeds, for at most
// composeLevelTimeout.
func composePoll(ctx context.Context, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, composeLevelTimeout)
	defer cancel()
	for {
		err := ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(composeReadinessPoll):
		}
	}
}

// composeIPs reads the project-network addresses of the services'
// containers into ips.
func composeIPs(ctx context.Context, svcs []string, ips map[string]string) error {
	for _, svc := range svcs {
		out, err := exec.CommandContext(ctx, "docker", "ps", "-q", "--filter", "label="+compose.LabelProject+"="+ComposeBenchProject,
			"--filter", "label="+compose.LabelService+"="+svc).Output()
		if err != nil || len(strings.Fields(string(out))) != 1 {
			return fmt.Errorf("service %s: not one running container (%q, %v)", svc, out, err)
		}
		id := strings.Fields(string(out))[0]
		ip, err := exec.CommandContext(ctx, "docker", "inspect", "-f",
			`{{with index .NetworkSettings.Networks "`+ComposeBenchProject+"_"+compose.NetworkName+`"}}{{.IPAddress}}{{end}}`, id).Output()
		if err != nil || strings.TrimSpace(string(ip)) == "" {
			return fmt.Errorf("service %s: no address on the project network (%v)", svc, err)
		}
		ips[svc] = strings.TrimSpace(string(ip))
	}
	return nil
}

// composeDialer dials a service name (or a server's localhost) at its
// container's address.
type composeDialer map[string]string

func (d composeDialer) DialContext(ctx context.Context, server *schema.Server, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if (host == "localhost" || host == "127.0.0.1") && server != nil {
		host = server.Name
	}
	ip, ok := d[host]
	if !ok {
		return nil, fmt.Errorf("bench: no container address for %s", host)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, net.JoinHostPort(ip, port))
}

// registryReady: the database at ip sends its greeting, and then, as
// hactl's registry step does, the registry database and table are created
// (as root: the managed database's admin).
func (s *composeBench) registryReady(ctx context.Context, ip string) error {
	addr := net.JoinHostPort(ip, "3306")
	if err := composeGreeting(ctx, addr); err != nil {
		return err
	}
	r := s.c.Registry
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "root", s.pw, "tcp", addr
	cfg.Timeout = 5 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(1) // one session: USE holds for the DDL
	name := "`" + strings.ReplaceAll(r.Database, "`", "``") + "`"
	for _, q := range []string{"CREATE DATABASE IF NOT EXISTS " + name, "USE " + name, dbgpt.MySQLRegistryDDL} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// composeGreeting connects to a MySQL server and reads its handshake (protocol 10).
func composeGreeting(ctx context.Context, addr string) error {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	var head [5]byte
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return fmt.Errorf("no greeting: %w", err)
	}
	if head[4] != 10 {
		return fmt.Errorf("greeting of protocol %d", head[4])
	}
	return nil
}
