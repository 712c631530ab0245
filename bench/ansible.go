package bench

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The Ansible side of the comparison: bench/ansible holds a playbook doing
// what `hactl apply` does for the HA guide's topology with ansible.builtin
// modules only (deploy.yml, component.yml, teardown.yml, templates/), and
// two ansible.cfg variants (stock and tuned). The driver below writes them,
// an inventory and the variables into a scratch directory and runs
// ansible-playbook there.

//go:embed ansible
var ansibleFiles embed.FS

// AnsibleHost is one machine: Name names the component's inventory host
// (controllers and the webserver), Address is where SSH and HTTP reach it.
type AnsibleHost struct{ Name, Address string }

// AnsibleWorker is one model worker on Host; ModelType is llm or text2vec.
type AnsibleWorker struct {
	Host                              AnsibleHost
	Name, Model, ModelPath, ModelType string
	Port                              int
}

// AnsibleDB is the MySQL/MariaDB registry database. The control machine
// reaches it with the mysql client; the controllers with DB-GPT's.
type AnsibleDB struct {
	Host           string
	Port           int
	User, Password string
	Database       string
}

// AnsibleCluster is the HA topology as the playbook deploys it.
type AnsibleCluster struct {
	// Dir is the scratch directory (inventory, ansible.cfg, the playbook,
	// the variables and MySQL option file, both 0600); created if missing.
	Dir                     string
	KeyPath, KnownHostsPath string
	// Controllers listen on port 8000.
	Controllers []AnsibleHost
	Workers     []AnsibleWorker
	// Webserver is the light webserver on port 5670; its default LLM and
	// embedding model are the first llm and text2vec workers' models.
	Webserver AnsibleHost
	DB        AnsibleDB
	// DBGPT is the dbgpt command on the hosts, e.g. /usr/local/bin/dbgpt.
	DBGPT string
	// DeployDir holds one directory per component, e.g. /opt/ansible-bench.
	DeployDir string
	// HeartbeatInterval and HeartbeatTimeout are in seconds, as hactl's
	// cluster file sets them (0: DB-GPT's 20 and 60).
	HeartbeatInterval, HeartbeatTimeout int
}

// AnsibleRun is one ansible-playbook run: its wall time, the PLAY RECAP's
// counts summed over hosts (localhost included), and its output.
type AnsibleRun struct {
	Elapsed                          time.Duration
	OK, Changed, Failed, Unreachable int
	Output                           string
	// PeakPSS is the largest memory in bytes ansible-playbook and all
	// its descendants (forks, ssh clients, modules run locally) held at
	// once: the sum of their proportional set sizes (shared pages divided
	// among the processes sharing them), sampled every 250 ms. The
	// ControlPersist ssh masters detach and are not counted.
	PeakPSS int64
}

// EnsureAnsible installs Debian's ansible package (`apt-get install -y
// ansible`) when ansible-playbook is not on PATH, and logs its version.
func EnsureAnsible(ctx context.Context, logf func(string, ...any)) error {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		logf("ansible: ansible-playbook not found: installing Debian's ansible package")
		install := func() error {
			cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "ansible")
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("apt-get install ansible: %v\n%s", err, ansibleTail(string(out), 20))
			}
			return nil
		}
		if err := install(); err != nil {
			// The package lists may be missing or stale.
			upd := exec.CommandContext(ctx, "apt-get", "update")
			if out, uerr := upd.CombinedOutput(); uerr != nil {
				return fmt.Errorf("%v; apt-get update: %v\n%s", err, uerr, ansibleTail(string(out), 20))
			}
			if err := install(); err != nil {
				return err
			}
		}
	}
	out, err := exec.CommandContext(ctx, "ansible-playbook", "--version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("ansible-playbook --version: %v\n%s", err, out)
	}
	logf("ansible: %s", strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0]))
	return nil
}

// RunAnsible runs the deploy playbook with the stock settings or, when
// tuned, with forks for every host at once, pipelining, the free strategy
// and long-lived SSH connections. It fails when the playbook fails; the
// error ends with the tail of its output. Ansible's SSH master connections
// outlive the run (ControlPersist: 60 s stock, 600 s tuned), as they do
// for any Ansible user, so a run soon after another reuses them;
// TeardownAnsible closes them.
func RunAnsible(ctx context.Context, c AnsibleCluster, tuned bool) (AnsibleRun, error) {
	variant := "default"
	if tuned {
		variant = "tuned"
	}
	return c.run(ctx, "deploy.yml", variant)
}

// TeardownAnsible stops every process the playbook started, removes its
// directories and drops the registry table, then closes the SSH master
// connections Ansible left behind, so that the next run is cold.
func TeardownAnsible(ctx context.Context, c AnsibleCluster) error {
	_, err := c.run(ctx, "teardown.yml", "teardown")
	c.closeMasters(ctx)
	return err
}

// controlDirs are the SSH control socket directories (under Dir) of the
// runs: short, as a socket's path is at most 107 bytes.
var controlDirs = map[string]string{"default": "cp-d", "tuned": "cp-t", "teardown": "cp-x"}

var recapRe = regexp.MustCompile(`(?m)^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)`)

// count adds up the PLAY RECAP lines of out.
func (r *AnsibleRun) count(out string) {
	for _, m := range recapRe.FindAllStringSubmatch(out, -1) {
		n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
		r.OK += n(1)
		r.Changed += n(2)
		r.Unreachable += n(3)
		r.Failed += n(4)
	}
}

func (c AnsibleCluster) run(ctx context.Context, playbook, variant string) (AnsibleRun, error) {
	if err := c.prepare(); err != nil {
		return AnsibleRun{}, err
	}
	cfg := "ansible-default.cfg"
	if variant != "default" {
		// The teardown is not measured: it runs tuned.
		cfg = "ansible-tuned.cfg"
	}
	cmd := exec.CommandContext(ctx, "ansible-playbook",
		"-i", filepath.Join(c.Dir, "inventory.yml"),
		"-e", "@"+filepath.Join(c.Dir, "vars.yml"),
		filepath.Join(c.Dir, "playbook", playbook))
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(),
		"ANSIBLE_CONFIG="+filepath.Join(c.Dir, cfg),
		// One control socket directory per variant: a variant's run never
		// borrows the other's connections.
		"ANSIBLE_SSH_CONTROL_PATH_DIR="+filepath.Join(c.Dir, controlDirs[variant]),
		"ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Start()
	var peak int64
	if err == nil {
		stop := make(chan struct{})
		sampled := make(chan int64)
		go func() { sampled <- samplePSS(cmd.Process.Pid, stop) }()
		err = cmd.Wait()
		close(stop)
		peak = <-sampled
	}
	r := AnsibleRun{Elapsed: time.Since(start), Output: out.String(), PeakPSS: peak}
	r.count(r.Output)
	if err != nil {
		return r, fmt.Errorf("ansible-playbook %s (%s): %v\n%s", playbook, variant, err, ansibleTail(r.Output, 40))
	}
	return r, nil
}

// samplePSS returns the largest treePSS(root) seen every 250 ms until
// stop is closed.
func samplePSS(root int, stop <-chan struct{}) int64 {
	var peak int64
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		peak = max(peak, treePSS(root))
		select {
		case <-stop:
			return peak
		case <-tick.C:
		}
	}
}

// treePSS is the sum in bytes of the proportional set sizes of root and
// its descendants.
func treePSS(root int) int64 {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	parent := map[int]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold blanks and parentheses.
		if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 1 {
			parent[pid], _ = strconv.Atoi(f[1])
		}
	}
	var sum int64
	for pid := range parent {
		for p, hops := pid, 0; p > 1 && hops < 64; p, hops = parent[p], hops+1 {
			if p == root {
				sum += pss(pid)
				break
			}
		}
	}
	return sum
}

// pss is the Pss line of /proc/PID/smaps_rollup in bytes (0 when gone).
func pss(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "Pss:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// prepare writes the playbook, both configurations, the inventory, the
// variables and the MySQL option file into Dir.
func (c AnsibleCluster) prepare() error {
	if c.Dir == "" {
		return errors.New("ansible: no scratch directory")
	}
	if len(c.Controllers) == 0 || len(c.Workers) == 0 {
		return errors.New("ansible: the cluster needs controllers and workers")
	}
	for _, p := range []string{c.KeyPath, c.KnownHostsPath, c.Dir, c.DeployDir} {
		if strings.ContainsAny(p, " \t\n'\"\\") {
			return fmt.Errorf("ansible: path %q: no blanks, quotes or backslashes please", p)
		}
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	err := fs.WalkDir(ansibleFiles, "ansible", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, "ansible"), "/")
		dst := filepath.Join(c.Dir, "playbook", filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		data, err := ansibleFiles.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(rel, ".cfg") {
			// Both configurations sit beside the inventory.
			dst = filepath.Join(c.Dir, rel)
			data = bytes.ReplaceAll(data, []byte("@FORKS@"), []byte(strconv.Itoa(max(5, c.hostCount()))))
		}
		return os.WriteFile(dst, data, 0o600)
	})
	if err != nil {
		return fmt.Errorf("ansible: writing the playbook: %w", err)
	}
	inv, err := json.MarshalIndent(c.inventory(), "", "  ")
	if err != nil {
		return err
	}
	vars, err := json.MarshalIndent(c.vars(), "", "  ")
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"inventory.yml": inv, // JSON is YAML
		"vars.yml":      vars,
		"my.cnf":        c.optionFile(),
	} {
		if err := writePrivate(filepath.Join(c.Dir, name), data); err != nil {
			return err
		}
	}
	return nil
}

// writePrivate writes a file of mode 0600, also when it existed with another.
func writePrivate(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

func (c AnsibleCluster) hostCount() int { return len(c.Controllers) + len(c.Workers) + 1 }

// Inventory host names: one per component.
func controllerHost(h AnsibleHost) string { return "controller-" + h.Name }
func workerHost(w AnsibleWorker) string   { return "worker-" + w.Name }
func webserverHost(h AnsibleHost) string  { return "webserver-" + h.Name }

type invGroup struct {
	Hosts map[string]map[string]any `json:"hosts"`
}

func (c AnsibleCluster) inventory() any {
	ctl := invGroup{Hosts: map[string]map[string]any{}}
	for _, h := range c.Controllers {
		ctl.Hosts[controllerHost(h)] = map[string]any{"ansible_host": h.Address}
	}
	wk := invGroup{Hosts: map[string]map[string]any{}}
	for _, w := range c.Workers {
		wk.Hosts[workerHost(w)] = map[string]any{
			"ansible_host": w.Host.Address,
			"model_name":   w.Model,
			"model_path":   w.ModelPath,
			"model_type":   w.ModelType,
			"worker_port":  w.Port,
		}
	}
	ws := invGroup{Hosts: map[string]map[string]any{webserverHost(c.Webserver): {"ansible_host": c.Webserver.Address}}}
	return map[string]any{"all": map[string]any{
		"vars": map[string]any{
			"ansible_user":                 "root",
			"ansible_ssh_private_key_file": c.KeyPath,
			"ansible_ssh_common_args":      "-o UserKnownHostsFile=" + c.KnownHostsPath + " -o StrictHostKeyChecking=yes",
		},
		"children": map[string]any{"controllers": ctl, "workers": wk, "webserver": ws},
	}}
}

func (c AnsibleCluster) vars() map[string]any {
	var addrs []string
	for _, h := range c.Controllers {
		addrs = append(addrs, "http://"+h.Address+":8000")
	}
	hi, ht := c.HeartbeatInterval, c.HeartbeatTimeout
	if hi <= 0 {
		hi = 20
	}
	if ht <= 0 {
		ht = 60
	}
	v := map[string]any{
		"dbgpt":              c.DBGPT,
		"deploy_dir":         c.DeployDir,
		"controller_addr":    strings.Join(addrs, ","),
		"db_host":            c.DB.Host,
		"db_port":            c.DB.Port,
		"db_user":            c.DB.User,
		"db_name":            c.DB.Database,
		"db_password":        c.DB.Password,
		"db_defaults_file":   filepath.Join(c.Dir, "my.cnf"),
		"heartbeat_interval": hi,
		"heartbeat_timeout":  ht,
		"default_llm":        "",
		"default_embedding":  "",
		// With delay 1: two minutes for a component to become healthy.
		"wait_retries": 120,
	}
	for _, w := range c.Workers {
		if w.ModelType == "llm" && v["default_llm"] == "" {
			v["default_llm"] = w.Model
		}
		if w.ModelType == "text2vec" && v["default_embedding"] == "" {
			v["default_embedding"] = w.Model
		}
	}
	return v
}

// optionFile is the mysql client's option file: the password never
// reaches a command line.
func (c AnsibleCluster) optionFile() []byte {
	q := func(s string) string { return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"` }
	return fmt.Appendf(nil, "[client]\nhost=%s\nport=%d\nuser=%s\npassword=%s\n", q(c.DB.Host), c.DB.Port, q(c.DB.User), q(c.DB.Password))
}

// closeMasters ends the SSH master connections (ControlPersist) of every
// variant's control socket directory.
func (c AnsibleCluster) closeMasters(ctx context.Context) {
	socks, _ := filepath.Glob(filepath.Join(c.Dir, "cp-*", "*"))
	for _, s := range socks {
		exec.CommandContext(ctx, "ssh", "-o", "ControlPath="+s, "-O", "exit", "ansible-master").Run()
	}
}

// ansibleTail returns the last n lines of s.
func ansibleTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
