package bench

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/schema"
)

// loginFloor is what reaching every server of a cluster file costs before
// any work: hactl's own SSH pool (its handshake bound, its host key and
// key checks) opens a connection to each server at once and runs `true`
// there; the time until the last returns. A run of plan or status that
// opens fresh connections cannot be faster than this.
func loginFloor(tb testing.TB, ctx context.Context, file, password string) time.Duration {
	tb.Helper()
	c, err := schema.Load(file, schema.LoadOptions{Environ: []string{"HACTL_VAR_registry_password=" + password, "HOME=" + os.Getenv("HOME")}})
	if err != nil {
		tb.Fatal(err)
	}
	pool := host.NewPool(host.Options{})
	defer pool.Close()
	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(c.Servers))
	for _, s := range c.Servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := pool.Host(s).Run(ctx, "true", nil); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	took := time.Since(began)
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	return took
}
