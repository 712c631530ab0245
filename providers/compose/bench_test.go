package compose

import (
	"testing"

	"github.com/hactl/hactl/plan"
)

// BenchmarkBuildYAML: build and marshal the HA project from rendered
// components (what every Deploy does before calling compose).
func BenchmarkBuildYAML(b *testing.B) {
	c, err := Adapt(haCluster())
	if err != nil {
		b.Fatal(err)
	}
	comps, err := plan.Desired(c)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := Build(c, comps, BuildOptions{NoPull: true})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.YAML(); err != nil {
			b.Fatal(err)
		}
	}
}
