package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestComposeApplyAgainstReadiness prints the compose figures (n,
// min/median/max of the containers' readiness and of a cold hactl apply,
// and the ratio of the medians). It runs only with HACTL_BENCH=1 (it takes
// a minute or more and needs Docker); HACTL_BENCH_COMPOSE_RUNS sets the
// number of runs (default 3), HACTL_BENCH_HACTL a hactl binary to measure
// instead of one built from this checkout.
func TestComposeApplyAgainstReadiness(t *testing.T) {
	if os.Getenv("HACTL_BENCH") != "1" {
		t.Skip("the benchmark runs with HACTL_BENCH=1")
	}
	runs := 3
	if v := os.Getenv("HACTL_BENCH_COMPOSE_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("HACTL_BENCH_COMPOSE_RUNS=%q: want a positive number", v)
		}
		runs = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	hactl, sim := composeBinaries(t, ctx)
	if h := os.Getenv("HACTL_BENCH_HACTL"); h != "" {
		hactl = h
	}
	imgs, err := ComposeImagesFor(ctx, sim, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	figs, err := MeasureCompose(ctx, hactl, imgs, runs, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs.Readiness) != runs || len(figs.Apply) != runs || len(figs.Levels) != runs {
		t.Fatalf("%d runs asked, figures of %d/%d/%d", runs, len(figs.Readiness), len(figs.Apply), len(figs.Levels))
	}
	r, a := composeSummary(figs.Readiness), composeSummary(figs.Apply)
	t.Logf("compose readiness: n=%d min %s median %s max %s", runs, composeMS(r[0]), composeMS(r[1]), composeMS(r[2]))
	for i, name := range ComposeLevels {
		var l []time.Duration
		for _, lv := range figs.Levels {
			l = append(l, lv[i])
		}
		s := composeSummary(l)
		t.Logf("  %-11s min %s median %s max %s", name, composeMS(s[0]), composeMS(s[1]), composeMS(s[2]))
	}
	t.Logf("compose apply:     n=%d min %s median %s max %s", runs, composeMS(a[0]), composeMS(a[1]), composeMS(a[2]))
	t.Logf("compose apply ÷ readiness (medians): %.2f", float64(a[1])/float64(r[1]))
}

// composeSummary is min, median, max.
func composeSummary(ds []time.Duration) [3]time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return [3]time.Duration{s[0], s[len(s)/2], s[len(s)-1]}
}

// composeBinaries builds hactl and a static dbgpt-sim from this checkout.
func composeBinaries(t *testing.T, ctx context.Context) (hactl, sim string) {
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
