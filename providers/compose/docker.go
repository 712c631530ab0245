package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// run runs a command and returns its stdout; on failure the error carries
// the command (never a secret: hactl puts none on command lines) and the last
// lines of its output.
func run(ctx context.Context, dir string, name string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return stdout.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, lastLines(msg, 15))
	}
	return stdout.String(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// CLIEnv is the environment variable that picks the compose CLI: "v2" the
// docker compose plugin, "v1" the docker-compose program, unset (or empty)
// the plugin when it answers, else docker-compose.
const CLIEnv = "HACTL_COMPOSE_CLI"

// cliError is a compose CLI that cannot be had, with what to do about it.
type cliError struct{ what, fix string }

func (e *cliError) Error() string { return e.what }

// cliFix is what to do about an error of detectCompose.
func cliFix(err error) string {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.fix
	}
	return "install the docker compose plugin or docker-compose"
}

// detectCompose finds the compose CLI HACTL_COMPOSE_CLI asks for: by
// default the docker compose v2 plugin, else docker-compose.
func detectCompose(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return chooseCompose(ctx, os.Getenv(CLIEnv), run, exec.LookPath)
}

// chooseCompose is detectCompose's choice for the wanted CLI ("v1", "v2" or
// "" for either), given how to run a command and find a program.
func chooseCompose(ctx context.Context, want string, runFn func(ctx context.Context, dir, name string, args ...string) (string, error),
	lookPath func(string) (string, error)) ([]string, error) {
	plugin := func() error {
		_, err := runFn(ctx, "", "docker", "compose", "version")
		return err
	}
	standalone := func() error {
		if _, err := lookPath("docker-compose"); err != nil {
			return err
		}
		_, err := runFn(ctx, "", "docker-compose", "version")
		return err
	}
	switch want {
	case "v2":
		if err := plugin(); err != nil {
			return nil, &cliError{what: fmt.Sprintf("%s=v2, but the docker compose plugin does not answer: %v", CLIEnv, firstLine(err)),
				fix: "install the docker compose plugin or unset " + CLIEnv + "; `make compose-v2` in hactl's source builds the plugin"}
		}
		return []string{"docker", "compose"}, nil
	case "v1":
		if err := standalone(); err != nil {
			return nil, &cliError{what: fmt.Sprintf("%s=v1, but docker-compose does not answer: %v", CLIEnv, firstLine(err)),
				fix: "install docker-compose, or unset " + CLIEnv}
		}
		return []string{"docker-compose"}, nil
	case "":
		if plugin() == nil {
			return []string{"docker", "compose"}, nil
		}
		if standalone() == nil {
			return []string{"docker-compose"}, nil
		}
		return nil, &cliError{what: "neither the docker compose plugin nor docker-compose was found",
			fix: "install the docker compose plugin or docker-compose"}
	default:
		return nil, &cliError{what: fmt.Sprintf("%s=%q: want v1 (docker-compose), v2 (the docker compose plugin) or unset (either)", CLIEnv, want),
			fix: "set " + CLIEnv + " to v1 or v2, or unset it"}
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// container is the part of `docker inspect` hactl reads.
type container struct {
	ID     string `json:"Id"`
	Name   string
	Config struct {
		Labels map[string]string
		Image  string
	}
	State struct {
		Status     string
		Running    bool
		Paused     bool
		Restarting bool
		Pid        int
		ExitCode   int
		StartedAt  string
		FinishedAt string
		Health     *struct{ Status string }
	}
	RestartCount    int
	NetworkSettings struct {
		Networks map[string]struct {
			IPAddress string
			Aliases   []string
		}
		// Ports: "5670/tcp" → its host bindings.
		Ports map[string][]struct {
			HostIP   string `json:"HostIp"`
			HostPort string
		}
	}
}

func (c container) health() string {
	if c.State.Health == nil {
		return ""
	}
	return c.State.Health.Status
}

func (c container) startedAt() time.Time {
	t, err := time.Parse(time.RFC3339Nano, c.State.StartedAt)
	if err != nil || t.Year() < 2000 {
		return time.Time{}
	}
	return t
}

// containers lists the containers carrying every given label (key=value),
// stopped ones included, inspected.
func containers(ctx context.Context, labels ...string) ([]container, error) {
	args := []string{"ps", "-a", "-q", "--no-trunc"}
	for _, l := range labels {
		args = append(args, "--filter", "label="+l)
	}
	out, err := run(ctx, "", "docker", args...)
	if err != nil {
		return nil, err
	}
	ids := strings.Fields(out)
	if len(ids) == 0 {
		return nil, nil
	}
	out, err = run(ctx, "", "docker", append([]string{"inspect"}, ids...)...)
	if err != nil {
		// A container removed between ps and inspect: list again once.
		if strings.Contains(err.Error(), "No such") {
			return containers(ctx, labels...)
		}
		return nil, err
	}
	return parseInspect(out)
}

// parseInspect reads the JSON array `docker inspect` prints.
func parseInspect(out string) ([]container, error) {
	var cs []container
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		return nil, fmt.Errorf("reading docker inspect: %w", err)
	}
	return cs, nil
}

// imagePresent reports whether the image is in the local image store.
func imagePresent(ctx context.Context, ref string) bool {
	_, err := run(ctx, "", "docker", "image", "inspect", "--format", "{{.Id}}", ref)
	return err == nil
}

// runCombined runs a command and returns stdout and stderr together.
func runCombined(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, lastLines(string(out), 15))
	}
	return string(out), nil
}
