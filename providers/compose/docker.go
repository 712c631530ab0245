package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// detectCompose prefers the docker compose v2 plugin, else docker-compose.
func detectCompose(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return chooseCompose(ctx, run, exec.LookPath)
}

// chooseCompose is detectCompose's choice, given how to run a command and
// find a program.
func chooseCompose(ctx context.Context, runFn func(ctx context.Context, dir, name string, args ...string) (string, error),
	lookPath func(string) (string, error)) ([]string, error) {
	if _, err := runFn(ctx, "", "docker", "compose", "version"); err == nil {
		return []string{"docker", "compose"}, nil
	}
	if _, err := lookPath("docker-compose"); err == nil {
		if _, err := runFn(ctx, "", "docker-compose", "version"); err == nil {
			return []string{"docker-compose"}, nil
		}
	}
	return nil, fmt.Errorf("neither the docker compose plugin nor docker-compose was found")
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
