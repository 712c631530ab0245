package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/hactl/hactl/test/e2e/testcluster"
)

// hactlBin builds hactl once per benchmark binary.
var (
	hactlOnce sync.Once
	hactlPath string
	hactlErr  error
)

func hactl(tb testing.TB) string {
	hactlOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hactl-bench-bin-")
		if err != nil {
			hactlErr = err
			return
		}
		hactlPath = filepath.Join(dir, "hactl")
		cmd := exec.Command("go", "build", "-o", hactlPath, "github.com/hactl/hactl/cmd/hactl")
		if out, err := cmd.CombinedOutput(); err != nil {
			hactlErr = fmt.Errorf("go build hactl: %v\n%s", err, out)
		}
	})
	if hactlErr != nil {
		tb.Fatal(hactlErr)
	}
	return hactlPath
}

// run is one hactl command's outcome.
type run struct {
	took   time.Duration
	maxRSS float64 // MB
	code   int
	out    string
}

// runner runs hactl on one cluster file, the registry password in its
// environment (never on the command line).
type runner struct {
	tb       testing.TB
	bin      string
	file     string
	password string
}

func (r *runner) run(ctx context.Context, args ...string) run {
	args = append(args, "-f", r.file, "-no-color")
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Env = append(os.Environ(), "HACTL_VAR_registry_password="+r.password)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.tb.Fatalf("hactl %s: %v", strings.Join(args, " "), err)
	}
	// The peak RSS is the process's own high-water mark (VmHWM), read
	// until it exits. (wait4's ru_maxrss would not do: a child forked
	// from this large test process inherits its mark.)
	hwm := make(chan float64, 1)
	stop := make(chan struct{})
	go func() {
		peak := 0.0
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if v := vmHWM(cmd.Process.Pid); v > peak {
				peak = v
			}
			select {
			case <-stop:
				hwm <- peak
				return
			case <-t.C:
			}
		}
	}()
	_ = cmd.Wait()
	res := run{took: time.Since(start), out: out.String(), code: cmd.ProcessState.ExitCode()}
	close(stop)
	res.maxRSS = <-hwm
	return res
}

// vmHWM is the peak resident set size of a running process in MB, 0 when
// it cannot be read (it has exited).
func vmHWM(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// must runs hactl and fails the benchmark unless it exits with want.
func (r *runner) must(ctx context.Context, want int, args ...string) run {
	res := r.run(ctx, args...)
	if res.code != want {
		r.tb.Fatalf("hactl %s: exit %d, want %d\n%s", strings.Join(args, " "), res.code, want, res.out)
	}
	return res
}

func (r *runner) destroy(ctx context.Context) {
	r.must(ctx, 0, "destroy", "-auto-approve", "--purge-registry")
}

// scaleTemplate is the HA topology stretched over many servers:
// controller1 and controller2 on the first two, a worker on every other
// one (LLM and embedding models alternating), the light webserver beside
// the first worker.
var scaleTemplate = template.Must(template.New("scale.hcl").Funcs(template.FuncMap{"mod": func(i int) int { return i % 2 }}).Parse(`# The HA topology over {{len .Servers}} servers (hactl's benchmark).
cluster {
  name          = "bench"
  dbgpt_version = "{{.Version}}"
}

variable "registry_password" {
  type      = string
  sensitive = true
}

defaults {
  user             = "root"
  key_file         = "{{.KeyFile}}"
  known_hosts_file = "{{.KnownHostsFile}}"
  host_key_policy  = "strict"
  deploy_dir       = "/opt/hactl/bench"
}
{{range .Servers}}
server "{{.Name}}" {
  address = "{{.Address}}"
}
{{end}}
registry "mysql" {
  host            = "{{.DBHost}}"
  port            = {{.DBPort}}
  database        = "dbgpt"
  user            = "root"
  password        = var.registry_password
  create_database = true
}

model "glm-4-9b-chat" {
  type = "llm"
  path = "/app/models/glm-4-9b-chat"
}

model "text2vec" {
  type = "text2vec"
  path = "/app/models/text2vec-large-chinese"
}

controller "controller1" {
  server = server.{{(index .Servers 0).Name}}
  port   = 8000
}

controller "controller2" {
  server = server.{{(index .Servers 1).Name}}
  port   = 8000
}
{{range $i, $s := .Workers}}
worker "w-{{$s.Name}}" {
  server = server.{{$s.Name}}
  model  = model.{{if eq (mod $i) 0}}glm-4-9b-chat{{else}}text2vec{{end}}
  port   = 8001
}
{{end}}
webserver {
  server            = server.{{(index .Workers 0).Name}}
  port              = 5670
  light             = true
  remote_embedding  = true
  default_llm       = model.glm-4-9b-chat
  default_embedding = model.text2vec
}
`))

type hostAddr struct{ Name, Address string }

// scaleFile writes the scale topology over the first n servers of tc.
func scaleFile(tb testing.TB, tc *testcluster.Cluster, n int) string {
	servers := tc.Servers()
	if n > len(servers) || n < 3 {
		tb.Fatalf("scale file of %d servers: the test cluster has %d", n, len(servers))
	}
	var hs []hostAddr
	for _, h := range servers[:n] {
		hs = append(hs, hostAddr{h, tc.IP(h)})
	}
	var buf bytes.Buffer
	if err := scaleTemplate.Execute(&buf, map[string]any{
		"Version": tc.SimVersion, "KeyFile": tc.KeyPath, "KnownHostsFile": tc.KnownHostsPath,
		"DBHost": tc.IP(testcluster.DBHost), "DBPort": testcluster.DBPort,
		"Servers": hs, "Workers": hs[2:],
	}); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tc.Dir, fmt.Sprintf("scale-%d.hcl", n))
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

var acceptedRe = regexp.MustCompile(`Accepted publickey for root from`)

// logins counts, per SSH host, the logins its sshd has accepted so far
// (from the container's log: sshd -D -e logs to it).
func logins(tb testing.TB, tc *testcluster.Cluster, hosts []string) map[string]int {
	out := make(map[string]int, len(hosts))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			log, err := tc.ContainerLog(h)
			if err != nil {
				tb.Errorf("%s: %v", h, err)
			}
			n := len(acceptedRe.FindAllStringIndex(log, -1))
			mu.Lock()
			out[h] = n
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// connectionsPerHost is how many logins each host saw between two counts:
// the most any host saw (the goal is 1 per host per run), and how many
// hosts saw any.
func connectionsPerHost(before, after map[string]int) (most, hosts int) {
	for h, n := range after {
		d := n - before[h]
		most = max(most, d)
		if d > 0 {
			hosts++
		}
	}
	return most, hosts
}

func runs() int {
	if n, err := strconv.Atoi(os.Getenv("HACTL_BENCH_RUNS")); err == nil && n > 0 {
		return n
	}
	return 3
}

func machine() string {
	load, _ := os.ReadFile("/proc/loadavg")
	return fmt.Sprintf("%d CPUs (GOMAXPROCS %d), load %s", runtime.NumCPU(), runtime.GOMAXPROCS(0), strings.Join(strings.Fields(string(load))[:3], " "))
}
