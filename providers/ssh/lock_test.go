package ssh

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hactl/hactl/lock"
	"github.com/hactl/hactl/schema"
)

// The lock lives on the first server by name; of several runs taking it at
// once exactly one gets it; release takes only its own lock, and the deploy
// directory it made.
func TestLockStore(t *testing.T) {
	t.Parallel()
	for _, e := range transports(t) {
		t.Run(e.transport, func(t *testing.T) {
			ctx := context.Background()
			b, a := e.server(t, "b", "dbgpt"), e.server(t, "a", "dbgpt")
			c := &schema.Cluster{Name: "lk", Servers: []*schema.Server{b, a}}
			st := newTestProvider(t, c).LockStore()
			if want := "server a: " + filepath.Join(a.DeployDir, ".hactl-lock-lk.json"); st.Where() != want {
				t.Fatalf("lock at %q, want %q", st.Where(), want)
			}
			// A deploy directory that was there stays; one the lock made goes.
			if err := os.MkdirAll(a.DeployDir, 0o755); err != nil {
				t.Fatal(err)
			}
			const n = 5
			var mu sync.Mutex
			var wins []func() error
			var held int
			var wg sync.WaitGroup
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// One provider (one connection) per run, as separate hactl processes.
					rel, err := lock.Acquire(ctx, newTestProvider(t, c).LockStore(), lock.NewInfo("lk", "apply"))
					mu.Lock()
					defer mu.Unlock()
					var he *lock.HeldError
					switch {
					case err == nil:
						wins = append(wins, rel)
					case errors.As(err, &he) && strings.Contains(err.Error(), "apply by "):
						held++
					default:
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if len(wins) != 1 || held != n-1 {
				t.Fatalf("%d took the lock, %d were refused", len(wins), held)
			}
			h, err := st.Read(ctx)
			if err != nil || h == nil || h.Cluster != "lk" {
				t.Fatalf("read: %+v %v", h, err)
			}
			if err := st.Delete(ctx, "someone-else"); err != nil {
				t.Fatal(err)
			}
			if h2, _ := st.Read(ctx); h2 == nil {
				t.Fatal("Delete with another ID removed the lock")
			}
			if err := wins[0](); err != nil {
				t.Fatal(err)
			}
			if h, err := st.Read(ctx); h != nil || err != nil {
				t.Fatalf("after release: %+v %v", h, err)
			}
			if _, err := os.Stat(a.DeployDir); err != nil {
				t.Errorf("the deploy directory that was there: %v", err)
			}
			os.Remove(a.DeployDir)
			rel, err := lock.Acquire(ctx, st, lock.NewInfo("lk", "apply"))
			if err != nil {
				t.Fatal(err)
			}
			if err := rel(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(a.DeployDir); !os.IsNotExist(err) {
				t.Errorf("the deploy directory the lock made is left: %v", err)
			}
		})
	}
}
