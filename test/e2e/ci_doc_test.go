package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/testio"

	"github.com/hactl/hactl/test/images"
)

// docs/ci.md's plain-shell job, run as written on this machine's Docker
// with the compose example (under its own project name) and the sim image:
// once with tests that pass, once with tests that fail. A hactl shim on the
// PATH records every hactl command the job runs with its exit status.
func TestCIDocJob(t *testing.T) {
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip")
	}
	for _, tool := range []string{"docker", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed by docs/ci.md's job: %v", tool, err)
		}
	}
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Clean(filepath.Join(filepath.Dir(here), "..", ".."))
	doc, err := os.ReadFile(filepath.Join(root, "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?ms)^```sh\n(.*?)^```").FindAllSubmatch(doc, -1)
	if len(blocks) != 1 {
		t.Fatalf("docs/ci.md has %d sh blocks, want exactly one", len(blocks))
	}
	script := string(blocks[0][1])

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	bin := t.TempDir()
	realHactl := filepath.Join(t.TempDir(), "hactl")
	for _, b := range []struct{ out, pkg string }{{realHactl, "./cmd/hactl"}, {filepath.Join(bin, "dbgpt-sim"), "./cmd/dbgpt-sim"}} {
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
	sim, err = composeImageWithModels(ctx, sim, composeExampleVersion)
	if err != nil {
		t.Fatal(err)
	}

	// The example under a project and volume of its own, so it cannot meet
	// the compose e2e's cluster.
	const project, volume = "dbgpt-ci-doc", "dbgpt-ci-doc-registry"
	example, err := os.ReadFile(filepath.Join(root, "examples", "compose", "cluster.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	cluster := strings.Replace(string(example), `name          = "`+composeProject+`"`, `name          = "`+project+`"`, 1)
	cluster = strings.ReplaceAll(cluster, `"`+composeVolume+`"`, `"`+volume+`"`)
	if !strings.Contains(cluster, project) || !strings.Contains(cluster, volume) {
		t.Fatal("cannot rename the compose example's project and volume")
	}
	composeSweep(t, project, volume)
	t.Cleanup(func() { composeSweep(t, project, volume) })

	shim := fmt.Sprintf("#!/bin/sh\n%s \"$@\"\ncode=$?\nprintf '%%s\\t%%s\\n' \"$code\" \"$*\" >> \"$HACTL_SHIM_LOG\"\nexit $code\n", realHactl)
	if err := os.WriteFile(filepath.Join(bin, "hactl"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		tests string // integration-tests.sh
		code  int    // the job's exit status
	}{
		// The tests read the models through hactl: four live rows (two
		// models, each with its WorkerManager row). Then they let this test
		// follow a log (followComposeLog) before they end.
		{"pass", `#!/bin/sh
set -eu
hactl status --provider compose --json | jq -e '[.models[] | select(.live)] | length == 4' > /dev/null
touch ready-to-follow
n=0
until [ -e followed ]; do
  n=$((n + 1))
  [ "$n" -le 1200 ] || { echo "no follow check within 4 minutes" >&2; exit 1; }
  sleep 0.2
done
echo integration tests passed
`, 0},
		{"fail", "#!/bin/sh\necho integration tests failed >&2\nexit 3\n", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			log := filepath.Join(work, "hactl-calls.log")
			for name, content := range map[string]string{"cluster.hcl": cluster, "integration-tests.sh": tc.tests} {
				if err := os.WriteFile(filepath.Join(work, name), []byte(content), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.CommandContext(ctx, "sh", "-c", script)
			cmd.Dir = work
			cmd.Env = append(os.Environ(),
				"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
				"HOME="+t.TempDir(),
				"HACTL_PROVIDER=", // the job names its provider itself
				"HACTL_SHIM_LOG="+log,
				"HACTL_WAIT_SECONDS=180",
				"HACTL_VAR_dbgpt_image="+sim,
				"HACTL_VAR_database_image="+imgs.DB,
				"HACTL_VAR_registry_password="+composeSecret,
				"HACTL_VAR_openai_api_key="+composeAPIKey,
			)
			var out testio.LockedBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			if tc.code == 0 {
				followComposeLog(t, realHactl, cmd.Env, work, exited)
			}
			err := <-exited
			t.Logf("the job took %s", time.Since(start).Round(time.Second))
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("the job exited %d, want %d\n%s", code, tc.code, out.String())
			}
			if strings.Contains(out.String(), composeSecret) {
				t.Error("the job's output shows the registry password")
			}

			if tc.code != 0 {
				// Each component's section of logs has lines of its own.
				for _, comp := range []string{"controller.controller1", "controller.controller2", "worker.llm", "worker.embedding", "webserver"} {
					head := "--- hactl logs " + comp + "\n"
					_, rest, ok := strings.Cut(out.String(), head)
					if first, _, _ := strings.Cut(rest, "\n"); !ok || first == "" || strings.HasPrefix(first, "--- hactl logs") {
						t.Errorf("no log lines of %s after %q", comp, strings.TrimSpace(head))
					}
				}
			}
			calls := readCalls(t, log)
			steps := checkCalls(t, calls, tc.code != 0)
			t.Logf("hactl calls:\n%s", steps)
			if t.Failed() {
				t.Logf("output:\n%s", out.String())
			}
			if left := projectContainers(t, project); len(left) > 0 {
				t.Errorf("containers left after the job: %v", left)
			}
		})
	}
}

// followComposeLog waits for the job's tests to be ready, then checks
// `hactl logs -f` on the compose cluster: the lines a status request makes
// controller1 write after the follow started are printed, and SIGINT ends
// it with exit status 0. It always lets the tests go on.
func followComposeLog(t *testing.T, hactl string, env []string, work string, exited chan error) {
	t.Helper()
	defer os.WriteFile(filepath.Join(work, "followed"), nil, 0o644)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(work, "ready-to-follow")); err == nil {
			break
		}
		select {
		case err := <-exited:
			exited <- err
			t.Error("the job ended before its tests ran")
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Error("the job's tests did not start within 5 minutes")
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	run := func(args ...string) *exec.Cmd {
		c := exec.Command(hactl, args...)
		c.Dir, c.Env = work, env
		return c
	}
	follow := run("logs", "controller1", "--provider", "compose", "-f", "-n", "1")
	var out, errOut testio.LockedBuffer
	follow.Stdout, follow.Stderr = &out, &errOut
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- follow.Wait() }()
	defer func() {
		if follow.ProcessState == nil {
			_ = follow.Process.Kill()
		}
	}()
	lines := func() []string { return strings.SplitAfter(out.String(), "\n") }
	eventually(t, time.Minute, 50*time.Millisecond, "logs -f prints the last line", func() error {
		if len(lines()) < 2 {
			return fmt.Errorf("output %q, stderr %q", out.String(), errOut.String())
		}
		return nil
	})
	if b, err := run("status", "--provider", "compose").CombinedOutput(); err != nil {
		t.Fatalf("status: %v\n%s", err, b)
	}
	eventually(t, time.Minute, 50*time.Millisecond, "logs -f prints the status request's line", func() error {
		for _, l := range lines()[1:] {
			if strings.Contains(l, "GET /api/controller/models") && strings.HasSuffix(l, "\n") {
				return nil
			}
		}
		return fmt.Errorf("output %q", out.String())
	})
	interrupted := time.Now()
	if err := follow.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("logs -f after SIGINT: %v (want exit 0); stderr %q", err, errOut.String())
		}
		t.Logf("compose logs -f followed %d lines and ended %s after SIGINT", len(lines())-1, time.Since(interrupted).Round(time.Millisecond))
	case <-time.After(15 * time.Second):
		t.Error("logs -f still runs 15s after SIGINT")
	}
}

type hactlCall struct {
	code int
	args string
}

func readCalls(t *testing.T, log string) []hactlCall {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("no hactl call recorded: %v", err)
	}
	var calls []hactlCall
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		code, args, _ := strings.Cut(line, "\t")
		n, err := strconv.Atoi(code)
		if err != nil {
			t.Fatalf("shim log line %q", line)
		}
		calls = append(calls, hactlCall{n, args})
	}
	return calls
}

// checkCalls checks the job's hactl commands in order: apply succeeds;
// status --check is repeated until it says healthy (0), having said only
// degraded (2) or error (1) before; on failure the status and the logs of
// all five components, each succeeding; destroy last, succeeding.
func checkCalls(t *testing.T, calls []hactlCall, failed bool) string {
	t.Helper()
	var steps strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&steps, "  exit %d: hactl %s\n", c.code, c.args)
	}
	next := func(want string) (hactlCall, bool) {
		if len(calls) == 0 || calls[0].args != want {
			t.Errorf("want the call hactl %s next", want)
			return hactlCall{}, false
		}
		c := calls[0]
		calls = calls[1:]
		return c, true
	}
	if c, ok := next("apply --provider compose -auto-approve"); ok && c.code != 0 {
		t.Errorf("apply exited %d", c.code)
	}
	checks := 0
	for len(calls) > 0 && calls[0].args == "status --provider compose --check" {
		c := calls[0]
		calls = calls[1:]
		checks++
		if c.code == 0 {
			break
		}
		if c.code != 1 && c.code != 2 {
			t.Errorf("status --check exited %d", c.code)
		}
	}
	if checks == 0 {
		t.Error("status --check never ran")
	}
	// What the pass run's tests themselves ran.
	for len(calls) > 0 && calls[0].args == "status --provider compose --json" && !failed {
		if calls[0].code != 0 {
			t.Errorf("the tests' status --json exited %d", calls[0].code)
		}
		calls = calls[1:]
	}
	if failed {
		for _, want := range []string{"status --provider compose --no-color", "status --provider compose --json"} {
			if c, ok := next(want); ok && c.code != 0 {
				t.Errorf("hactl %s exited %d", want, c.code)
			}
		}
		for _, comp := range []string{"controller.controller1", "controller.controller2", "worker.llm", "worker.embedding", "webserver"} {
			if c, ok := next("logs " + comp + " --provider compose -n 200"); ok && c.code != 0 {
				t.Errorf("logs of %s exited %d", comp, c.code)
			}
		}
	}
	if c, ok := next("destroy -auto-approve --provider compose"); ok && c.code != 0 {
		t.Errorf("destroy exited %d", c.code)
	}
	if len(calls) > 0 {
		t.Errorf("calls after destroy: %v", calls)
	}
	return steps.String()
}
