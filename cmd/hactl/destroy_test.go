package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

// teardownProvider has nothing deployed but owns resources of its own, like
// a compose project whose last component is gone but whose database
// service and network remain.
type teardownProvider struct {
	providers.Provider // any other call panics: destroy must not make it
	teardowns          []bool
}

func (p *teardownProvider) Observe(context.Context, *schema.Cluster) ([]providers.Observed, error) {
	return nil, nil
}

func (p *teardownProvider) Teardown(_ context.Context, purge bool) error {
	p.teardowns = append(p.teardowns, purge)
	return nil
}

func (p *teardownProvider) Close() error { return nil }

// Destroy with no component left still tears down what the provider owns
// (it used to print "No changes" and leave the compose database running).
func TestDestroyTearsDownWithNoComponentLeft(t *testing.T) {
	fake := &teardownProvider{}
	registerProvider("teardown-test", func(c *schema.Cluster, _ ProviderOptions) (providers.Provider, *schema.Cluster, error) {
		return fake, c, nil
	})
	defer delete(providerFactories, "teardown-test")

	file, err := filepath.Abs("../../examples/quickstart/cluster.hcl")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetArgs([]string{"destroy", "-f", file, "--provider", "teardown-test", "--auto-approve"})
	defer rootCmd.SetArgs(os.Args[1:])
	if err := rootCmd.Execute(); err != nil {
		t.Fatalf("destroy: %v\n%s", err, out.String())
	}
	if len(fake.teardowns) != 1 || fake.teardowns[0] {
		t.Errorf("teardowns %v, want one without purge", fake.teardowns)
	}
	if !strings.Contains(out.String(), "No changes") {
		t.Errorf("output:\n%s", out.String())
	}
}

// A character device is not a terminal: colour stays off for /dev/null.
func TestNoColourOnDevNull(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Setenv("NO_COLOR", "")
	if useColor(f) {
		t.Error("useColor(/dev/null) = true")
	}
}
