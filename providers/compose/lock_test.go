package compose

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/hactl/hactl/lock"
)

// The lock lives beside the work directory, so destroy removing the work
// directory (Teardown) leaves it held until the run releases it.
func TestLockBesideWorkDir(t *testing.T) {
	p := newHA(t, nil)
	ctx := context.Background()
	st := p.LockStore()
	if st.Where() != p.WorkDir()+".lock.json" {
		t.Fatalf("lock at %s", st.Where())
	}
	rel, err := lock.Acquire(ctx, st, lock.NewInfo(p.Cluster().Name, "destroy"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(p.WorkDir()); err != nil {
		t.Fatal(err)
	}
	var he *lock.HeldError
	if _, err := lock.Acquire(ctx, p.LockStore(), lock.NewInfo(p.Cluster().Name, "apply")); !errors.As(err, &he) {
		t.Fatalf("second run: %v", err)
	}
	if err := rel(); err != nil {
		t.Fatal(err)
	}
	if h, err := st.Read(ctx); h != nil || err != nil {
		t.Fatalf("after release: %+v %v", h, err)
	}
}
