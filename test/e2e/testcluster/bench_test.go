package testcluster

import (
	"testing"
	"time"
)

// BenchmarkStart measures bringing the whole cluster up (network, four
// containers, sshd and MariaDB answering, dbgpt-sim installed) with cached
// images, and reports the teardown time too; BenchmarkStartSystemdBastion
// the same with systemd hosts and a bastion (five containers, an iptables
// rule, everything waited for through the bastion):
//
//	go test -run '^$' -bench Start -benchtime 3x ./test/e2e/testcluster
func BenchmarkStart(b *testing.B) { benchStart(b, Options{}) }

func BenchmarkStartSystemdBastion(b *testing.B) {
	benchStart(b, Options{Systemd: true, Bastion: true})
}

func benchStart(b *testing.B, opts Options) {
	Start(b, opts).Close() // images built and the sim linked outside the measurement
	var down time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := Start(b, opts)
		b.StopTimer()
		t0 := time.Now()
		c.Close()
		down += time.Since(t0)
		b.StartTimer()
	}
	b.ReportMetric(down.Seconds()/float64(b.N), "s-teardown/op")
}
