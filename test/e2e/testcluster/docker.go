package testcluster

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/test/images"
)

// Labels on every container and network besides images.Label=1.
const (
	labelRun = "hactl-e2e.run" // the cluster's ID
	labelPID = "hactl-e2e.pid" // the process that made it
)

func docker(ctx context.Context, stdout io.Writer, args ...string) error {
	return dockerIn(ctx, nil, stdout, args...)
}

func dockerIn(ctx context.Context, stdin io.Reader, stdout io.Writer, args ...string) error {
	var errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, &errb
	if err := cmd.Run(); err != nil {
		shown := args
		if len(shown) > 4 {
			shown = shown[:4]
		}
		return fmt.Errorf("docker %s: %v: %s", strings.Join(shown, " "), err, strings.TrimSpace(errb.String()))
	}
	return nil
}

// containerLogs returns the last n lines a container wrote (both streams).
func containerLogs(ctx context.Context, container string, n int) string {
	out, err := exec.CommandContext(ctx, "docker", "logs", "--tail", strconv.Itoa(n), container).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(docker logs %s: %v)", container, err)
	}
	return string(out)
}

// journalTail returns the last n lines of a systemd container's journal.
func journalTail(ctx context.Context, container string, n int) string {
	out, err := exec.CommandContext(ctx, "docker", "exec", container, "journalctl", "-n", strconv.Itoa(n), "--no-pager").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(journalctl in %s: %v: %s)", container, err, out)
	}
	return string(out)
}

func dockerUsable(ctx context.Context) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return err
	}
	var out bytes.Buffer
	return docker(ctx, &out, "version", "--format", "{{.Server.Version}}")
}

var sweepOnce sync.Once

// sweep removes containers, networks and iptables rules left by test
// processes that are no longer alive (killed by a timeout, say). Clusters of live processes, such as
// another test package running at the same time, are left alone.
func sweep(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dead := map[string]bool{}
	for _, kind := range []string{"ps -a", "network ls"} {
		var out bytes.Buffer
		args := append(strings.Fields(kind), "--filter", "label="+images.Label+"=1", "--format",
			`{{.Label "`+labelRun+`"}} {{.Label "`+labelPID+`"}}`)
		if err := docker(ctx, &out, args...); err != nil {
			t.Logf("test cluster: sweep: %v", err)
			return
		}
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			f := strings.Fields(line)
			if len(f) != 2 {
				continue
			}
			pid, err := strconv.Atoi(f[1])
			if err != nil || pid <= 0 {
				continue
			}
			if processDead(pid) {
				dead[f[0]] = true
			}
		}
	}
	// A dead run's iptables rule (Options.Bastion) would keep this machine
	// from reaching whatever later gets its subnet.
	if hasIptables() {
		ids, err := deleteDeadRules(ctx)
		if err != nil {
			t.Logf("test cluster: sweep: %v", err)
		}
		for _, id := range ids {
			t.Logf("test cluster: deleted the iptables rule of dead run %s", id)
		}
	}
	for id := range dead {
		t.Logf("test cluster: sweeping leftovers of dead run %s", id)
		if err := removeRun(ctx, labelRun+"="+id); err != nil {
			t.Logf("test cluster: sweep: %v", err)
		}
	}
}

// removeRun removes the containers (with their volumes) and networks carrying label.
func removeRun(ctx context.Context, label string) error {
	var out bytes.Buffer
	if err := docker(ctx, &out, "ps", "-aq", "--filter", "label="+label); err != nil {
		return err
	}
	var errs []error
	// A few containers per call: the CLI removes a call's containers all
	// at once, and 100 removed at once have left the daemon counting an
	// endpoint on the network that no container holds ("has active
	// endpoints" until dockerd restarts).
	ids := strings.Fields(out.String())
	for len(ids) > 0 {
		n := min(len(ids), 8)
		if err := docker(ctx, nil, append([]string{"rm", "-f", "-v"}, ids[:n]...)...); err != nil {
			errs = append(errs, err)
		}
		ids = ids[n:]
	}
	out.Reset()
	if err := docker(ctx, &out, "network", "ls", "-q", "--filter", "label="+label); err != nil {
		return err
	}
	if ids := strings.Fields(out.String()); len(ids) > 0 {
		// The daemon may release the last endpoints a moment after the
		// containers are gone.
		deadline := time.Now().Add(20 * time.Second)
		for {
			err := docker(ctx, nil, append([]string{"network", "rm"}, ids...)...)
			if err == nil {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				errs = append(errs, err)
				break
			}
			time.Sleep(time.Second)
			// Those removed by the failed call are gone: ask again.
			out.Reset()
			if err := docker(ctx, &out, "network", "ls", "-q", "--filter", "label="+label); err != nil {
				errs = append(errs, err)
				break
			}
			if ids = strings.Fields(out.String()); len(ids) == 0 {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// Live clusters of this process, torn down on SIGINT/SIGTERM.
var (
	liveMu     sync.Mutex
	live       = map[*Cluster]bool{}
	signalOnce sync.Once
)

func register(c *Cluster) {
	signalOnce.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		go func() {
			sig := <-ch
			liveMu.Lock()
			clusters := make([]*Cluster, 0, len(live))
			for c := range live {
				clusters = append(clusters, c)
			}
			liveMu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for _, c := range clusters {
				fmt.Fprintf(os.Stderr, "test cluster %s: %v: tearing down\n", c.ID, sig)
				_ = removeRun(ctx, labelRun+"="+c.ID)
				if c.opts.Bastion {
					_ = deleteRunRules(ctx, c.ID)
				}
			}
			os.Exit(130)
		}()
	})
	liveMu.Lock()
	live[c] = true
	liveMu.Unlock()
}

func unregister(c *Cluster) {
	liveMu.Lock()
	delete(live, c)
	liveMu.Unlock()
}

// file is one entry of the archive copied into a container before start.
type file struct {
	path string
	mode int64
	data []byte
	dir  bool
	uid  int
}

func tarOf(files []file) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, f := range files {
		h := &tar.Header{Name: f.path, Mode: f.mode, Uid: f.uid, Gid: f.uid, ModTime: now, Typeflag: tar.TypeReg, Size: int64(len(f.data))}
		if f.dir {
			h.Typeflag, h.Name, h.Size = tar.TypeDir, f.path+"/", 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if !f.dir {
			if _, err := tw.Write(f.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
