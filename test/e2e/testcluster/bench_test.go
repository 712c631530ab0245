package testcluster

import (
	"testing"
	"time"
)

// BenchmarkStart measures bringing the whole cluster up (network, four
// containers, sshd and MariaDB answering, dbgpt-sim installed) with cached
// images, and reports the teardown time too:
//
//	go test -run '^$' -bench Start -benchtime 3x ./test/e2e/testcluster
func BenchmarkStart(b *testing.B) {
	Start(b, Options{}).Close() // images built and the sim linked outside the measurement
	var down time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := Start(b, Options{})
		b.StopTimer()
		t0 := time.Now()
		c.Close()
		down += time.Since(t0)
		b.StartTimer()
	}
	b.ReportMetric(down.Seconds()/float64(b.N), "s-teardown/op")
}
