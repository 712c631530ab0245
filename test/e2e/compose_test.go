package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"

	"github.com/hactl/hactl/providers/compose"
	"github.com/hactl/hactl/test/images"
)

// The compose example's fixed names (examples/compose/cluster.hcl).
const (
	composeProject = "dbgpt-ha"
	composeVolume  = "dbgpt-ha-registry"
	composeSecret  = "e2e-Registry'pw$1"
	// composeAPIKey is the openai_api_key the proxy models get (never used: the
	// sim does not call the API); like any secret it must show nowhere.
	composeAPIKey = "sk-e2e-Proxy\"key$2"
)

// composeExampleVersion is the DB-GPT version the example declares.
const composeExampleVersion = "0.6.3"

// composeEnv is what the compose e2e runs with: the built binaries, the
// local images, a throw-away HOME (hactl's work directory lives there).
type composeEnv struct {
	t       *testing.T
	root    string // repository root
	hactl   string
	example string
	project string // compose project
	volume  string // registry volume
	env     []string
}

// newComposeEnv prepares the example for a DB-GPT version: as it is for
// composeExampleVersion, else a copy declaring that version under another
// project and volume name.
func newComposeEnv(t *testing.T, version string) *composeEnv {
	t.Helper()
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Clean(filepath.Join(filepath.Dir(here), "..", ".."))
	bin := t.TempDir()
	e := &composeEnv{t: t, root: root, hactl: filepath.Join(bin, "hactl"),
		example: filepath.Join(root, "examples", "compose", "cluster.hcl"),
		project: composeProject, volume: composeVolume}
	if version != composeExampleVersion {
		src, err := os.ReadFile(e.example)
		if err != nil {
			t.Fatal(err)
		}
		suffix := "-" + strings.ReplaceAll(version, ".", "")
		text := strings.Replace(string(src), `"`+composeExampleVersion+`"`, `"`+version+`"`, 1)
		text = strings.ReplaceAll(text, `"`+composeVolume+`"`, `"`+composeVolume+suffix+`"`)
		text = strings.Replace(text, `name          = "`+composeProject+`"`, `name          = "`+composeProject+suffix+`"`, 1)
		if !strings.Contains(text, composeProject+suffix) || !strings.Contains(text, `"`+version+`"`) {
			t.Fatalf("cannot derive a %s variant of %s", version, e.example)
		}
		e.example = filepath.Join(t.TempDir(), "cluster.hcl")
		if err := os.WriteFile(e.example, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		e.project, e.volume = composeProject+suffix, composeVolume+suffix
	}
	for _, b := range []struct{ out, pkg string }{{e.hactl, "./cmd/hactl"}, {filepath.Join(bin, "dbgpt-sim"), "./cmd/dbgpt-sim"}} {
		cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", b.out, b.pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	imgs, err := images.Ensure(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := images.EnsureSim(ctx, filepath.Join(bin, "dbgpt-sim"), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	// The example's models are proxies: no model directories, only the
	// version the image's sim claims.
	sim, err = composeImageWithModels(ctx, sim, version)
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	e.env = append(os.Environ(),
		"HOME="+home,
		"NO_COLOR=1",
		"HACTL_PROVIDER=compose",
		"HACTL_VAR_dbgpt_image="+sim,
		"HACTL_VAR_database_image="+imgs.DB,
		"HACTL_VAR_registry_password="+composeSecret,
		"HACTL_VAR_openai_api_key="+composeAPIKey,
		// Nothing published on this machine's fixed ports: tests running
		// at the same time would clash (compose_reach_test.go publishes).
		"HACTL_VAR_publish=[]",
	)
	composeSweep(t, e.project, e.volume)
	t.Cleanup(func() { composeSweep(t, e.project, e.volume) })
	return e
}

// variant makes e use a copy of its cluster file with the project and the
// registry volume named with suffix (so it meets no other test's project),
// edited by edit; the new project is swept before and after the test.
func (e *composeEnv) variant(suffix string, edit func(string) string) *composeEnv {
	e.t.Helper()
	src, err := os.ReadFile(e.example)
	if err != nil {
		e.t.Fatal(err)
	}
	project, volume := e.project+"-"+suffix, e.volume+"-"+suffix
	text := strings.Replace(string(src), `"`+e.project+`"`, `"`+project+`"`, 1)
	text = strings.Replace(text, `"`+e.volume+`"`, `"`+volume+`"`, 1)
	if !strings.Contains(text, `"`+project+`"`) || !strings.Contains(text, `"`+volume+`"`) {
		e.t.Fatalf("cannot derive a %s variant of %s", suffix, e.example)
	}
	e.example = filepath.Join(e.t.TempDir(), "cluster.hcl")
	if err := os.WriteFile(e.example, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.project, e.volume = project, volume
	e.edit(edit)
	composeSweep(e.t, project, volume)
	e.t.Cleanup(func() { composeSweep(e.t, project, volume) })
	return e
}

// edit rewrites e's cluster file with edit.
func (e *composeEnv) edit(edit func(string) string) {
	e.t.Helper()
	src, err := os.ReadFile(e.example)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.example, []byte(edit(string(src))), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// composeImageWithModels builds (once per base tag and version) the sim
// image claiming the given DB-GPT version, with the given model directories.
func composeImageWithModels(ctx context.Context, sim, version string, dirs ...string) (string, error) {
	repo := images.SimRepo + "-models"
	tag := sim[strings.LastIndex(sim, ":")+1:] + "-" + version
	ref := repo + ":" + tag
	if exec.CommandContext(ctx, "docker", "image", "inspect", ref).Run() == nil {
		return ref, nil
	}
	// Older tags of this test image are of older sim builds.
	if out, err := exec.CommandContext(ctx, "docker", "images", repo, "--format", "{{.Repository}}:{{.Tag}}").Output(); err == nil {
		for _, old := range strings.Fields(string(out)) {
			if !strings.HasSuffix(old, "-"+version) {
				continue
			}
			_ = exec.CommandContext(ctx, "docker", "rmi", old).Run()
		}
	}
	df := fmt.Sprintf("FROM %s\nENV DBGPT_SIM_VERSION=%s\n", sim, version)
	if len(dirs) > 0 {
		df += "RUN mkdir -p " + strings.Join(dirs, " ") + "\n"
	}
	df += "LABEL " + images.Label + "=1\n"
	cmd := exec.CommandContext(ctx, "docker", "build", "-q", "-t", ref, "-")
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	cmd.Stdin = strings.NewReader(df)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("docker build %s: %v\n%s", ref, err, out)
	}
	return ref, nil
}

// composeSweep removes every container, the network and the volume of the
// example's project, whatever state a failed run left.
func composeSweep(t *testing.T, project, volume string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "docker", "ps", "-aq", "--filter", "label="+compose.LabelProject+"="+project).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		_ = exec.CommandContext(ctx, "docker", append([]string{"rm", "-f", "-v"}, ids...)...).Run()
	}
	out, _ = exec.CommandContext(ctx, "docker", "ps", "-aq", "--filter", "label=com.docker.compose.project="+project).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		_ = exec.CommandContext(ctx, "docker", append([]string{"rm", "-f", "-v"}, ids...)...).Run()
	}
	_ = exec.CommandContext(ctx, "docker", "network", "rm", project+"_"+compose.NetworkName).Run()
	_ = exec.CommandContext(ctx, "docker", "volume", "rm", volume).Run()
}

// hactl runs the built hactl on the example and returns its combined output
// and exit code; it fails the test only when the command could not run.
func (e *composeEnv) run(timeout time.Duration, args ...string) (string, int) {
	e.t.Helper()
	var out bytes.Buffer
	code := e.exec(timeout, &out, &out, args...)
	return out.String(), code
}

// runSplit is run with standard output and error apart (a -json command's
// output is only its stdout).
func (e *composeEnv) runSplit(timeout time.Duration, args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	var so, se bytes.Buffer
	code = e.exec(timeout, &so, &se, args...)
	return so.String(), se.String(), code
}

func (e *composeEnv) exec(timeout time.Duration, stdout, stderr *bytes.Buffer, args ...string) int {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	full := append(append([]string{}, args[0]), append([]string{"-f", e.example}, args[1:]...)...)
	cmd := exec.CommandContext(ctx, e.hactl, full...)
	cmd.Env = e.env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			e.t.Fatalf("hactl %s: %v", strings.Join(full, " "), err)
		}
		code = ee.ExitCode()
	}
	all := stdout.String()
	if stderr != stdout {
		all += stderr.String()
	}
	if strings.Contains(all, composeSecret) {
		e.t.Errorf("hactl %s printed the registry password", args[0])
	}
	if strings.Contains(all, composeAPIKey) {
		e.t.Errorf("hactl %s printed the proxy models' API key", args[0])
	}
	return code
}

// secretsKept checks that the registry password and the API key are on no
// container's command line and no process's in it, and that every file of
// the project's work directory holding one is readable by its owner only.
func (e *composeEnv) secretsKept(services []string) {
	e.t.Helper()
	for _, svc := range services {
		id := containerID(e.t, e.project, svc)
		args, err := exec.Command("docker", "inspect", "--format", "{{json .Path}} {{json .Args}}", id).Output()
		if err != nil {
			e.t.Fatalf("docker inspect %s: %v", svc, err)
		}
		ps, err := exec.Command("docker", "exec", id, "sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '").Output()
		if err != nil {
			e.t.Fatalf("command lines in %s: %v", svc, err)
		}
		for _, secret := range []string{composeSecret, composeAPIKey} {
			if strings.Contains(string(args), secret) || strings.Contains(string(ps), secret) {
				e.t.Errorf("%s: a secret is on a command line: %s", svc, args)
			}
		}
	}
	home := ""
	for _, kv := range e.env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	holders := 0
	err := filepath.WalkDir(filepath.Join(home, ".hactl"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), composeAPIKey) && !strings.Contains(string(b), composeSecret) {
			return nil
		}
		holders++
		if fi, err := d.Info(); err != nil || fi.Mode().Perm() != 0o600 {
			e.t.Errorf("%s holds a secret and is not mode 0600 (%v)", path, fi.Mode())
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if holders == 0 {
		e.t.Errorf("no file under %s/.hactl holds the secrets: where did the workers get the key?", home)
	}
}

// must runs hactl and fails the test on a non-zero exit.
func (e *composeEnv) must(timeout time.Duration, args ...string) string {
	e.t.Helper()
	out, code := e.run(timeout, args...)
	if code != 0 {
		e.t.Fatalf("hactl %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

type composeStatus struct {
	Components []struct {
		Name, Role, Server, State string
		PID                       int `json:"pid"`
	} `json:"components"`
	Models []struct {
		ModelName string   `json:"model_name"`
		ModelType string   `json:"model_type"`
		Host      string   `json:"host"`
		Port      int      `json:"port"`
		Live      bool     `json:"live"`
		Via       []string `json:"via"`
	} `json:"models"`
	ModelsSource string `json:"models_source"`
}

func (e *composeEnv) status() (composeStatus, string) {
	e.t.Helper()
	out, errOut, code := e.runSplit(time.Minute, "status", "--json")
	var st composeStatus
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil {
		e.t.Fatalf("status --json: exit %d: %v\n%s%s", code, err, out, errOut)
	}
	return st, out
}

// modelsLiveVia waits until both models are live as listed by every one of
// the given controllers.
func (e *composeEnv) modelsLiveVia(within time.Duration, controllers ...string) {
	e.t.Helper()
	want := []struct {
		name, typ, host string
		port            int
	}{
		{"gpt-4o", "llm", "worker-llm", 8001},
		{"proxy_openai", "text2vec", "worker-embedding", 8003},
	}
	deadline := time.Now().Add(within)
	for {
		st, out := e.status()
		missing := ""
		for _, w := range want {
			for _, ctl := range controllers {
				found := false
				for _, m := range st.Models {
					if m.ModelName == w.name && m.ModelType == w.typ && m.Host == w.host && m.Port == w.port && m.Live &&
						containsString(m.Via, ctl) {
						found = true
					}
				}
				if !found {
					missing += fmt.Sprintf(" %s@%s via %s;", w.name, w.typ, ctl)
				}
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("not live:%s\n%s", missing, out)
		}
		time.Sleep(2 * time.Second)
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s || strings.HasSuffix(v, "."+s) || strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// projectContainers lists name → running of the project's containers, by
// compose service.
func projectContainers(t *testing.T, project string) map[string]bool {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "--filter", "label="+compose.LabelProject+"="+project,
		"--format", `{{.Label "`+compose.LabelService+`"}} {{.State}}`).Output()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			m[f[0]] = f[1] == "running"
		}
	}
	return m
}

func containerID(t *testing.T, project, svc string) string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-q", "--filter", "label="+compose.LabelProject+"="+project,
		"--filter", "label="+compose.LabelService+"="+svc).Output()
	if err != nil || len(strings.Fields(string(out))) != 1 {
		t.Fatalf("container of %s: %q %v", svc, out, err)
	}
	return strings.TrimSpace(string(out))
}

func dockerOK(args ...string) bool { return exec.Command("docker", args...).Run() == nil }

// composeCLIs are the compose CLIs the compose e2e runs under, by the names
// HACTL_COMPOSE_CLI gives them (providers/compose.CLIEnv), with how to
// install each.
var composeCLIs = []struct{ name, install string }{
	{"v1", "docker-compose: apt-get install docker-compose"},
	{"v2", "the docker compose plugin: make compose-v2"},
}

// composeCLIVersion is the version line of a compose CLI, "" when it is not
// on this machine.
func composeCLIVersion(cli string) string {
	var cmd *exec.Cmd
	if cli == "v1" {
		if _, err := exec.LookPath("docker-compose"); err != nil {
			return ""
		}
		cmd = exec.Command("docker-compose", "version", "--short")
	} else {
		cmd = exec.Command("docker", "compose", "version", "--short")
	}
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// eachComposeCLI runs f as the subtests v1 and v2, each with that compose
// CLI, and logs which ran. A CLI missing from this machine skips its subtest,
// and fails it in CI (CI=true), where both must run.
func eachComposeCLI(t *testing.T, f func(t *testing.T, cli string)) {
	for _, c := range composeCLIs {
		t.Run(c.name, func(t *testing.T) {
			v := composeCLIVersion(c.name)
			if v == "" && os.Getenv("CI") == "true" {
				t.Fatalf("compose %s is not installed, and CI runs the compose tests under both CLIs: install %s", c.name, c.install)
			}
			if v == "" {
				t.Skipf("compose %s is not installed (install %s)", c.name, c.install)
			}
			t.Logf("compose CLI %s: version %s", c.name, v)
			f(t, c.name)
		})
	}
}

// withCLI makes every hactl of e use the compose CLI cli ("v1" or "v2").
func (e *composeEnv) withCLI(cli string) *composeEnv {
	e.env = append(e.env, compose.CLIEnv+"="+cli)
	return e
}

// Issue 5, must show 1-4: the compose example on this machine's Docker with
// local images: apply, models through both controllers, a no-op plan, a
// killed controller, destroy keeping then purging the registry volume; under
// each compose CLI.
func TestComposeApplyStatusKillDestroy(t *testing.T) {
	eachComposeCLI(t, composeApplyStatusKillDestroy)
}

func composeApplyStatusKillDestroy(t *testing.T, cli string) {
	e := newComposeEnv(t, composeExampleVersion).withCLI(cli)
	services := []string{"controller1", "controller2", "worker-llm", "worker-embedding", "webserver"}

	// 0. plan from nothing: the registry (no database container, no volume
	// yet: nothing is started to look) and five components.
	out, code := e.run(5*time.Minute, "plan", "-detailed-exitcode")
	if code != 2 || !strings.Contains(out, "Plan: 6 to add, 0 to change, 0 to destroy.") ||
		!strings.Contains(out, "# registry will be created (database dbgpt absent)") ||
		!strings.Contains(out, "# (database dbgpt and table dbgpt_cluster_registry_instance will be created)") {
		t.Fatalf("first plan: exit %d\n%s", code, out)
	}
	if left := projectContainers(t, e.project); len(left) > 0 {
		t.Fatalf("plan started containers: %v", left)
	}

	// 1. apply brings up two controllers, two workers and the webserver.
	start := time.Now()
	out = e.must(10*time.Minute, "apply", "-auto-approve")
	t.Logf("compose apply from nothing: %s", time.Since(start).Round(100*time.Millisecond))
	running := projectContainers(t, e.project)
	for _, svc := range append(services, "registry-db") {
		if !running[svc] {
			t.Fatalf("service %s not running after apply: %v\n%s", svc, running, out)
		}
	}
	e.modelsLiveVia(90*time.Second, "controller1", "controller2")
	e.secretsKept(services)

	// 2. plan again: no changes.
	out, code = e.run(2*time.Minute, "plan", "-detailed-exitcode")
	if code != 0 || !strings.Contains(out, "No changes") {
		t.Fatalf("second plan: exit %d\n%s", code, out)
	}
	ctl2 := containerID(t, e.project, "controller2")

	// 3. kill the first controller: the models are still listed through the
	// second; apply brings the first back and leaves the rest alone.
	if out, err := exec.Command("docker", "kill", containerID(t, e.project, "controller1")).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v %s", err, out)
	}
	e.modelsLiveVia(30*time.Second, "controller2")
	start = time.Now()
	out = e.must(5*time.Minute, "apply", "-auto-approve")
	t.Logf("compose apply restoring a killed controller: %s", time.Since(start).Round(100*time.Millisecond))
	if !projectContainers(t, e.project)["controller1"] {
		t.Fatalf("controller1 not back after apply:\n%s", out)
	}
	if containerID(t, e.project, "controller2") != ctl2 {
		t.Errorf("controller2 was recreated by the repairing apply")
	}
	e.modelsLiveVia(90*time.Second, "controller1", "controller2")
	if out, code := e.run(2*time.Minute, "plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("plan after repair: exit %d\n%s", code, out)
	}

	// 4. destroy removes the containers and the network, keeps the volume.
	out = e.must(5*time.Minute, "destroy", "-auto-approve")
	if left := projectContainers(t, e.project); len(left) > 0 {
		t.Fatalf("containers left after destroy: %v\n%s", left, out)
	}
	if dockerOK("network", "inspect", e.project+"_"+compose.NetworkName) {
		t.Errorf("network left after destroy:\n%s", out)
	}
	if !dockerOK("volume", "inspect", e.volume) {
		t.Fatalf("registry volume removed by destroy without --purge-registry:\n%s", out)
	}
	// The kept volume cannot be looked into without starting the database:
	// plan says so, does not count the registry and starts nothing.
	out, code = e.run(5*time.Minute, "plan", "-detailed-exitcode")
	if code != 2 || !strings.Contains(out, "Plan: 5 to add, 0 to change, 0 to destroy.") ||
		!strings.Contains(out, "could not be checked: the database service registry-db is not running") {
		t.Errorf("plan after destroy: exit %d\n%s", code, out)
	}
	if left := projectContainers(t, e.project); len(left) > 0 {
		t.Errorf("plan started containers: %v", left)
	}
	out = e.must(5*time.Minute, "destroy", "-auto-approve", "--purge-registry")
	if dockerOK("volume", "inspect", e.volume) {
		t.Errorf("registry volume left after destroy --purge-registry:\n%s", out)
	}
}

// The TOML generation (DB-GPT 0.7): settings files mounted into the
// containers, the password only through ${env:...} from a 0600 env file;
// under each compose CLI.
func TestComposeTOMLGeneration(t *testing.T) {
	eachComposeCLI(t, composeTOMLGeneration)
}

func composeTOMLGeneration(t *testing.T, cli string) {
	e := newComposeEnv(t, "0.7.0").withCLI(cli)
	start := time.Now()
	e.must(10*time.Minute, "apply", "-auto-approve")
	t.Logf("compose apply from nothing (0.7): %s", time.Since(start).Round(100*time.Millisecond))
	e.modelsLiveVia(90*time.Second, "controller1", "controller2")
	e.secretsKept([]string{"controller1", "controller2", "worker-llm", "worker-embedding", "webserver"})
	if out, code := e.run(2*time.Minute, "plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("second plan: exit %d\n%s", code, out)
	}
	out, err := exec.Command("docker", "inspect", "--format", "{{json .Args}}", containerID(t, e.project, "controller1")).Output()
	if err != nil || !strings.Contains(string(out), `"-c"`) || strings.Contains(string(out), "e2e-Registry") {
		t.Errorf("controller1 arguments: %s %v", out, err)
	}
	e.must(5*time.Minute, "destroy", "-auto-approve", "--purge-registry")
	if left := projectContainers(t, e.project); len(left) > 0 {
		t.Errorf("containers left after destroy: %v", left)
	}
	if dockerOK("volume", "inspect", e.volume) {
		t.Errorf("registry volume left after destroy --purge-registry")
	}
}

// Issue 5, must show 5: the exported HA example loads back through
// compose-go and each compose CLI accepts it.
func TestComposeExportHAExample(t *testing.T) {
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip")
	}
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Clean(filepath.Join(filepath.Dir(here), "..", ".."))
	bin := filepath.Join(t.TempDir(), "hactl")
	build := exec.Command("go", "build", "-o", bin, "./cmd/hactl")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "docker-compose.yml")
	cmd := exec.Command(bin, "export", "compose", "-f", filepath.Join(root, "examples", "compose", "cluster.hcl"), "-o", file)
	cmd.Env = append(os.Environ(), "HACTL_VAR_registry_password="+composeSecret, "HACTL_VAR_openai_api_key="+composeAPIKey)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hactl export compose: %v\n%s", err, out)
	}
	y, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(y), "e2e-Registry") {
		t.Fatal("the exported YAML holds the registry password")
	}
	entries, _ := os.ReadDir(dir)
	for _, en := range entries {
		if strings.HasSuffix(en.Name(), ".env") && en.Name() != ".env" {
			st, _ := os.Stat(filepath.Join(dir, en.Name()))
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %o", en.Name(), st.Mode().Perm())
			}
		}
	}
	ctx := context.Background()
	details, err := loader.LoadConfigFiles(ctx, []string{file}, dir)
	if err != nil {
		t.Fatal(err)
	}
	proj, err := loader.LoadWithContext(ctx, *details, func(o *loader.Options) { o.SetProjectName(composeProject, true) })
	if err != nil {
		t.Fatalf("compose-go loader: %v", err)
	}
	if n := len(proj.Services); n != 6 {
		t.Errorf("compose-go sees %d services, want 6 (2 controllers, 2 workers, webserver, database)", n)
	}
	eachComposeCLI(t, func(t *testing.T, cli string) {
		cmd := []string{"docker", "compose"}
		if cli == "v1" {
			cmd = []string{"docker-compose"}
		}
		check := exec.Command(cmd[0], append(cmd[1:], "config", "-q")...)
		check.Dir = dir
		if out, err := check.CombinedOutput(); err != nil {
			t.Fatalf("%s config: %v\n%s", strings.Join(cmd, " "), err, out)
		}
	})
}
