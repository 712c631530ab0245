package ssh

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/testio"

	"github.com/hactl/hactl/schema"
)

// FollowLogs over a real sshd and locally (the deploy directory's name is
// hostile): the lines of a restart that happens while following arrive,
// and cancelling ends it.
func TestFollowLogs(t *testing.T) {
	t.Parallel()
	for _, e := range transports(t) {
		t.Run(e.transport, func(t *testing.T) {
			ctx := context.Background()
			s := e.server(t, "server1", fakeCommand(t, "0.6.3"))
			c := &schema.Cluster{Name: "test", Generation: schema.GenerationFlags, Version: "0.6.3", Servers: []*schema.Server{s}}
			p := newTestProvider(t, c)
			comp := controllerComp(s, freePort(t), "hash1")
			if err := p.Deploy(ctx, comp); err != nil {
				t.Fatal(err)
			}
			obs, err := p.Observe(ctx, c)
			if err != nil || len(obs) != 1 {
				t.Fatalf("observed %+v %v", obs, err)
			}
			t.Cleanup(func() { _ = p.Remove(context.Background(), obs[0]) })

			fctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var out testio.LockedBuffer
			errc := make(chan error, 1)
			go func() { errc <- p.FollowLogs(fctx, obs[0], 5, &out) }()
			waitUntil(t, "the log's last lines", func() bool { return strings.Contains(out.String(), "fake started") })

			comp.Hash = "hash2" // a redeploy restarts the process
			if err := p.Deploy(ctx, comp); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "the restart's lines", func() bool {
				s := out.String()
				return strings.Contains(s, "fake: got SIGTERM") && strings.Count(s, "fake started") >= 2
			})
			cancel()
			select {
			case err := <-errc:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("FollowLogs after cancel: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("FollowLogs still runs 30s after cancel")
			}
		})
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
