package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/schema"
)

// Options tune the compose provider.
type Options struct {
	// WorkDir holds the project file, env files and settings directories
	// (mode 0700). Default: ~/.hactl/compose/<project>.
	WorkDir string
	// Compose is the compose command, e.g. ["docker", "compose"] or
	// ["docker-compose"]. Default: as HACTL_COMPOSE_CLI says (CLIEnv),
	// unset the v2 plugin when present, else docker-compose.
	Compose []string
	// HealthTimeout bounds the wait for the managed database to turn
	// healthy (default 3 minutes).
	HealthTimeout time.Duration
	// Out receives progress lines (where a removed component's data is
	// kept). nil = discard.
	Out io.Writer
}

// Provider deploys a cluster as a docker compose project. Besides
// providers.Provider it offers Cluster (the adapted cluster plan and apply
// must work on) and Teardown (remove the database service, network and,
// when asked, the volume).
type Provider struct {
	c       *schema.Cluster // adapted
	project string
	dir     string
	opts    Options

	mu sync.Mutex // serialises writing the project and the compose calls but writeAndUp's
	// ups: writeAndUp's compose up calls share it, but for the first one,
	// which holds it alone, as Teardown does (see writeAndUp).
	ups     sync.RWMutex
	upOnce  bool // guarded by mu: an up of this provider ran since the last Teardown
	compose []string
	want    map[string]*plan.Component // by address, what the project file holds
	kept    []providers.KeptData       // data Remove kept since the last Kept
	reach   reach                      // how DialContext reaches containers (access.go)
}

var (
	_ providers.Provider    = (*Provider)(nil)
	_ providers.LogFollower = (*Provider)(nil)
	_ providers.Locker      = (*Provider)(nil)
)

// New returns the compose provider of a cluster, working on an adapted copy
// of it (see Cluster). It does not touch Docker yet; Preflight does.
func New(c *schema.Cluster, opts Options) (*Provider, error) {
	ac, err := Adapt(c)
	if err != nil {
		return nil, err
	}
	project := ProjectName(ac)
	if project == "" {
		return nil, fmt.Errorf("compose: project name %q has no letter or digit", ac.Name)
	}
	if opts.WorkDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("compose: no home directory for the work directory: %w", err)
		}
		opts.WorkDir = filepath.Join(home, ".hactl", "compose", project)
	}
	if opts.HealthTimeout == 0 {
		opts.HealthTimeout = 3 * time.Minute
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	p := &Provider{c: ac, project: project, dir: opts.WorkDir, opts: opts, compose: opts.Compose,
		want: map[string]*plan.Component{}}
	// The project file always holds every wanted service, so depends_on
	// resolves; Preflight and Deploy replace entries with the plan's own.
	if comps, err := plan.Desired(ac); err == nil {
		for _, comp := range comps {
			p.want[comp.Address] = comp
		}
	}
	return p, nil
}

// Kept implements providers.DataKeeper.
func (p *Provider) Kept() []providers.KeptData {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := p.kept
	p.kept = nil
	return k
}

// Cluster returns the adapted cluster (see Adapt): plan, apply, health gates
// and status must use it so that addresses agree with the containers.
func (p *Provider) Cluster() *schema.Cluster { return p.c }

// Project is the compose project name.
func (p *Provider) Project() string { return p.project }

// WorkDir is where the project file is written.
func (p *Provider) WorkDir() string { return p.dir }

func (p *Provider) file() string { return filepath.Join(p.dir, ComposeFile) }

// composeCmd finds the compose CLI once.
func (p *Provider) composeCmd(ctx context.Context) ([]string, error) {
	if p.compose != nil {
		return p.compose, nil
	}
	cmd, err := detectCompose(ctx)
	if err != nil {
		return nil, err
	}
	p.compose = cmd
	return cmd, nil
}

// runCompose runs the compose CLI on the project file. Call with p.mu held.
func (p *Provider) runCompose(ctx context.Context, args ...string) (string, error) {
	cmd, err := p.composeCmd(ctx)
	if err != nil {
		return "", err
	}
	return p.composeWith(ctx, cmd, args...)
}

// composeWith runs the compose command cmd on the project file.
func (p *Provider) composeWith(ctx context.Context, cmd []string, args ...string) (string, error) {
	full := append(append([]string{}, cmd[1:]...), "--project-name", p.project, "--file", p.file())
	full = append(full, args...)
	return run(ctx, p.dir, cmd[0], full...)
}

// writeAndUp writes the project file with every wanted service, then runs
// `up -d --no-deps --no-build` of one service. The project file is written
// under p.mu, but compose up runs outside it: ups of different services run
// at the same time (each touches only its own service's container, and the
// file holds every wanted service whoever wrote it last, each file replaced
// whole), so the components of a level start together, not one compose
// call after another. Only the first up of the provider runs alone, as it
// may create the project's network (two creating it at once could make two
// networks of one name), and Teardown, which removes the network, waits for
// running ups and makes the next one run alone again. A failed write
// returns a *writeError.
func (p *Provider) writeAndUp(ctx context.Context, svc string, want *plan.Component) error {
	p.mu.Lock()
	if want != nil {
		p.want[want.Address] = want
	}
	if err := p.writeProject(); err != nil {
		p.mu.Unlock()
		return &writeError{err}
	}
	cmd, err := p.composeCmd(ctx)
	alone := !p.upOnce
	p.mu.Unlock()
	if err != nil {
		return err
	}
	if alone {
		p.ups.Lock()
		defer p.ups.Unlock()
	} else {
		p.ups.RLock()
		defer p.ups.RUnlock()
	}
	_, err = p.composeWith(ctx, cmd, "up", "-d", "--no-deps", "--no-build", "--no-color", svc)
	p.forgetContainers() // the service's container may be a new one, at a new address
	if err != nil {
		return err
	}
	if alone {
		p.mu.Lock()
		p.upOnce = true
		p.mu.Unlock()
	}
	return nil
}

// writeError is a failure to write the project file (returned as is, not
// as a failed start).
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// writeProject writes the project of every wanted component. Call with p.mu held.
func (p *Provider) writeProject() error {
	comps := make([]*plan.Component, 0, len(p.want))
	for _, comp := range p.want {
		comps = append(comps, comp)
	}
	proj, err := Build(p.c, sortComponents(comps), BuildOptions{NoPull: true})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return fmt.Errorf("compose: work directory: %w", err)
	}
	if err := os.Chmod(p.dir, 0o700); err != nil {
		return fmt.Errorf("compose: work directory: %w", err)
	}
	return proj.Write(p.file())
}

func sortComponents(comps []*plan.Component) []*plan.Component {
	out := append([]*plan.Component(nil), comps...)
	// Level, then address: a stable file whatever the map order.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0; j-- {
			a, b := out[j-1], out[j]
			if a.Level > b.Level || (a.Level == b.Level && a.Address > b.Address) {
				out[j-1], out[j] = b, a
			}
		}
	}
	return out
}

var versionRe = regexp.MustCompile(`version\s+v?([0-9][0-9A-Za-z.+-]*)`)

// Preflight checks, changing nothing: Docker answers, a compose CLI exists,
// the cluster makes a valid project, the images are local (hactl never
// pulls), the image's dbgpt is the declared version, the models directory
// exists.
func (p *Provider) Preflight(ctx context.Context, c *schema.Cluster, want []*plan.Component) []providers.Problem {
	var probs []providers.Problem
	add := func(component, what, fix string) {
		probs = append(probs, providers.Problem{Component: component, What: what, Fix: fix})
	}
	p.mu.Lock()
	if len(want) > 0 {
		p.want = map[string]*plan.Component{}
		for _, comp := range want {
			p.want[comp.Address] = comp
		}
	}
	comps := make([]*plan.Component, 0, len(p.want))
	for _, comp := range p.want {
		comps = append(comps, comp)
	}
	p.mu.Unlock()

	if _, err := run(ctx, "", "docker", "version", "--format", "{{.Server.Version}}"); err != nil {
		add("", "the Docker engine does not answer: "+err.Error(), "start Docker or set DOCKER_HOST")
		return probs
	}
	if _, err := p.composeCmd(ctx); err != nil {
		add("", err.Error(), cliFix(err))
	}
	if p.c.Registry != nil && p.c.Registry.Type == schema.RegistrySQLite {
		add("", "the compose provider does not support a sqlite registry", "use a mysql registry (managed_database = true) or deploy over SSH")
	}
	if _, err := Build(p.c, sortComponents(comps), BuildOptions{NoPull: true}); err != nil {
		add("", err.Error(), "fix the compose block of the cluster file")
		return probs
	}
	images := []string{p.c.Compose.DBGPTImage}
	if Managed(p.c) {
		img := p.c.Compose.DatabaseImage
		if img == "" {
			img = DefaultDatabaseImage
		}
		images = append(images, img)
	}
	for _, img := range images {
		if !imagePresent(ctx, img) {
			add("", fmt.Sprintf("image %s is not in the local image store", img),
				"build or load it first (docker build / docker load); hactl never pulls")
		}
	}
	probs = append(probs, p.portProblems(ctx, comps)...)
	if len(probs) == 0 && len(comps) > 0 {
		probs = append(probs, p.checkImage(ctx, comps)...)
	}
	if d := p.c.Compose.ModelsDir; d != "" {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			add("", fmt.Sprintf("models_dir %s is not a directory on this machine", d), "create it or fix compose.models_dir")
		}
	}
	return probs
}

// portProblems refuses a host port compose.publish needs that something
// else already listens on (this project's own containers aside). It tries
// only where the engine runs on this machine.
func (p *Provider) portProblems(ctx context.Context, comps []*plan.Component) []providers.Problem {
	var pub []*plan.Component
	for _, comp := range comps {
		if _, ok := Published(p.c, comp.Role, comp.Port); ok {
			pub = append(pub, comp)
		}
	}
	if len(pub) == 0 || !p.engineLocal(ctx) {
		return nil
	}
	ours := map[string]bool{} // host ports this project's containers publish
	if cs, err := containers(ctx, LabelProject+"="+p.project); err == nil {
		for _, ct := range cs {
			for _, bs := range ct.NetworkSettings.Ports {
				for _, b := range bs {
					ours[b.HostPort] = true
				}
			}
		}
	}
	var probs []providers.Problem
	for _, comp := range pub {
		b, _ := Published(p.c, comp.Role, comp.Port)
		if ours[b.Published] {
			continue
		}
		addr := net.JoinHostPort(b.HostIP, b.Published)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			probs = append(probs, providers.Problem{Component: comp.Address,
				What: fmt.Sprintf("host port %s on %s, where compose.publish publishes %s's port %d, is already in use: %v", b.Published, b.HostIP, comp.Address, comp.Port, errors.Unwrap(err)),
				Fix:  fmt.Sprintf("stop what listens on %s, give %s another port, or leave it out of compose.publish", addr, comp.Address)})
			continue
		}
		ln.Close()
	}
	return probs
}

// checkImage runs the DB-GPT image once, as the workers will (models
// directory mounted), to read `dbgpt --version`, test every worker's model
// path and (flags generation) read the worker options of each model with
// params. Needs bash in the image, as the healthchecks do.
func (p *Provider) checkImage(ctx context.Context, comps []*plan.Component) []providers.Problem {
	args, paths, helps := p.checkImageCommand(comps)
	out, err := run(ctx, "", "docker", args...)
	return append(p.imageProblems(out, err, paths), p.helpProblems(out, err, helps)...)
}

// imageHelp is one worker whose model's params the image check tests.
type imageHelp struct {
	component string
	model     *schema.Model
}

// checkImageCommand is the docker command checkImage runs, the workers (as
// plan addresses) of each model path it tests, and the workers whose
// params it checks (the i-th prints "hactl-whrc i STATUS" and its help
// page as "hactl-wh i LINE" lines).
func (p *Provider) checkImageCommand(comps []*plan.Component) ([]string, map[string][]string, []imageHelp) {
	img := p.c.Compose.DBGPTImage
	args := []string{"run", "--rm", "--network", "none", "--entrypoint", "bash"}
	if d := p.c.Compose.ModelsDir; d != "" {
		args = append(args, "-v", d+":"+d+":ro")
	}
	var helps []imageHelp
	script := `dbgpt --version; rc=$?; for p in "$@"; do [ -e "$p" ] || echo "hactl-missing-path: $p"; done; `
	if p.c.Generation == schema.GenerationFlags {
		for _, comp := range comps {
			if comp.Role != schema.RoleWorker {
				continue
			}
			for _, w := range p.c.Workers {
				if w.Name != comp.Name || w.Model == nil || len(w.Model.Params) == 0 {
					continue
				}
				words := providers.WorkerHelpArgs(comp.Launch.In(ContainerDir).Args)
				if words == nil {
					continue
				}
				i := len(helps)
				helps = append(helps, imageHelp{comp.Address, w.Model})
				script += fmt.Sprintf(`h=$(dbgpt %s 2>&1 </dev/null); echo "hactl-whrc %d $?"; printf '%%s\n' "$h" | sed 's/^/hactl-wh %d /'; `, host.Join(words...), i, i)
			}
		}
	}
	args = append(args, img, "-c", script+"exit $rc", "check")
	paths := map[string][]string{}
	for _, w := range p.c.Workers {
		if w.Model.Path == "" {
			continue
		}
		if _, seen := paths[w.Model.Path]; !seen {
			args = append(args, w.Model.Path)
		}
		paths[w.Model.Path] = append(paths[w.Model.Path], "worker."+w.Name)
	}
	return args, paths, helps
}

// helpProblems reads the worker help pages checkImage's command printed.
func (p *Provider) helpProblems(out string, err error, helps []imageHelp) []providers.Problem {
	if len(helps) == 0 || err != nil {
		return nil
	}
	rc := make([]int, len(helps))
	pages := make([][]string, len(helps))
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		tag, rest, _ := strings.Cut(l, " ")
		idx, rest, _ := strings.Cut(rest, " ")
		i, convErr := strconv.Atoi(idx)
		switch {
		case tag != "hactl-wh" && tag != "hactl-whrc":
			lines = append(lines, l)
		case convErr != nil || i < 0 || i >= len(helps):
		case tag == "hactl-whrc":
			rc[i], _ = strconv.Atoi(strings.TrimSpace(rest))
		default:
			pages[i] = append(pages[i], rest)
		}
	}
	version := ""
	if m := versionRe.FindStringSubmatch(strings.Join(lines, "\n")); m != nil {
		version = m[1]
	}
	var probs []providers.Problem
	for i, h := range helps {
		if rc[i] != 0 {
			probs = append(probs, providers.Problem{Component: h.component,
				What: fmt.Sprintf("model %q: `dbgpt start worker … --help` failed in image %s (exit status %d): %s", h.model.Name, p.c.Compose.DBGPTImage, rc[i],
					strings.Join(providers.ErrorLines(pages[i]), "\n")),
				Fix: "check the model's name and path (DB-GPT chooses the worker's parameters from them)"})
			continue
		}
		probs = append(probs, providers.ParamProblems("", h.component, h.model, version, providers.ClickOptions(pages[i]))...)
	}
	return probs
}

// imageProblems reads the output (and error) of checkImage's command.
func (p *Provider) imageProblems(out string, err error, paths map[string][]string) []providers.Problem {
	var probs []providers.Problem
	img := p.c.Compose.DBGPTImage
	var own []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "hactl-wh") {
			own = append(own, line)
		}
		if path, ok := strings.CutPrefix(line, "hactl-missing-path: "); ok {
			for _, comp := range paths[path] {
				probs = append(probs, providers.Problem{Component: comp,
					What: fmt.Sprintf("model path %s does not exist in image %s", path, img),
					Fix:  "put the model in the image or under compose.models_dir (mounted at the same path)"})
			}
		}
	}
	switch m := versionRe.FindStringSubmatch(strings.Join(own, "\n")); {
	case err != nil:
		probs = append(probs, providers.Problem{What: fmt.Sprintf("image %s: `dbgpt --version` failed: %v", img, err),
			Fix: "the image must have bash and DB-GPT's dbgpt command on its PATH"})
	case m == nil:
		probs = append(probs, providers.Problem{What: fmt.Sprintf("image %s: cannot read a version from `dbgpt --version`", img)})
	case generationOf(m[1]) != generationOf(p.c.Version):
		probs = append(probs, providers.Problem{What: fmt.Sprintf("image %s has DB-GPT %s, the cluster file declares %s", img, m[1], p.c.Version),
			Fix: "use an image of the declared version or change dbgpt_version"})
	}
	return probs
}

// generationOf maps a DB-GPT version to its command-line generation.
func generationOf(v string) schema.Generation {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	major, _ := strconv.Atoi(parts[0])
	minor, _ := strconv.Atoi(parts[1])
	if major == 0 && minor < 7 {
		return schema.GenerationFlags
	}
	return schema.GenerationTOML
}

// Observe reads every hactl component container of the project, and for
// each running controller whether its heartbeat checker thread died since
// the container started (Observed.Defect; one docker logs each).
func (p *Provider) Observe(ctx context.Context, c *schema.Cluster) ([]providers.Observed, error) {
	cs, err := containers(ctx, LabelProject+"="+p.project)
	if err != nil {
		return nil, fmt.Errorf("compose: listing the containers of project %s: %w", p.project, err)
	}
	obs := observed(cs)
	ids := map[string]string{} // the running container of each component
	for _, ct := range cs {
		if a := ct.Config.Labels[LabelComponent]; a != "" && ct.State.Running {
			ids[a] = ct.ID
		}
	}
	checkerDefects(ctx, obs, ids)
	return obs, nil
}

// observed turns inspected containers into observed components.
func observed(cs []container) []providers.Observed {
	var out []providers.Observed
	seen := map[string]int{}
	for _, ct := range cs {
		l := ct.Config.Labels
		addr := l[LabelComponent]
		if addr == "" {
			continue // the database, or not a component
		}
		o := providers.Observed{
			Address:   addr,
			Role:      l[LabelRole],
			Server:    l[LabelService],
			Hash:      l[LabelHash],
			Running:   ct.State.Running && !ct.State.Paused && !ct.State.Restarting,
			StartedAt: ct.startedAt(),
			Restarts:  ct.RestartCount,
		}
		o.Port, _ = strconv.Atoi(l[LabelPort])
		if o.Running {
			o.PID = ct.State.Pid
		}
		if a := l[LabelAttributes]; a != "" {
			_ = json.Unmarshal([]byte(a), &o.Attributes)
		}
		// One container per service; should a second exist (a scaled or
		// half-recreated service), keep the running one.
		if i, dup := seen[addr]; dup {
			if !out[i].Running && o.Running {
				out[i] = o
			}
			continue
		}
		seen[addr] = len(out)
		out = append(out, o)
	}
	return out
}

// Deploy writes the project file with the component's settings and
// (re)creates its container with `up -d --no-deps`. Compose leaves an
// unchanged, running container alone: apply deploys such a component only
// to repair it (it fails its health check, or its controller's heartbeat
// checker died), so Deploy restarts that container (`docker restart`).
func (p *Provider) Deploy(ctx context.Context, comp *plan.Component) error {
	if comp.Server != nil && comp.Server.Transport != TransportCompose {
		return fmt.Errorf("compose: %s was rendered for server %s, not for the compose project: plan on compose.Adapt(cluster) (Provider.Cluster())", comp.Address, comp.Server.Name)
	}
	svc := ServiceForAddress(comp.Address)
	before, err := containers(ctx, LabelProject+"="+p.project, LabelComponent+"="+comp.Address)
	if err != nil {
		return fmt.Errorf("compose: deploying %s: %w", comp.Address, err)
	}
	if err := p.writeAndUp(ctx, svc, comp); err != nil {
		var we *writeError
		if errors.As(err, &we) {
			return we.err
		}
		return fmt.Errorf("compose: starting service %s (%s): %w", svc, comp.Address, err)
	}
	// The containers compose left running as they were.
	same := map[string]string{} // id → start
	for _, ct := range before {
		if ct.State.Running && !ct.State.Restarting && ct.Config.Labels[LabelHash] == comp.Hash {
			same[ct.ID] = ct.State.StartedAt
		}
	}
	if len(same) == 0 {
		return nil
	}
	after, err := containers(ctx, LabelProject+"="+p.project, LabelComponent+"="+comp.Address)
	if err != nil {
		return fmt.Errorf("compose: deploying %s: %w", comp.Address, err)
	}
	for _, ct := range after {
		if start, ok := same[ct.ID]; ok && ct.State.Running && ct.State.StartedAt == start {
			_, err := run(ctx, "", "docker", "restart", "--time", stopTimeout, ct.ID)
			p.forgetContainers()
			if err != nil {
				return fmt.Errorf("compose: restarting service %s (%s): %w", svc, comp.Address, err)
			}
		}
	}
	return nil
}

// Remove stops (SIGTERM, so a worker deregisters) and removes the
// component's containers, and deletes its files from the work directory but
// for its data directory (mounted at ContainerDir/data: the webserver's
// meta database), which a later deploy reuses and Teardown with purge
// deletes.
func (p *Provider) Remove(ctx context.Context, o providers.Observed) error {
	cs, err := containers(ctx, LabelProject+"="+p.project, LabelComponent+"="+o.Address)
	if err != nil {
		return fmt.Errorf("compose: removing %s: %w", o.Address, err)
	}
	if len(cs) > 0 {
		defer p.forgetContainers()
		ids := make([]string, len(cs))
		for i, ct := range cs {
			ids[i] = ct.ID
		}
		if _, err := run(ctx, "", "docker", append([]string{"stop", "--time", "15"}, ids...)...); err != nil {
			return fmt.Errorf("compose: stopping %s: %w", o.Address, err)
		}
		if _, err := run(ctx, "", "docker", append([]string{"rm", "-f", "-v"}, ids...)...); err != nil {
			return fmt.Errorf("compose: removing %s: %w", o.Address, err)
		}
	}
	p.mu.Lock()
	delete(p.want, o.Address)
	svc := ServiceForAddress(o.Address)
	if kept, _ := clearKeepingData(filepath.Join(p.dir, svc)); kept != "" {
		fmt.Fprintf(p.opts.Out, "kept the data of %s in %s (a later deploy reuses it; hactl destroy --purge-registry deletes it)\n", o.Address, kept)
		p.kept = append(p.kept, providers.KeptData{Component: o.Address, Server: "this machine", Path: kept})
	}
	if o.Role == schema.RoleWebserver {
		if _, err := run(ctx, "", "docker", "volume", "inspect", p.WebserverVolume()); err == nil {
			fmt.Fprintf(p.opts.Out, "kept the data of %s in the volume %s (a later deploy reuses it; hactl destroy --purge-registry deletes it)\n", o.Address, p.WebserverVolume())
			p.kept = append(p.kept, providers.KeptData{Component: o.Address, Server: "this machine", Path: "volume " + p.WebserverVolume()})
		}
	}
	_ = os.Remove(filepath.Join(p.dir, svc+".env"))
	if _, statErr := os.Stat(p.file()); statErr == nil {
		err = p.writeProject()
	}
	p.mu.Unlock()
	if err != nil {
		return err
	}
	// The last component gone (destroy, or a file without components):
	// the database service and the network go too; the volume stays.
	if left, err := p.componentsLeft(ctx); err == nil && left == 0 {
		return p.Teardown(ctx, false)
	}
	return nil
}

// componentsLeft counts the project's component containers.
func (p *Provider) componentsLeft(ctx context.Context) (int, error) {
	cs, err := containers(ctx, LabelProject+"="+p.project)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ct := range cs {
		if ct.Config.Labels[LabelComponent] != "" {
			n++
		}
	}
	return n, nil
}

// serviceContainer returns the running container of a service of the project.
func (p *Provider) serviceContainer(ctx context.Context, svc string) (container, error) {
	cs, err := containers(ctx, LabelProject+"="+p.project, LabelService+"="+svc)
	if err != nil {
		return container{}, err
	}
	for _, ct := range cs {
		if ct.State.Running {
			return ct, nil
		}
	}
	if len(cs) > 0 {
		return cs[0], fmt.Errorf("compose: service %s of project %s is not running (%s)", svc, p.project, cs[0].State.Status)
	}
	return container{}, fmt.Errorf("compose: project %s has no container for service %s", p.project, svc)
}

// ip returns the container's address on the project network.
func (p *Provider) ip(ct container) (string, error) {
	want := p.project + "_" + NetworkName
	if n, ok := ct.NetworkSettings.Networks[want]; ok && n.IPAddress != "" {
		return n.IPAddress, nil
	}
	for name, n := range ct.NetworkSettings.Networks {
		if strings.HasSuffix(name, "_"+NetworkName) && n.IPAddress != "" {
			return n.IPAddress, nil
		}
	}
	return "", fmt.Errorf("compose: container %s has no address on network %s", strings.TrimPrefix(ct.Name, "/"), want)
}

// DialContext connects to addr as a container of the project sees it: a
// service name means that service's running container; "localhost" means
// the server's own container; anything else (an external registry
// database) is dialled as is from this machine. A container is reached as
// compose.access says (see access.go): at its address on the project
// network, or through its published port or a docker exec tunnel.
func (p *Provider) DialContext(ctx context.Context, server *schema.Server, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("compose: dial %s: %w", addr, err)
	}
	svc := ""
	switch {
	case host == "localhost" || host == "127.0.0.1" || host == "::1":
		if server != nil {
			svc = server.Name
		}
	case net.ParseIP(host) == nil && p.isService(host):
		svc = host
	}
	if svc == "" {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return p.dialService(ctx, svc, network, port)
}

func (p *Provider) isService(name string) bool {
	name = strings.ToLower(name)
	for _, s := range p.c.Servers {
		if s.Name == name {
			return true
		}
	}
	return Managed(p.c) && name == DatabaseService(p.c)
}

// Logs returns the last lines of the component container's output.
func (p *Provider) Logs(ctx context.Context, o providers.Observed, lines int) (string, error) {
	id, err := p.containerOf(ctx, o)
	if err != nil {
		return "", err
	}
	return containerLogs(ctx, id, lines)
}

// FollowLogs writes the last lines of the component container's output,
// then each new line, until ctx ends (docker logs -f).
func (p *Provider) FollowLogs(ctx context.Context, o providers.Observed, lines int, w io.Writer) error {
	id, err := p.containerOf(ctx, o)
	if err != nil {
		return err
	}
	if lines <= 0 {
		lines = 20
	}
	// docker logs writes the container's stderr to its own stderr: keep
	// both, in one writer so that exec calls w.Write one at a time. Each
	// log message reaches w in one Write. docker's own error, if any, is
	// in that output too.
	cmd := exec.CommandContext(ctx, "docker", "logs", "--follow", "--tail", strconv.Itoa(lines), id)
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("following the log of %s: %w", o.Address, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("docker logs --follow %s (%s): %w", id, o.Address, err)
	}
	return nil
}

func (p *Provider) containerOf(ctx context.Context, o providers.Observed) (string, error) {
	cs, err := containers(ctx, LabelProject+"="+p.project, LabelComponent+"="+o.Address)
	if err != nil {
		return "", err
	}
	if len(cs) == 0 {
		return "", fmt.Errorf("compose: project %s has no container for %s", p.project, o.Address)
	}
	return cs[0].ID, nil
}

func containerLogs(ctx context.Context, id string, lines int) (string, error) {
	if lines <= 0 {
		lines = 20
	}
	// docker logs writes the container's stderr to its own stderr: keep both.
	out, err := runCombined(ctx, "docker", "logs", "--tail", strconv.Itoa(lines), id)
	if err != nil {
		return "", err
	}
	return out, nil
}

// Teardown removes what Remove leaves: the database service, the network,
// leftover containers of the project, the work directory (it holds
// secrets) but for the components' data directories, and, with
// purgeRegistry, the database volume and the data directories.
func (p *Provider) Teardown(ctx context.Context, purgeRegistry bool) error {
	p.ups.Lock() // no up runs while the network goes
	defer p.ups.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.upOnce = false
	defer p.forgetContainers()
	var errs []error
	if err := p.writeProject(); err == nil {
		args := []string{"down", "--remove-orphans", "--timeout", "15"}
		if purgeRegistry {
			args = append(args, "--volumes")
		}
		if _, err := p.runCompose(ctx, args...); err != nil {
			errs = append(errs, err)
		}
	} else {
		errs = append(errs, err)
	}
	// Whatever compose missed (a lost work directory, another CLI version).
	if cs, err := containers(ctx, LabelProject+"="+p.project); err == nil && len(cs) > 0 {
		for _, ct := range cs {
			if _, err := run(ctx, "", "docker", "rm", "-f", ct.ID); err != nil {
				errs = append(errs, err)
			}
		}
	}
	net := p.project + "_" + NetworkName
	if _, err := run(ctx, "", "docker", "network", "inspect", net); err == nil {
		if _, err := run(ctx, "", "docker", "network", "rm", net); err != nil {
			errs = append(errs, err)
		}
	}
	var purge []string
	if purgeRegistry && Managed(p.c) {
		purge = append(purge, p.DatabaseVolume())
	}
	if purgeRegistry {
		// Whether or not the file still has a webserver.
		purge = append(purge, p.WebserverVolume())
	}
	for _, vol := range purge {
		if _, err := run(ctx, "", "docker", "volume", "inspect", vol); err == nil {
			if _, err := run(ctx, "", "docker", "volume", "rm", vol); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := p.clearWorkDir(purgeRegistry); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// clearWorkDir deletes the work directory with purge, else everything in
// it but the services' data directories. Call with p.mu held.
func (p *Provider) clearWorkDir(purge bool) error {
	if purge {
		var kept []string
		if es, err := os.ReadDir(p.dir); err == nil {
			for _, e := range es {
				if d := filepath.Join(p.dir, e.Name(), dataDir); isDir(d) {
					kept = append(kept, d)
				}
			}
		}
		if err := os.RemoveAll(p.dir); err != nil {
			return fmt.Errorf("compose: deleting the work directory (a container may have written files this user cannot delete): %w", err)
		}
		for _, d := range kept {
			fmt.Fprintf(p.opts.Out, "deleted %s\n", d)
		}
		return nil
	}
	es, err := os.ReadDir(p.dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	left := false
	for _, e := range es {
		path := filepath.Join(p.dir, e.Name())
		if e.IsDir() && isDir(filepath.Join(path, dataDir)) {
			if _, err := clearKeepingData(path); err != nil {
				errs = append(errs, err)
			}
			left = true
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			errs = append(errs, err)
		}
	}
	if !left {
		if err := os.Remove(p.dir); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dataDir is the directory of a component's files (mounted at
// ContainerDir) that outlives the component: DB-GPT's own data.
const dataDir = "data"

// clearKeepingData deletes dir but for its data directory, and returns that
// directory when there is one.
func clearKeepingData(dir string) (kept string, err error) {
	d := filepath.Join(dir, dataDir)
	if !isDir(d) {
		return "", os.RemoveAll(dir)
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		return d, err
	}
	var errs []error
	for _, e := range es {
		if e.Name() != dataDir {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return d, errors.Join(errs...)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// DatabaseVolume is the Docker name of the managed database's volume.
func (p *Provider) DatabaseVolume() string { return databaseVolume(p.c, p.project) }

// WebserverVolume is the Docker name of the webserver's data volume.
func (p *Provider) WebserverVolume() string { return p.project + "_" + WebserverDataVolume }

// Close releases nothing: every call runs its own commands.
func (p *Provider) Close() error { return nil }
