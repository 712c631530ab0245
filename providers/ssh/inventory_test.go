package ssh

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/schema"
)

// The cluster record is written when it would say something new and left
// alone when the server's copy (as Observe read it, or as written before)
// already says it: an apply's record after success is then no extra step.
func TestRecordInventoryWritesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := testEnv{transport: schema.TransportLocal}.server(t, "server1", fakeCommand(t, "0.6.3"))
	c := &schema.Cluster{Name: "test", Servers: []*schema.Server{s}}
	file := filepath.Join(s.DeployDir, "test", fileRecord)
	written := func() time.Time {
		t.Helper()
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime()
	}
	old := time.Now().Add(-time.Hour)
	p := newTestProvider(t, c)
	if err := p.RecordInventory(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(file, old, old)
	if err := p.RecordInventory(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if !written().Equal(old) {
		t.Error("the same record was written again")
	}

	// Another run: it knows the record from Observe.
	p = newTestProvider(t, c)
	if _, err := p.Observe(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := p.RecordInventory(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if !written().Equal(old) {
		t.Error("a record Observe read as it is was written again")
	}

	// A copy that says something else (edited, an older hactl's) is
	// rewritten, and so is a record that went away.
	b, _ := os.ReadFile(file)
	os.WriteFile(file, []byte(strings.Replace(string(b), `"server1"`, `"server9"`, 1)), 0o644)
	os.Chtimes(file, old, old)
	p = newTestProvider(t, c)
	if _, err := p.Observe(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := p.RecordInventory(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); written().Equal(old) || !strings.Contains(string(b), `"server1"`) {
		t.Errorf("an edited record was left: %s", b)
	}
	os.Remove(file)
	p = newTestProvider(t, c)
	if _, err := p.Observe(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := p.RecordInventory(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the record was not written again: %v", err)
	}
}
