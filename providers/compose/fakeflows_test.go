package compose

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

func fakeCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func problemsText(probs []providers.Problem) string {
	var s []string
	for _, p := range probs {
		s = append(s, p.Component+": "+p.What)
	}
	return strings.Join(s, "\n")
}

func TestPreflightDockerDown(t *testing.T) {
	calls, _ := fakeDockerOn(t, fakeState{Down: true})
	p := newHA(t, nil)
	probs := p.Preflight(fakeCtx(t), p.Cluster(), nil)
	if len(probs) != 1 || !strings.Contains(probs[0].What, "Cannot connect to the Docker daemon") || probs[0].Fix == "" {
		t.Errorf("problems:\n%s", problemsText(probs))
	}
	if c := calls(); len(c) != 1 || c[0] != "version --format {{.Server.Version}}" {
		t.Errorf("calls %q", c)
	}
}

func TestPreflightAllGood(t *testing.T) {
	models := t.TempDir()
	calls, _ := fakeDockerOn(t, fakeState{Images: []string{"example/dbgpt:0.6.3", DefaultDatabaseImage},
		RunOut: "dbgpt, version 0.6.3\n"})
	p := newHA(t, func(c *schema.Cluster) { c.Compose.ModelsDir = models })
	p.compose = nil // detected: the plugin answers
	probs := p.Preflight(fakeCtx(t), p.Cluster(), nil)
	if len(probs) != 0 {
		t.Errorf("problems:\n%s", problemsText(probs))
	}
	got := strings.Join(calls(), "\n")
	for _, want := range []string{"compose version", "image inspect --format {{.Id}} example/dbgpt:0.6.3",
		"image inspect --format {{.Id}} mysql:8.0", "run --rm --network none --entrypoint bash -v " + models + ":" + models + ":ro example/dbgpt:0.6.3"} {
		if !strings.Contains(got, want) {
			t.Errorf("no call %q in:\n%s", want, got)
		}
	}
	if strings.Join(p.compose, " ") != "docker compose" {
		t.Errorf("compose command %v", p.compose)
	}
	if _, err := os.Stat(p.WorkDir()); !os.IsNotExist(err) {
		t.Errorf("Preflight made the work directory: %v", err)
	}
}

func TestPreflightProblems(t *testing.T) {
	calls, _ := fakeDockerOn(t, fakeState{NoPlugin: true, Images: []string{"example/dbgpt:0.6.3"}})
	p := newHA(t, func(c *schema.Cluster) { c.Compose.ModelsDir = filepath.Join(t.TempDir(), "absent") })
	p.compose = nil
	// The plan's components replace the provider's.
	want, err := plan.Desired(p.Cluster())
	if err != nil {
		t.Fatal(err)
	}
	probs := p.Preflight(fakeCtx(t), p.Cluster(), want[:1])
	got := problemsText(probs)
	for _, w := range []string{"neither the docker compose plugin nor docker-compose", "image mysql:8.0 is not in the local image store",
		"models_dir " + p.Cluster().Compose.ModelsDir + " is not a directory"} {
		if !strings.Contains(got, w) {
			t.Errorf("no problem %q in:\n%s", w, got)
		}
	}
	if len(probs) != 3 {
		t.Errorf("problems:\n%s", got)
	}
	for _, c := range calls() {
		if strings.HasPrefix(c, "run ") {
			t.Error("the image was run although problems were found")
		}
	}
	if len(p.want) != 1 || p.want[want[0].Address] != want[0] {
		t.Errorf("wanted components %v", p.want)
	}

	// A file Build refuses: reported, nothing else checked.
	bad := newHA(t, func(c *schema.Cluster) { c.Compose.DBGPTImage = "" })
	if probs := bad.Preflight(fakeCtx(t), bad.Cluster(), nil); len(probs) != 1 || !strings.Contains(probs[0].What, "dbgpt_image") {
		t.Errorf("problems:\n%s", problemsText(probs))
	}
	// A sqlite registry is not for compose.
	sq := newHA(t, func(c *schema.Cluster) {
		c.Registry = &schema.Registry{Type: schema.RegistrySQLite, Path: "/tmp/r.db"}
		c.Compose.ModelsDir = ""
	})
	if got := problemsText(sq.Preflight(fakeCtx(t), sq.Cluster(), nil)); !strings.Contains(got, "sqlite registry") {
		t.Errorf("problems:\n%s", got)
	}
}

// The image is run to check the version and model paths.
func TestPreflightChecksTheImage(t *testing.T) {
	fakeDockerOn(t, fakeState{Images: []string{"example/dbgpt:0.6.3", DefaultDatabaseImage},
		RunOut: "dbgpt, version 0.7.0\nhactl-missing-path: /models/t2v\n"})
	p := newHA(t, func(c *schema.Cluster) { c.Compose.ModelsDir = "" })
	got := problemsText(p.Preflight(fakeCtx(t), p.Cluster(), nil))
	if !strings.Contains(got, "worker.text2vec: model path /models/t2v does not exist") || !strings.Contains(got, "has DB-GPT 0.7.0") {
		t.Errorf("problems:\n%s", got)
	}
}

const recordedWorkerID = "16ad35b74940460a7ca98c30c69489f19ba0a47c97fa338e72f93ab3c8541c8f"

func TestObserveAndLogsRecorded(t *testing.T) {
	p := newHA(t, nil)
	st := fakeState{Containers: recordedContainers(t, "ha-demo")}
	st.Vanish = st.Containers[0]["Id"].(string) // the database goes between ps and inspect
	calls, _ := fakeDockerOn(t, st)
	ctx := fakeCtx(t)
	obs, err := p.Observe(ctx, p.Cluster())
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 1 || obs[0].Address != "worker.llm" || !obs[0].Running {
		t.Fatalf("observed %+v", obs)
	}
	logs, err := p.Logs(ctx, obs[0], 0)
	if err != nil || !strings.Contains(logs, "stdout line") || !strings.Contains(logs, "stderr line") {
		t.Errorf("logs %q, %v", logs, err)
	}
	c := calls()
	if n := len(slices.DeleteFunc(slices.Clone(c), func(s string) bool { return !strings.HasPrefix(s, "ps ") })); n != 3 {
		t.Errorf("%d ps calls, want 3 (a retry after the vanished container, one for Logs): %q", n, c)
	}
	if !slices.Contains(c, "ps -a -q --no-trunc --filter label=dev.hactl.project=ha-demo") ||
		!slices.Contains(c, "logs --tail 20 "+recordedWorkerID) {
		t.Errorf("calls %q", c)
	}
	if _, err := p.Logs(ctx, providers.Observed{Address: "webserver"}, 5); err == nil || !strings.Contains(err.Error(), "no container for webserver") {
		t.Errorf("logs of a missing component: %v", err)
	}
}

// relabel copies a recorded container as another component of the project.
func relabel(c map[string]any, id, addr, svc string) map[string]any {
	n := map[string]any{}
	for k, v := range c {
		n[k] = v
	}
	labels := map[string]any{}
	for k, v := range labelsOf(c) {
		labels[k] = v
	}
	labels[LabelComponent], labels[LabelService] = addr, svc
	if addr == "" {
		delete(labels, LabelComponent)
	}
	n["Id"], n["Config"] = id, map[string]any{"Labels": labels}
	return n
}

func desired(t *testing.T, p *Provider, addr string) *plan.Component {
	t.Helper()
	comps, err := plan.Desired(p.Cluster())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range comps {
		if c.Address == addr {
			return c
		}
	}
	t.Fatalf("no component %s", addr)
	return nil
}

// Deploy writes the project and ups one service; Remove stops and removes
// the component's container and its files, keeping the others.
func TestDeployAndRemove(t *testing.T) {
	rec := recordedContainers(t, "ha-demo")
	calls, state := fakeDockerOn(t, fakeState{Containers: []map[string]any{relabel(rec[1], "ctl1", "controller.ctrl1", "controller-ctrl1")}})
	p := newHA(t, nil)
	ctx := fakeCtx(t)
	want := desired(t, p, "worker.llm")
	if err := p.Deploy(ctx, want); err != nil {
		t.Fatal(err)
	}
	up := "compose --project-name ha-demo --file " + p.file() + " up -d --no-deps --no-build --no-color worker-llm"
	if c := calls(); c[len(c)-1] != up {
		t.Errorf("calls %q, want last %q", c, up)
	}
	if st := state(); len(st.ComposeFiles) != 1 || st.ComposeFiles[0] != p.file() {
		t.Errorf("compose files %v", st.ComposeFiles)
	}
	// The container has the labels of the project file: observed as the
	// component with its settings hash.
	obs, err := p.Observe(ctx, p.Cluster())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(obs, func(o providers.Observed) bool { return o.Address == "worker.llm" })
	if len(obs) != 2 || i < 0 || obs[i].Hash != want.Hash || obs[i].Server != "worker-llm" || obs[i].Port != want.Port ||
		obs[i].Attributes["model"] != want.Attributes["model"] {
		t.Errorf("observed %+v, want worker.llm with hash %s", obs, want.Hash)
	}
	// Files of the worker from an earlier version of its settings.
	if err := os.MkdirAll(filepath.Join(p.WorkDir(), "worker-llm"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.WorkDir(), "worker-llm.env"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	o := providers.Observed{Address: "worker.llm"}
	if err := p.Remove(ctx, o); err != nil {
		t.Fatal(err)
	}
	c := calls()
	i = slices.Index(c, "stop --time 15 up1")
	if i < 0 || i+1 >= len(c) || c[i+1] != "rm -f -v up1" {
		t.Errorf("calls %q: want stop then rm of the worker", c)
	}
	if slices.ContainsFunc(c, func(s string) bool { return strings.Contains(s, " down ") }) {
		t.Error("Remove tore the project down with a component left")
	}
	for _, f := range []string{"worker-llm", "worker-llm.env"} {
		if _, err := os.Stat(filepath.Join(p.WorkDir(), f)); !os.IsNotExist(err) {
			t.Errorf("the worker's %s is left: %v", f, err)
		}
	}
	y, err := os.ReadFile(p.file())
	if err != nil || strings.Contains(string(y), "worker-llm:") || !strings.Contains(string(y), "worker-text2vec:") {
		t.Errorf("project file after Remove (%v):\n%s", err, y)
	}
	if st := state(); len(st.Containers) != 1 || st.Containers[0]["Id"] != "ctl1" {
		t.Errorf("containers left %v", st.Containers)
	}
}

// The last component removed: the database service and network go, the
// volume and nothing else stays.
func TestRemoveLastComponentTearsDown(t *testing.T) {
	rec := recordedContainers(t, "ha-demo")
	db := relabel(rec[0], "db1", "", "db")
	calls, state := fakeDockerOn(t, fakeState{Containers: []map[string]any{rec[1], db},
		Networks: []string{"ha-demo_hactl", "other_hactl"}, Volumes: []string{"ha-demo_registry-data"}})
	p := newHA(t, nil)
	ctx := fakeCtx(t)
	if err := p.Remove(ctx, providers.Observed{Address: "worker.llm"}); err != nil {
		t.Fatal(err)
	}
	down := "compose --project-name ha-demo --file " + p.file() + " down --remove-orphans --timeout 15"
	if !slices.Contains(calls(), down) {
		t.Errorf("calls %q, want %q", calls(), down)
	}
	st := state()
	if len(st.Containers) != 0 || !slices.Equal(st.Networks, []string{"other_hactl"}) || !slices.Equal(st.Volumes, []string{"ha-demo_registry-data"}) {
		t.Errorf("after: containers %v networks %v volumes %v", st.Containers, st.Networks, st.Volumes)
	}
	if _, err := os.Stat(p.WorkDir()); !os.IsNotExist(err) {
		t.Errorf("work directory left: %v", err)
	}
}

// compose down failing, Teardown still removes the project's containers,
// network and (purging) volume by hand, and reports the failure.
func TestTeardownWhenComposeFails(t *testing.T) {
	rec := recordedContainers(t, "ha-demo")
	other := relabel(rec[1], "foreign", "worker.x", "worker-x")
	other["Config"].(map[string]any)["Labels"].(map[string]any)[LabelProject] = "other"
	_, state := fakeDockerOn(t, fakeState{ComposeFails: true, Containers: append(rec, other),
		Networks: []string{"ha-demo_hactl"}, Volumes: []string{"ha-demo_registry-data", "other_registry-data"}})
	p := newHA(t, nil)
	err := p.Teardown(fakeCtx(t), true)
	if err == nil || !strings.Contains(err.Error(), "compose: failed") {
		t.Errorf("err = %v", err)
	}
	st := state()
	if len(st.Containers) != 1 || st.Containers[0]["Id"] != "foreign" || len(st.Networks) != 0 ||
		!slices.Equal(st.Volumes, []string{"other_registry-data"}) {
		t.Errorf("after: containers %d networks %v volumes %v", len(st.Containers), st.Networks, st.Volumes)
	}
}

func TestDeployWhenComposeFails(t *testing.T) {
	fakeDockerOn(t, fakeState{ComposeFails: true})
	p := newHA(t, nil)
	err := p.Deploy(fakeCtx(t), desired(t, p, "webserver"))
	if err == nil || !strings.Contains(err.Error(), "starting service webserver (webserver)") || !strings.Contains(err.Error(), "compose: failed") {
		t.Errorf("err = %v", err)
	}
}

// The managed database: fresh when neither container nor volume exists,
// started with compose and waited for until healthy, discarded with the
// project when no component is left.
func TestManagedDatabaseLifecycle(t *testing.T) {
	calls, state := fakeDockerOn(t, fakeState{})
	p := newHA(t, nil)
	a := managedAccess{access{p}}
	ctx := fakeCtx(t)
	running, fresh, err := a.Running(ctx)
	if err != nil || running || !fresh {
		t.Fatalf("Running = %v %v %v, want fresh", running, fresh, err)
	}
	if !slices.Contains(calls(), "volume inspect ha-demo_registry-data") {
		t.Errorf("calls %q", calls())
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(calls(), "compose --project-name ha-demo --file "+p.file()+" up -d --no-deps --no-build --no-color db") {
		t.Errorf("calls %q", calls())
	}
	if running, fresh, err = a.Running(ctx); err != nil || !running || fresh {
		t.Errorf("Running after Start = %v %v %v", running, fresh, err)
	}
	// The database reached through its service name.
	if ct, err := p.serviceContainer(ctx, "db"); err != nil || !ct.State.Running {
		t.Errorf("serviceContainer = %+v, %v", ct, err)
	}
	// The faked container has no project network: DialContext fails before dialling.
	if _, err := p.DialContext(ctx, nil, "tcp", "db:3306"); err == nil || !strings.Contains(err.Error(), "no address on network ha-demo_hactl") {
		t.Errorf("dial db: %v", err)
	}
	// No component left: Discard purges the project, volume included.
	discarded, err := a.Discard(ctx)
	if err != nil || !discarded {
		t.Errorf("Discard = %v, %v", discarded, err)
	}
	if !slices.Contains(calls(), "compose --project-name ha-demo --file "+p.file()+" down --remove-orphans --timeout 15 --volumes") {
		t.Errorf("calls %q", calls())
	}
	if st := state(); len(st.Containers) != 0 || len(st.Networks) != 0 {
		t.Errorf("left: %v %v", st.Containers, st.Networks)
	}
}

func TestManagedDatabaseStates(t *testing.T) {
	rec := recordedContainers(t, "ha-demo")
	exited := relabel(rec[0], "db1", "", "db")
	worker := rec[1]
	ctx := fakeCtx(t)

	// A volume but no container: not running, not fresh.
	fakeDockerOn(t, fakeState{Volumes: []string{"ha-demo_registry-data"}})
	p := newHA(t, nil)
	a := managedAccess{access{p}}
	if running, fresh, err := a.Running(ctx); err != nil || running || fresh {
		t.Errorf("volume only: Running = %v %v %v", running, fresh, err)
	}
	// An exited database container: not running, not fresh; a component
	// left, so Discard has nothing to do but reports the rows gone with it.
	fakeDockerOn(t, fakeState{Containers: []map[string]any{exited, worker}})
	if running, fresh, err := a.Running(ctx); err != nil || running || fresh {
		t.Errorf("exited: Running = %v %v %v", running, fresh, err)
	}
	if _, err := p.serviceContainer(ctx, "db"); err == nil || !strings.Contains(err.Error(), "is not running (exited)") {
		t.Errorf("serviceContainer: %v", err)
	}
	if _, err := p.DialContext(ctx, &schema.Server{Name: "webserver"}, "tcp", "localhost:5670"); err == nil ||
		!strings.Contains(err.Error(), "no container for service webserver") {
		t.Errorf("dial the webserver's localhost: %v", err)
	}
	if d, err := a.Discard(ctx); err != nil || !d {
		t.Errorf("Discard with the database stopped = %v, %v", d, err)
	}
	// A running database and a component: the rows must be deleted.
	running := relabel(worker, "db2", "", "db")
	fakeDockerOn(t, fakeState{Containers: []map[string]any{running, worker}})
	if d, err := a.Discard(ctx); err != nil || d {
		t.Errorf("Discard with the database running = %v, %v", d, err)
	}
	// A database that exits at start: the error carries its log.
	fakeDockerOn(t, fakeState{UpExits: true})
	err := a.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "exited (code 1)") || !strings.Contains(err.Error(), "stderr line") {
		t.Errorf("Start of a failing database: %v", err)
	}
	// A database that does not turn healthy in time: the error says how
	// it was and carries its log.
	fakeDockerOn(t, fakeState{UpStarting: true})
	p.opts.HealthTimeout = time.Nanosecond
	err = a.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "not healthy after 1ns (running, starting)") || !strings.Contains(err.Error(), "stdout line") {
		t.Errorf("Start of a database that stays starting: %v", err)
	}
	// compose failing: said so.
	fakeDockerOn(t, fakeState{ComposeFails: true})
	if err := a.Start(ctx); err == nil || !strings.Contains(err.Error(), "starting the registry database service db") {
		t.Errorf("Start with compose failing: %v", err)
	}
}

// The managed database is ready when it sends its greeting, long before
// Docker's healthcheck, which runs every few seconds, says healthy: Start
// returns as soon as the greeting comes although the fake's container stays
// "starting"; while the address refuses, it is polled directly, never
// through docker exec.
func TestManagedDatabaseReadyAtItsGreeting(t *testing.T) {
	// A MySQL greeting on 3306 of a loopback address the fake container
	// has, once the fake database has been polled a few times.
	ip := "127.0.0.31"
	addr := net.JoinHostPort(ip, "3306")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	ln.Close()
	calls, _ := fakeDockerOn(t, fakeState{UpStarting: true, UpIP: ip})
	p := newHA(t, nil)
	p.opts.HealthTimeout = time.Minute
	done := make(chan error, 1)
	go func() { done <- (managedAccess{access{p}}).Start(fakeCtx(t)) }()
	polls := func() int {
		n := 0
		for _, c := range calls() {
			if strings.HasPrefix(c, "ps -a") && strings.Contains(c, LabelService+"=db") {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(30 * time.Second); polls() < 4; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("Start returned before the database listened: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not polled: %q", calls())
		}
	}
	ln, err = net.Listen("tcp", addr)
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
			// Length 1, sequence 0, protocol version 10.
			_, _ = c.Write([]byte{1, 0, 0, 0, 10})
			c.Close()
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Start did not return after the greeting: it waits for Docker's healthy")
	}
	for _, c := range calls() {
		if strings.HasPrefix(c, "exec") {
			t.Errorf("the database's address was dialled through %q", c)
		}
	}
}

// The network path looks a service's container up once per netTTL, not
// once per dial (a gate polling a component that does not listen yet), and
// looks again at once after the provider changed a container.
func TestNetworkDialsShareALookup(t *testing.T) {
	ip := "127.0.0.33"
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	calls, _ := fakeDockerOn(t, fakeState{UpIP: ip})
	p := newHA(t, func(c *schema.Cluster) { c.Compose.Access = AccessNetwork })
	netTTL = time.Minute
	t.Cleanup(func() { netTTL = time.Second })
	ctx := fakeCtx(t)
	if err := p.writeAndUp(ctx, "controller-ctrl1", nil); err != nil {
		t.Fatal(err)
	}
	listings := func() int {
		n := 0
		for _, c := range calls() {
			if strings.HasPrefix(c, "ps -a") {
				n++
			}
		}
		return n
	}
	dial := func() {
		t.Helper()
		conn, err := p.DialContext(ctx, nil, "tcp", net.JoinHostPort("controller-ctrl1", port))
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	before := listings()
	for range 3 {
		dial()
	}
	if n := listings() - before; n != 1 {
		t.Errorf("%d listings for 3 dials within netTTL, want 1", n)
	}
	if err := p.writeAndUp(ctx, "controller-ctrl1", nil); err != nil {
		t.Fatal(err)
	}
	before = listings()
	dial()
	if n := listings() - before; n != 1 {
		t.Errorf("%d listings for a dial after an up, want 1 (the lookup forgotten)", n)
	}
}
