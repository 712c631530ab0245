package bench

import (
	"context"
	"testing"

	"github.com/hactl/hactl/test/e2e/testcluster"
)

type ansibleResults struct {
	series                                                    []*series
	cold3, cold3Tuned, noop3, noop3Tuned, cold30, cold30Tuned *series
}

func ansibleFigures(b *testing.B, ctx context.Context, tc *testcluster.Cluster, hosts int) ansibleResults {
	r := ansibleResults{
		cold3: &series{name: "3 hosts: Ansible (default) cold apply", unit: "s"}, cold3Tuned: &series{name: "3 hosts: Ansible (tuned) cold apply", unit: "s"},
		noop3: &series{name: "3 hosts: Ansible (default) no-op apply", unit: "s"}, noop3Tuned: &series{name: "3 hosts: Ansible (tuned) no-op apply", unit: "s"},
		cold30: &series{name: "30 hosts: Ansible (default) cold apply", unit: "s"}, cold30Tuned: &series{name: "30 hosts: Ansible (tuned) cold apply", unit: "s"},
	}
	r.series = []*series{r.cold3, r.cold3Tuned, r.noop3, r.noop3Tuned, r.cold30, r.cold30Tuned}
	return r
}
