package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hactl/hactl/test/e2e/testcluster"
)

// ansibleResults are the Ansible playbook's figures on the benchmark's
// hosts, default and tuned configuration.
type ansibleResults struct {
	series                                                    []*series
	cold3, cold3Tuned, noop3, noop3Tuned, cold30, cold30Tuned *series
	rss3, conns3                                              *series
}

// ansibleCluster is the playbook's view of the first n servers of tc: the
// HA guide's topology on three (both workers and the webserver on
// server3), stretched as scaleFile does on more (a worker on every server
// but the controllers', models alternating, the webserver beside the first
// worker).
func ansibleCluster(tc *testcluster.Cluster, n int, dir string) AnsibleCluster {
	servers := tc.Servers()[:n]
	host := func(name string) AnsibleHost { return AnsibleHost{Name: name, Address: tc.IP(name)} }
	c := AnsibleCluster{
		Dir: dir, KeyPath: tc.KeyPath, KnownHostsPath: tc.KnownHostsPath,
		Controllers: []AnsibleHost{host(servers[0]), host(servers[1])},
		Webserver:   host(servers[2]),
		DB: AnsibleDB{Host: tc.IP(testcluster.DBHost), Port: testcluster.DBPort, User: testcluster.DBUser,
			Password: tc.DBPassword, Database: testcluster.Database},
		DBGPT: testcluster.DBGPTPath, DeployDir: "/opt/ansible-bench",
		HeartbeatInterval: 20, HeartbeatTimeout: 60,
	}
	glm := func(h string, port int) AnsibleWorker {
		return AnsibleWorker{Host: host(h), Name: "glm-" + h, Model: "glm-4-9b-chat", ModelPath: testcluster.ModelDirs[0], ModelType: "llm", Port: port}
	}
	emb := func(h string, port int) AnsibleWorker {
		return AnsibleWorker{Host: host(h), Name: "text2vec-" + h, Model: "text2vec", ModelPath: testcluster.ModelDirs[1], ModelType: "text2vec", Port: port}
	}
	if n == 3 {
		c.Workers = []AnsibleWorker{glm(servers[2], 8001), emb(servers[2], 8003)}
		return c
	}
	for i, h := range servers[2:] {
		if i%2 == 0 {
			c.Workers = append(c.Workers, glm(h, 8001))
		} else {
			c.Workers = append(c.Workers, emb(h, 8001))
		}
	}
	return c
}

// ansibleFigures runs the playbook: on three hosts n cold runs (after a
// teardown each) and n no-op runs per configuration, on 30 hosts n cold
// runs per configuration. Skipped (empty figures) with
// HACTL_BENCH_ANSIBLE=skip. Ansible is installed from Debian's package
// when missing.
func ansibleFigures(b *testing.B, ctx context.Context, tc *testcluster.Cluster, n int) ansibleResults {
	r := ansibleResults{
		cold3:       &series{name: "3 hosts: Ansible (default) cold apply", unit: "s"},
		cold3Tuned:  &series{name: "3 hosts: Ansible (tuned) cold apply", unit: "s"},
		noop3:       &series{name: "3 hosts: Ansible (default) no-op apply", unit: "s"},
		noop3Tuned:  &series{name: "3 hosts: Ansible (tuned) no-op apply", unit: "s"},
		cold30:      &series{name: "30 hosts: Ansible (default) cold apply", unit: "s"},
		cold30Tuned: &series{name: "30 hosts: Ansible (tuned) cold apply", unit: "s"},
		conns3:      &series{name: "3 hosts: Ansible SSH logins per host per run (most)"},
	}
	r.series = []*series{r.cold3, r.cold3Tuned, r.noop3, r.noop3Tuned, r.cold30, r.cold30Tuned, r.conns3}
	if os.Getenv("HACTL_BENCH_ANSIBLE") == "skip" {
		return r
	}
	if err := EnsureAnsible(ctx, b.Logf); err != nil {
		b.Fatalf("installing Ansible: %v", err)
	}
	dir := b.TempDir()
	for _, size := range []int{3, 30} {
		c := ansibleCluster(tc, size, filepath.Join(dir, fmt.Sprint(size)))
		for _, tuned := range []bool{false, true} {
			cold, noop := r.cold3, r.noop3
			switch {
			case size == 3 && tuned:
				cold, noop = r.cold3Tuned, r.noop3Tuned
			case size == 30 && !tuned:
				cold, noop = r.cold30, nil
			case size == 30 && tuned:
				cold, noop = r.cold30Tuned, nil
			}
			for i := 0; i < n; i++ {
				if err := TeardownAnsible(ctx, c); err != nil {
					b.Fatalf("ansible teardown: %v", err)
				}
				var before map[string]int
				if size == 3 && !tuned && i == 0 {
					before = logins(b, tc, tc.Servers()[:3])
				}
				res, err := RunAnsible(ctx, c, tuned)
				if err != nil {
					b.Fatalf("ansible cold run (%d hosts, tuned %v): %v", size, tuned, err)
				}
				cold.addDuration(res.Elapsed)
				if before != nil {
					most, _ := connectionsPerHost(before, logins(b, tc, tc.Servers()[:3]))
					r.conns3.add(float64(most))
				}
			}
			for i := 0; noop != nil && i < n; i++ {
				res, err := RunAnsible(ctx, c, tuned)
				if err != nil {
					b.Fatalf("ansible no-op run (tuned %v): %v", tuned, err)
				}
				if res.Changed != 0 {
					b.Errorf("the playbook is not idempotent: a second run changed %d\n%s", res.Changed, ansibleTail(res.Output, 40))
				}
				noop.addDuration(res.Elapsed)
			}
		}
		if err := TeardownAnsible(ctx, c); err != nil {
			b.Fatalf("ansible teardown: %v", err)
		}
	}
	return r
}
