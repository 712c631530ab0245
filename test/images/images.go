package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Image repositories. Tags are a hash of the build inputs; each build also
// tags ":latest".
const (
	BaseRepo    = "hactl-e2e/base"
	HostRepo    = "hactl-e2e/host"
	SystemdRepo = "hactl-e2e/systemd"
	DBRepo      = "hactl-e2e/db"
	SimRepo     = "hactl-e2e/dbgpt-sim"

	// Label is set on every image (and, by the harness, every container and
	// network) so leftovers can be found and swept.
	Label = "hactl-e2e"

	Suite   = "bookworm"
	variant = "minbase"
	// recipe changes whenever the way the base is made changes, so old
	// cached bases are not reused.
	recipe = "base-v1"
)

//go:embed host systemd db sim
var contexts embed.FS

// Images names the built images by full reference (repo:hash).
type Images struct {
	Base, Host, DB string
	// Systemd is built FROM Host: systemd as PID 1, sshd as ssh.service.
	Systemd string
}

// Logf receives progress lines; nil discards them.
type Logf func(format string, args ...any)

func (l Logf) printf(format string, args ...any) {
	if l != nil {
		l(format, args...)
	}
}

// Ensure builds the base, host, systemd and database images unless images with the
// same build inputs already exist. It is safe to call from several processes
// at once: builds are serialised by a lock file.
func Ensure(ctx context.Context, logf Logf) (Images, error) {
	unlock, err := lock(ctx)
	if err != nil {
		return Images{}, err
	}
	defer unlock()
	mirror, err := Mirror(Suite)
	if err != nil {
		return Images{}, err
	}
	base, err := ensureBase(ctx, mirror, logf)
	if err != nil {
		return Images{}, err
	}
	sources := []byte(fmt.Sprintf("deb %s %s main\n", mirror, Suite))
	host, err := ensureBuilt(ctx, HostRepo, "host", base, map[string][]byte{"sources.list": sources}, logf)
	if err != nil {
		return Images{}, err
	}
	// The host image's apt sources are the mirror's; its tag covers them.
	systemd, err := ensureBuilt(ctx, SystemdRepo, "systemd", host, nil, logf)
	if err != nil {
		return Images{}, err
	}
	db, err := ensureBuilt(ctx, DBRepo, "db", base, map[string][]byte{"sources.list": sources}, logf)
	if err != nil {
		return Images{}, err
	}
	return Images{Base: base, Host: host, Systemd: systemd, DB: db}, nil
}

// EnsureSim builds the dbgpt-sim image: the base image plus the given static
// dbgpt-sim binary as /usr/local/bin/dbgpt (also its entrypoint).
func EnsureSim(ctx context.Context, binary string, logf Logf) (string, error) {
	imgs, err := Ensure(ctx, logf)
	if err != nil {
		return "", err
	}
	bin, err := os.ReadFile(binary)
	if err != nil {
		return "", fmt.Errorf("dbgpt-sim image: %w", err)
	}
	unlock, err := lock(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	return ensureBuilt(ctx, SimRepo, "sim", imgs.Base, map[string][]byte{"dbgpt": bin}, logf)
}

func ensureBase(ctx context.Context, mirror string, logf Logf) (string, error) {
	ref := BaseRepo + ":" + hashOf([]byte(recipe), []byte(Suite), []byte(variant), []byte(mirror))
	if exists(ctx, ref) {
		return ref, nil
	}
	start := time.Now()
	logf.printf("images: building %s with debootstrap (%s %s)", ref, variant, Suite)
	dir, err := os.MkdirTemp("", "hactl-e2e-rootfs-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	root := filepath.Join(dir, "rootfs")
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "debootstrap", "--variant="+variant, "--components=main", Suite, root, mirror)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("debootstrap %s into %s: %v\n%s", Suite, root, err, tail(out.String(), 20))
	}
	// Downloaded packages and package lists only make the image bigger.
	for _, pattern := range []string{"var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_*", "var/log/*.log", "debootstrap"} {
		matches, _ := filepath.Glob(filepath.Join(root, pattern))
		for _, m := range matches {
			os.RemoveAll(m)
		}
	}
	tar := exec.CommandContext(ctx, "tar", "--numeric-owner", "-C", root, "-c", ".")
	imp := exec.CommandContext(ctx, "docker", "import",
		"--change", "LABEL "+Label+"=1", "--change", `CMD ["/bin/bash"]`,
		"--message", "hactl-e2e base: debootstrap "+variant+" "+Suite, "-", ref)
	pipe, err := tar.StdoutPipe()
	if err != nil {
		return "", err
	}
	imp.Stdin = pipe
	var tarErr, impOut bytes.Buffer
	tar.Stderr = &tarErr
	imp.Stdout, imp.Stderr = &impOut, &impOut
	if err := tar.Start(); err != nil {
		return "", fmt.Errorf("tar of %s: %w", root, err)
	}
	impErr := imp.Run()
	if err := tar.Wait(); err != nil {
		return "", fmt.Errorf("tar of %s: %v: %s", root, err, tarErr.String())
	}
	if impErr != nil {
		return "", fmt.Errorf("docker import %s: %v: %s", ref, impErr, impOut.String())
	}
	if err := docker(ctx, nil, "tag", ref, BaseRepo+":latest"); err != nil {
		return "", err
	}
	logf.printf("images: built %s in %s", ref, time.Since(start).Round(100*time.Millisecond))
	return ref, nil
}

// ensureBuilt builds repo from the embedded context directory name plus
// extra files, FROM base, tagged by the hash of all of them.
func ensureBuilt(ctx context.Context, repo, name, base string, extra map[string][]byte, logf Logf) (string, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(contexts, name, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := contexts.ReadFile(p)
		files[strings.TrimPrefix(p, name+"/")] = data
		return err
	})
	if err != nil {
		return "", err
	}
	for k, v := range extra {
		files[k] = v
	}
	names := make([]string, 0, len(files))
	for k := range files {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := [][]byte{[]byte(base)}
	for _, k := range names {
		parts = append(parts, []byte(k), files[k])
	}
	ref := repo + ":" + hashOf(parts...)
	if exists(ctx, ref) {
		return ref, nil
	}
	start := time.Now()
	logf.printf("images: building %s", ref)
	dir, err := os.MkdirTemp("", "hactl-e2e-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	for _, k := range names {
		mode := os.FileMode(0o644)
		if k == "entrypoint" || k == "dbgpt" {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, path.Clean(k)), files[k], mode); err != nil {
			return "", err
		}
	}
	// The classic builder never pulls an image that exists locally; host
	// networking lets apt reach the mirror exactly as this machine does.
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", "build", "--network", "host", "--build-arg", "BASE="+base,
		"--label", Label+"=1", "-t", ref, "-t", repo+":latest", dir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker build %s: %v\n%s", ref, err, tail(out.String(), 30))
	}
	logf.printf("images: built %s in %s", ref, time.Since(start).Round(100*time.Millisecond))
	return ref, nil
}

// Prune removes the hash tags of the test images other than keep (and
// ":latest"). Images still used by a container stay. It is not automatic:
// two checkouts with different build inputs would remove each other's images.
func Prune(ctx context.Context, keep []string, logf Logf) {
	kept := map[string]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	for _, repo := range []string{BaseRepo, HostRepo, SystemdRepo, DBRepo, SimRepo} {
		var out bytes.Buffer
		if docker(ctx, &out, "images", repo, "--format", "{{.Repository}}:{{.Tag}}") != nil {
			continue
		}
		for _, ref := range strings.Fields(out.String()) {
			if kept[ref] || ref == repo+":latest" || strings.HasSuffix(ref, ":<none>") {
				continue
			}
			if err := docker(ctx, nil, "rmi", ref); err != nil {
				logf.printf("images: keeping %s: %v", ref, err)
			} else {
				logf.printf("images: removed %s", ref)
			}
		}
	}
}

func exists(ctx context.Context, ref string) bool {
	return docker(ctx, nil, "image", "inspect", "--format", "{{.Id}}", ref) == nil
}

func docker(ctx context.Context, stdout io.Writer, args ...string) error {
	var errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = stdout, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return nil
}

func hashOf(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// lock serialises image builds between processes (go test runs packages in
// parallel) with an advisory lock on a file in the temp directory.
func lock(ctx context.Context) (func(), error) {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "hactl-e2e-images.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the image build lock %s: %w", f.Name(), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
