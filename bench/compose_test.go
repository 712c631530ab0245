package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// composeSummary is min, median, max.
func composeSummary(ds []time.Duration) [3]time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return [3]time.Duration{s[0], s[len(s)/2], s[len(s)-1]}
}

// composeBinaries builds hactl and a static dbgpt-sim from this checkout.
func composeBinaries(t testing.TB, ctx context.Context) (hactl, sim string) {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..")
	dir := t.TempDir()
	hactl, sim = filepath.Join(dir, "hactl"), filepath.Join(dir, "dbgpt-sim")
	for _, b := range []struct{ out, pkg string }{{hactl, "./cmd/hactl"}, {sim, "./cmd/dbgpt-sim"}} {
		cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", b.out, b.pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return hactl, sim
}
