package compose

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/schema"
)

// newHA is the provider of the HA cluster with a preset compose command (so
// nothing is detected) in a temporary work directory.
func newHA(t *testing.T, mutate func(*schema.Cluster)) *Provider {
	t.Helper()
	c := haCluster()
	if mutate != nil {
		mutate(c)
	}
	p, err := New(c, Options{WorkDir: filepath.Join(t.TempDir(), "work"), Compose: []string{"docker", "compose"}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewDefaults(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	c := haCluster()
	p, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Project() != "ha-demo" || p.WorkDir() != filepath.Join(home, ".hactl", "compose", "ha-demo") ||
		p.file() != filepath.Join(p.WorkDir(), ComposeFile) || p.opts.HealthTimeout != 3*time.Minute {
		t.Errorf("project %q, work dir %q, file %q, health timeout %v", p.Project(), p.WorkDir(), p.file(), p.opts.HealthTimeout)
	}
	if !IsAdapted(p.Cluster()) || p.Cluster() == c || IsAdapted(c) {
		t.Error("Cluster is not an adapted copy")
	}
	if len(p.want) != 5 || p.want["worker.llm"] == nil || p.want["webserver"] == nil {
		t.Errorf("wanted components %v", p.want)
	}
	if _, err := os.Stat(p.WorkDir()); !os.IsNotExist(err) {
		t.Errorf("New touched the work directory: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Error(err)
	}

	c.Compose.Project = "--"
	if _, err := New(c, Options{WorkDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no letter or digit") {
		t.Errorf("New with an empty project name: %v", err)
	}
}

func TestComposeCmdPreset(t *testing.T) {
	p := newHA(t, nil)
	cmd, err := p.composeCmd(context.Background())
	if err != nil || strings.Join(cmd, " ") != "docker compose" {
		t.Errorf("composeCmd = %v, %v", cmd, err)
	}
}

func TestSortComponents(t *testing.T) {
	in := []*plan.Component{
		{Address: "webserver", Level: 3}, {Address: "worker.b", Level: 2}, {Address: "controller.z", Level: 1},
		{Address: "worker.a", Level: 2}, {Address: "controller.a", Level: 1},
	}
	var got []string
	for _, c := range sortComponents(in) {
		got = append(got, c.Address)
	}
	if strings.Join(got, " ") != "controller.a controller.z worker.a worker.b webserver" {
		t.Errorf("sorted = %v", got)
	}
	if in[0].Address != "webserver" {
		t.Error("sortComponents reordered its input")
	}
}

func TestGenerationOf(t *testing.T) {
	for v, want := range map[string]schema.Generation{
		"0.6.3": schema.GenerationFlags, "0.5.10": schema.GenerationFlags, "0.6": schema.GenerationFlags,
		"0.7.0": schema.GenerationTOML, "0.7.1rc1": schema.GenerationTOML, "1.0.0": schema.GenerationTOML,
		"0": "", "": "",
	} {
		if got := generationOf(v); got != want {
			t.Errorf("generationOf(%q) = %q, want %q", v, got, want)
		}
	}
}

// writeProject writes every wanted component, in a work directory it makes
// (or narrows to) mode 0700 since it holds secrets.
func TestWriteProject(t *testing.T) {
	p := newHA(t, nil)
	if err := os.MkdirAll(p.WorkDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := p.writeProject(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p.WorkDir())
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("work directory %v %v", st, err)
	}
	y, err := os.ReadFile(p.file())
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"controller-ctrl1:", "worker-text2vec:", "webserver:", "db:", "pull_policy: never"} {
		if !strings.Contains(string(y), svc) {
			t.Errorf("project file lacks %s", svc)
		}
	}
	if st, err := os.Stat(filepath.Join(p.WorkDir(), "db.env")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("db.env: %v %v", st, err)
	}
	// A cluster Build refuses: writeProject says so and writes nothing.
	bad := newHA(t, func(c *schema.Cluster) { c.Compose.DBGPTImage = "" })
	if err := bad.writeProject(); err == nil {
		t.Error("writeProject without an image succeeded")
	}
	if _, err := os.Stat(bad.WorkDir()); !os.IsNotExist(err) {
		t.Errorf("work directory made for a refused project: %v", err)
	}
}

func TestDeployRefusesAComponentOfAnotherServer(t *testing.T) {
	p := newHA(t, nil)
	comp := &plan.Component{Address: "worker.llm", Server: &schema.Server{Name: "server3", Transport: schema.TransportSSH}}
	err := p.Deploy(context.Background(), comp)
	if err == nil || !strings.Contains(err.Error(), "server3") || !strings.Contains(err.Error(), "Adapt") {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(p.WorkDir()); !os.IsNotExist(err) {
		t.Error("the refused Deploy wrote the project")
	}
}

func TestIP(t *testing.T) {
	p := newHA(t, nil)
	var ct container
	ct.Name = "/ha-demo_worker-llm_1"
	type nw = struct {
		IPAddress string
		Aliases   []string
	}
	ct.NetworkSettings.Networks = map[string]nw{"bridge": {IPAddress: "172.17.0.2"}, "ha-demo_hactl": {IPAddress: "172.20.0.5"}}
	if ip, err := p.ip(ct); err != nil || ip != "172.20.0.5" {
		t.Errorf("ip = %q, %v", ip, err)
	}
	// compose v1 may prefix the network otherwise: any *_hactl network.
	ct.NetworkSettings.Networks = map[string]nw{"bridge": {IPAddress: "172.17.0.2"}, "hademo_hactl": {IPAddress: "172.21.0.5"}}
	if ip, err := p.ip(ct); err != nil || ip != "172.21.0.5" {
		t.Errorf("ip = %q, %v", ip, err)
	}
	ct.NetworkSettings.Networks = map[string]nw{"bridge": {IPAddress: "172.17.0.2"}, "ha-demo_hactl": {}}
	if _, err := p.ip(ct); err == nil || !strings.Contains(err.Error(), "ha-demo_worker-llm_1 has no address on network ha-demo_hactl") {
		t.Errorf("err = %v", err)
	}
	// The recorded sample: its network is <project>_hactl.
	cs := readInspect(t)
	p.project = "hactlcap29096"
	if ip, err := p.ip(cs[1]); err != nil || net.ParseIP(ip) == nil {
		t.Errorf("ip of the recorded worker = %q, %v", ip, err)
	}
}

func TestIsService(t *testing.T) {
	p := newHA(t, nil)
	for name, want := range map[string]bool{
		"controller-ctrl1": true, "Worker-LLM": true, "webserver": true, "db": true,
		"apiserver": false, "server1": false, "registry-db": false,
	} {
		if got := p.isService(name); got != want {
			t.Errorf("isService(%q) = %v", name, got)
		}
	}
	ext := newHA(t, func(c *schema.Cluster) { c.Compose.ManagedDatabase = false })
	if ext.isService("db") {
		t.Error("an external registry host is a service")
	}
}

func TestDatabaseVolume(t *testing.T) {
	if v := newHA(t, nil).DatabaseVolume(); v != "ha-demo_"+DefaultDatabaseVolume {
		t.Errorf("volume = %q", v)
	}
	if v := newHA(t, func(c *schema.Cluster) { c.Compose.DatabaseVolume = "shared-db" }).DatabaseVolume(); v != "shared-db" {
		t.Errorf("volume = %q", v)
	}
}

// Addresses that are not services are dialled as they are; "localhost"
// without a server is this machine.
func TestDialContextDirect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("hi"))
			c.Close()
		}
	}()
	p := newHA(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, addr := range []string{ln.Addr().String(), net.JoinHostPort("localhost", port)} {
		conn, err := p.DialContext(ctx, nil, "tcp", addr)
		if err != nil {
			t.Errorf("dial %s: %v", addr, err)
			continue
		}
		b := make([]byte, 2)
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := conn.Read(b); err != nil || string(b) != "hi" {
			t.Errorf("read from %s: %q %v", addr, b, err)
		}
		conn.Close()
	}
	if _, err := p.DialContext(ctx, nil, "tcp", "no-port"); err == nil || !strings.Contains(err.Error(), "no-port") {
		t.Errorf("err = %v", err)
	}
	// The registry's place dials the same way.
	conn, err := (network{p}).DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}

func TestCheckImageCommand(t *testing.T) {
	p := newHA(t, func(c *schema.Cluster) {
		c.Workers = append(c.Workers, &schema.Worker{Name: "llm2", Server: c.Servers[2], Model: c.Models[0], Port: 8002},
			&schema.Worker{Name: "proxy", Server: c.Servers[2], Model: &schema.Model{Name: "gpt", WorkerType: schema.WorkerTypeLLM}, Port: 8004})
	})
	args, paths, _ := p.checkImageCommand(nil)
	got := strings.Join(args, " ")
	if !strings.HasPrefix(got, "run --rm --network none --entrypoint bash -v /srv/models:/srv/models:ro example/dbgpt:0.6.3 -c ") ||
		!strings.HasSuffix(got, " check /models/glm /models/t2v") {
		t.Errorf("args = %q", got)
	}
	if strings.Join(paths["/models/glm"], ",") != "worker.llm,worker.llm2" || len(paths) != 2 {
		t.Errorf("paths = %v", paths)
	}
	p = newHA(t, func(c *schema.Cluster) { c.Compose.ModelsDir = "" })
	if args, _, _ := p.checkImageCommand(nil); strings.Contains(strings.Join(args, " "), " -v ") {
		t.Errorf("a models mount without models_dir: %v", args)
	}
}

func TestImageProblems(t *testing.T) {
	p := newHA(t, nil) // declares 0.6.3
	paths := map[string][]string{"/models/glm": {"worker.llm", "worker.llm2"}, "/models/t2v": {"worker.text2vec"}}
	for _, tc := range []struct {
		name string
		out  string
		err  error
		want []string // "component: what" prefixes
	}{
		{"fine", "dbgpt, version 0.6.3\n", nil, nil},
		{"same generation", "dbgpt, version 0.6.0\n", nil, nil},
		{"other generation", "dbgpt, version 0.7.0\n", nil, []string{": image example/dbgpt:0.6.3 has DB-GPT 0.7.0, the cluster file declares 0.6.3"}},
		{"missing paths", "dbgpt, version v0.6.3\nhactl-missing-path: /models/glm\n", nil,
			[]string{"worker.llm: model path /models/glm does not exist", "worker.llm2: model path /models/glm"}},
		{"no version", "usage: dbgpt\n", nil, []string{": image example/dbgpt:0.6.3: cannot read a version"}},
		{"failed", "bash: dbgpt: command not found\nhactl-missing-path: /models/t2v\n", errors.New("exit status 127"),
			[]string{"worker.text2vec: model path /models/t2v", ": image example/dbgpt:0.6.3: `dbgpt --version` failed: exit status 127"}},
	} {
		probs := p.imageProblems(tc.out, tc.err, paths)
		var got []string
		for _, pr := range probs {
			got = append(got, pr.Component+": "+pr.What)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: problems %q", tc.name, got)
			continue
		}
		for i := range got {
			if !strings.HasPrefix(got[i], tc.want[i]) {
				t.Errorf("%s: problem %d = %q, want %q…", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}

func TestRegistryAccess(t *testing.T) {
	p := newHA(t, nil)
	if p.Registry(nil) == nil {
		t.Fatal("no registry")
	}
	a := managedAccess{access{p}}
	if u, pw := a.Admin(); u != "root" || pw != "root$pw" {
		t.Errorf("admin = %s / %s", u, pw)
	}
	if pl := a.Places(); len(pl) != 1 || pl[0].Name() != "the compose network" {
		t.Errorf("places = %v", pl)
	}
	if _, err := a.SQLiteFile(); err == nil || !strings.Contains(err.Error(), "sqlite") {
		t.Errorf("SQLiteFile err = %v", err)
	}
	if a.ConnectRetry() < 10*time.Second {
		t.Errorf("connect retry %v: the database may still be starting", a.ConnectRetry())
	}
	// No root password: the registry user is root.
	p = newHA(t, func(c *schema.Cluster) { c.Registry.User, c.Compose.RootPassword = "root", schema.Secret{} })
	if u, pw := (managedAccess{access{p}}).Admin(); u != "root" || pw != testPassword {
		t.Errorf("admin = %s / %s", u, pw)
	}
	ext := newHA(t, func(c *schema.Cluster) { c.Compose.ManagedDatabase = false })
	if ext.Registry(nil) == nil {
		t.Error("no registry for an external database")
	}
}

// After the provider's first compose up (which may create the project's
// network, so it runs alone), ups of different services run at the same
// time: the fake compose's up of each controller exits 0 only when it saw
// the other's up running too.
func TestUpsRunTogether(t *testing.T) {
	p := newHA(t, nil)
	marks := t.TempDir()
	script := filepath.Join(t.TempDir(), "fake-compose")
	// Arguments: --project-name P --file F up -d --no-deps --no-build --no-color SVC.
	if err := os.WriteFile(script, []byte(`#!/bin/sh
for svc; do :; done
touch "`+marks+`/$svc"
case "$svc" in controller*) ;; *) exit 0;; esac
i=0
while [ $i -lt 200 ]; do
	[ -e "`+marks+`/controller1" ] && [ -e "`+marks+`/controller2" ] && exit 0
	sleep 0.05
	i=$((i+1))
done
echo "$svc: the other controller's up did not run meanwhile" >&2
exit 1
`), 0o755); err != nil {
		t.Fatal(err)
	}
	p.compose = []string{script}
	ctx := context.Background()
	if err := p.writeAndUp(ctx, "db", nil); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for _, svc := range []string{"controller1", "controller2"} {
		go func() { errs <- p.writeAndUp(ctx, svc, nil) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	// Teardown makes the next up run alone again.
	p.mu.Lock()
	once := p.upOnce
	p.mu.Unlock()
	if !once {
		t.Errorf("upOnce not set after an up")
	}
	_ = p.Teardown(ctx, false)
	if p.upOnce {
		t.Errorf("upOnce still set after Teardown")
	}
}
