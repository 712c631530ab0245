package host_test

import (
	"context"
	"testing"

	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/providers/host/sshdtest"
)

// BenchmarkConnect measures dialing and authenticating to a loopback sshd.
func BenchmarkConnect(b *testing.B) {
	d := sshdtest.Start(b)
	s := sshServer(d, "server1")
	for b.Loop() {
		p := host.NewPool(host.Options{})
		if err := p.Host(s).Connect(context.Background()); err != nil {
			b.Fatal(err)
		}
		p.Close()
	}
}

// BenchmarkRun measures one command on an established connection.
func BenchmarkRun(b *testing.B) {
	d := sshdtest.Start(b)
	p := host.NewPool(host.Options{})
	defer p.Close()
	h := p.Host(sshServer(d, "server1"))
	for b.Loop() {
		if _, err := h.Run(context.Background(), "true", nil); err != nil {
			b.Fatal(err)
		}
	}
}
