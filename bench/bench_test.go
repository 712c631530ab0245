package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/test/e2e/testcluster"
)

// BenchmarkSSH is `make bench-full`'s SSH part: on one test cluster of
// HACTL_BENCH_HOSTS (default 100) sshd containers and a MariaDB, with
// dbgpt-sim as dbgpt, it measures
//   - the HA guide's topology on three hosts: the processes' own readiness
//     started by hand (byHand), hactl's cold apply, no-op plan, no-op
//     apply and status;
//   - the same topology stretched over 30 and over every host (2
//     controllers, the rest workers): cold apply, no-op plan, status;
//   - per run: peak RSS and SSH logins per host;
//   - what the machine allows at each scale: the processes' own readiness
//     on every host (byHand), and connecting to every host and running
//     true there (loginFloor), the least a run with fresh connections
//     costs;
//   - the Ansible playbook of bench/ansible, default and tuned, on the
//     same hosts (skipped with HACTL_BENCH_ANSIBLE=skip);
//
// and prints every figure (n, min, median, max) and the ratios the issue
// holds hactl to. It runs once whatever b.N (-benchtime 1x).
func BenchmarkSSH(b *testing.B) {
	n := runs()
	hosts := 100
	if v, err := strconv.Atoi(os.Getenv("HACTL_BENCH_HOSTS")); err == nil && v >= 30 {
		hosts = v
	}
	ctx := context.Background()
	bin := hactl(b)
	began := time.Now()
	tc := testcluster.Start(b, testcluster.Options{ExtraHosts: hosts - len(testcluster.Hosts)})
	b.Logf("test cluster of %d hosts up in %s", hosts, time.Since(began).Round(time.Second))
	servers := tc.Servers()

	// Three hosts, the HA guide's topology, DB-GPT's heartbeat settings.
	ha := &runner{tb: b, bin: bin, file: tc.WriteClusterFile(tc.HAParams()), password: tc.DBPassword}
	var (
		ready     = &series{name: "3 hosts: readiness by hand (sum of levels)", unit: "s"}
		readyCtl  = &series{name: "  controllers", unit: "s"}
		readyWk   = &series{name: "  workers", unit: "s"}
		readyWeb  = &series{name: "  webserver", unit: "s"}
		cold3     = &series{name: "3 hosts: hactl cold apply", unit: "s"}
		plan3     = &series{name: "3 hosts: hactl no-op plan", unit: "s"}
		noop3     = &series{name: "3 hosts: hactl no-op apply", unit: "s"}
		status3   = &series{name: "3 hosts: hactl status", unit: "s"}
		rss3      = &series{name: "3 hosts: peak RSS of apply, plan, status", unit: "MB"}
		conns3    = &series{name: "3 hosts: SSH logins per host per run (most)"}
		cold30    = &series{name: "30 hosts: hactl cold apply", unit: "s"}
		coldN     = &series{name: fmt.Sprintf("%d hosts: hactl cold apply", hosts), unit: "s"}
		planN     = &series{name: fmt.Sprintf("%d hosts: hactl no-op plan", hosts), unit: "s"}
		noopN     = &series{name: fmt.Sprintf("%d hosts: hactl no-op apply", hosts), unit: "s"}
		statusN   = &series{name: fmt.Sprintf("%d hosts: hactl status", hosts), unit: "s"}
		rssN      = &series{name: fmt.Sprintf("%d hosts: peak RSS of apply, plan, status", hosts), unit: "MB"}
		connsN    = &series{name: fmt.Sprintf("%d hosts: SSH logins per host per run (most)", hosts)}
		hostsSeen = &series{name: fmt.Sprintf("%d hosts: hosts logged into per apply", hosts)}
		floor3    = &series{name: "3 hosts: connect + true on each (fresh connections)", unit: "s"}
		floorN    = &series{name: fmt.Sprintf("%d hosts: connect + true on each (fresh connections)", hosts), unit: "s"}
		readyN    = &series{name: fmt.Sprintf("%d hosts: readiness by hand (sum of levels)", hosts), unit: "s"}
		readyNCtl = &series{name: "  controllers", unit: "s"}
		readyNWk  = &series{name: "  workers", unit: "s"}
		readyNWeb = &series{name: "  webserver", unit: "s"}
	)

	// hactl lays out the component directories the hand start uses.
	ha.must(ctx, 0, "apply", "-auto-approve")
	newByHand(b, tc, ha.file, tc.DBPassword).measure(ctx, n, ready, readyCtl, readyWk, readyWeb)

	measured := func(cold, plan, noop, status, rss, conns, hostsSeen *series, r *runner, hosts []string) {
		for i := 0; i < n; i++ {
			r.destroy(ctx)
			before := map[string]int(nil)
			if i == 0 {
				before = logins(b, tc, hosts)
			}
			res := r.must(ctx, 0, "apply", "-auto-approve")
			cold.addDuration(res.took)
			if rss != nil {
				rss.add(res.maxRSS)
			}
			if before != nil && conns != nil {
				most, seen := connectionsPerHost(before, logins(b, tc, hosts))
				conns.add(float64(most))
				if hostsSeen != nil {
					hostsSeen.add(float64(seen))
				}
			}
		}
		for i := 0; plan != nil && i < n; i++ {
			res := r.must(ctx, 0, "plan", "-detailed-exitcode")
			plan.addDuration(res.took)
			rss.add(res.maxRSS)
		}
		for i := 0; noop != nil && i < n; i++ {
			res := r.must(ctx, 0, "apply", "-auto-approve")
			noop.addDuration(res.took)
		}
		for i := 0; status != nil && i < n; i++ {
			res := r.must(ctx, 0, "status")
			status.addDuration(res.took)
			rss.add(res.maxRSS)
		}
	}
	measured(cold3, plan3, noop3, status3, rss3, conns3, nil, ha, servers[:3])
	for i := 0; i < n; i++ {
		floor3.addDuration(loginFloor(b, ctx, ha.file, tc.DBPassword))
	}
	ha.destroy(ctx)

	scale30 := &runner{tb: b, bin: bin, file: scaleFile(b, tc, 30), password: tc.DBPassword}
	measured(cold30, nil, nil, nil, nil, nil, nil, scale30, servers[:30])
	scale30.destroy(ctx)

	scaleN := &runner{tb: b, bin: bin, file: scaleFile(b, tc, hosts), password: tc.DBPassword}
	measured(coldN, planN, noopN, statusN, rssN, connsN, hostsSeen, scaleN, servers[:hosts])
	for i := 0; i < n; i++ {
		floorN.addDuration(loginFloor(b, ctx, scaleN.file, tc.DBPassword))
	}
	// The processes' own readiness on every host: how flat the figures
	// can be at all on this machine.
	newByHand(b, tc, scaleN.file, tc.DBPassword).measure(ctx, n, readyN, readyNCtl, readyNWk, readyNWeb)
	scaleN.destroy(ctx)

	all := []*series{ready, readyCtl, readyWk, readyWeb, cold3, plan3, noop3, status3, rss3, conns3,
		floor3, cold30, coldN, planN, noopN, statusN, rssN, connsN, hostsSeen, floorN, readyN, readyNCtl, readyNWk, readyNWeb}
	ratios := []ratio{
		{"3 hosts: cold apply ÷ readiness by hand", cold3, ready, 1.1},
		{fmt.Sprintf("%d ÷ 3 hosts: cold apply", hosts), coldN, cold3, 1.5},
		{fmt.Sprintf("%d ÷ 3 hosts: no-op plan", hosts), planN, plan3, 2},
		{fmt.Sprintf("%d ÷ 3 hosts: status", hosts), statusN, status3, 2},
		// What the machine allows: the same ratios for the processes' own
		// readiness and for bare logins, and hactl against them at scale.
		{fmt.Sprintf("%[1]d h readiness ÷ 3 h cold apply (floor of %[1]d÷3 cold)", hosts), readyN, cold3, 0},
		{fmt.Sprintf("%d ÷ 3 hosts: connect + true (floor of plan, status)", hosts), floorN, floor3, 0},
		{fmt.Sprintf("%d hosts: cold apply ÷ readiness by hand", hosts), coldN, readyN, 0},
		{fmt.Sprintf("%d hosts: no-op plan ÷ connect + true", hosts), planN, floorN, 0},
	}
	ansible := ansibleFigures(b, ctx, tc, n)
	all = append(all, ansible.series...)
	ratios = append(ratios,
		ratio{"3 hosts: hactl ÷ Ansible (default), cold apply", cold3, ansible.cold3, 0},
		ratio{"3 hosts: hactl ÷ Ansible (tuned), cold apply", cold3, ansible.cold3Tuned, 0},
		ratio{"3 hosts: hactl ÷ Ansible (default), no-op apply", noop3, ansible.noop3, 0},
		ratio{"3 hosts: hactl ÷ Ansible (tuned), no-op apply", noop3, ansible.noop3Tuned, 0},
		ratio{"30 hosts: hactl ÷ Ansible (default), cold apply", cold30, ansible.cold30, 0},
		ratio{"30 hosts: hactl ÷ Ansible (tuned), cold apply", cold30, ansible.cold30Tuned, 0},
	)
	report(os.Stdout, fmt.Sprintf("hactl over SSH, dbgpt-sim %s, %d runs each; %s", tc.SimVersion, n, machine()), all, ratios)
	b.ReportMetric(cold3.median(), "cold3-s")
}

// BenchmarkCompose is `make bench-full`'s compose part (MeasureCompose):
// the HA topology as a compose project, a cold hactl apply against the
// containers' own readiness (each level started by hand with the compose
// CLI hactl uses and polled every 20 ms), HACTL_BENCH_RUNS times.
func BenchmarkCompose(b *testing.B) {
	n := runs()
	ctx := context.Background()
	bin, sim := composeBinaries(b, ctx)
	imgs, err := ComposeImagesFor(ctx, sim, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	figs, err := MeasureCompose(ctx, bin, imgs, n, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	ready := &series{name: "compose: readiness by hand (sum of levels)", unit: "s"}
	apply := &series{name: "compose: hactl cold apply", unit: "s"}
	perRun := &series{name: "compose: apply ÷ readiness, per run"}
	levels := make([]*series, len(ComposeLevels))
	for i, name := range ComposeLevels {
		levels[i] = &series{name: "  " + name, unit: "s"}
	}
	for i := range figs.Apply {
		ready.addDuration(figs.Readiness[i])
		apply.addDuration(figs.Apply[i])
		perRun.add(figs.Apply[i].Seconds() / figs.Readiness[i].Seconds())
		for l := range ComposeLevels {
			levels[l].addDuration(figs.Levels[i][l])
		}
	}
	all := append(append([]*series{ready}, levels...), apply, perRun)
	report(os.Stdout, fmt.Sprintf("hactl with compose (%s), %d runs; %s", strings.Join(composeCLI(), " "), n, machine()), all,
		[]ratio{{"compose: cold apply ÷ readiness by hand", apply, ready, 1.2}})
}
