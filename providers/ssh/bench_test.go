package ssh

import (
	"context"
	"testing"

	"github.com/hactl/hactl/schema"
)

// BenchmarkDeploy measures Deploy of one component over SSH (loopback sshd)
// and locally: stop the previous process, write every file, start it and
// see it run.
func BenchmarkDeploy(b *testing.B) {
	for _, e := range transports(b) {
		{
			b.Run(e.transport, func(b *testing.B) {
				ctx := context.Background()
				s := e.server(b, "server1", fakeCommand(b, "0.6.3"))
				c := &schema.Cluster{Name: "bench", Servers: []*schema.Server{s}}
				pr, err := New(c, Options{})
				if err != nil {
					b.Fatal(err)
				}
				p := pr
				defer p.Close()
				comp := controllerComp(s, freePort(b), "h")
				for b.Loop() {
					if err := p.Deploy(ctx, comp); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				obs, _ := p.Observe(ctx, c)
				for _, o := range obs {
					p.Remove(ctx, o)
				}
			})
		}
	}
}

// BenchmarkObserve measures reading one server with 5 components.
func BenchmarkObserve(b *testing.B) {
	for _, e := range transports(b) {
		b.Run(e.transport, func(b *testing.B) {
			ctx := context.Background()
			s := e.server(b, "server1", fakeCommand(b, "0.6.3"))
			c := &schema.Cluster{Name: "bench", Servers: []*schema.Server{s}}
			pr, _ := New(c, Options{})
			p := pr
			defer p.Close()
			for i := 0; i < 5; i++ {
				comp := controllerComp(s, freePort(b), "h")
				comp.Address = "controller.c" + string(rune('a'+i))
				if err := p.Deploy(ctx, comp); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				obs, err := p.Observe(ctx, c)
				if err != nil || len(obs) != 5 {
					b.Fatal(obs, err)
				}
			}
			b.StopTimer()
			obs, _ := p.Observe(ctx, c)
			for _, o := range obs {
				p.Remove(ctx, o)
			}
		})
	}
}
