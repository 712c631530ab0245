// Command hactl-bench times hactl on the one-machine quickstart (dbgpt-sim as
// dbgpt, SQLite registry, local transport): apply from nothing, plan with no
// changes, a second (no-op) apply, destroy. It prints one line per step and
// leaves nothing running. `make bench` runs it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func main() {
	hactl := flag.String("hactl", "bin/hactl", "hactl binary")
	sim := flag.String("sim", "bin/dbgpt-sim", "dbgpt-sim binary (run as the dbgpt command)")
	file := flag.String("f", "examples/quickstart/cluster.hcl", "cluster file")
	root := flag.String("root", "/tmp/hactl-quickstart", "the quickstart's directory (models are created under it)")
	runs := flag.Int("runs", 3, "how many times to run the whole sequence")
	flag.Parse()

	simAbs, err := filepath.Abs(*sim)
	if err != nil {
		fatal(err)
	}
	for _, m := range []string{"glm-4-9b-chat", "text2vec-large-chinese"} {
		if err := os.MkdirAll(filepath.Join(*root, "models", m), 0o755); err != nil {
			fatal(err)
		}
	}
	run := func(wantCode int, args ...string) time.Duration {
		args = append(args, "-f", *file, "--var", "dbgpt_command="+simAbs)
		cmd := exec.Command(*hactl, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		err := cmd.Run()
		d := time.Since(start)
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			fatal(err)
		}
		if code != wantCode {
			fmt.Fprintf(os.Stderr, "hactl %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantCode, out.String())
			os.Exit(1)
		}
		return d
	}
	steps := []struct {
		name string
		code int
		args []string
	}{
		{"apply (create 5 components)", 0, []string{"apply", "--auto-approve"}},
		{"plan (no changes)", 0, []string{"plan", "--detailed-exitcode"}},
		{"apply (no-op)", 0, []string{"apply", "--auto-approve"}},
		{"destroy", 0, []string{"destroy", "--auto-approve", "--purge-registry"}},
	}
	times := make([][]time.Duration, len(steps))
	run(0, "destroy", "--auto-approve") // start clean
	for r := 0; r < *runs; r++ {
		for i, s := range steps {
			times[i] = append(times[i], run(s.code, s.args...))
		}
	}
	fmt.Printf("hactl on %s, %d runs (median, min, max):\n", *file, *runs)
	for i, s := range steps {
		ts := append([]time.Duration(nil), times[i]...)
		sort.Slice(ts, func(a, b int) bool { return ts[a] < ts[b] })
		fmt.Printf("  %-30s %8s %8s %8s\n", s.name, round(ts[len(ts)/2]), round(ts[0]), round(ts[len(ts)-1]))
	}
}

func round(d time.Duration) string { return d.Round(10 * time.Millisecond).String() }

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "hactl-bench:", err)
	os.Exit(1)
}
