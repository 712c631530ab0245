package compose

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/schema"
)

const testPassword = "s3cr'et$pw"

// haCluster is the HA guide's topology, hand-built: two controllers on
// server1/2, two workers on server3, a webserver.
func haCluster() *schema.Cluster {
	s1 := &schema.Server{Name: "server1", Address: "10.0.0.1", Transport: schema.TransportSSH}
	s2 := &schema.Server{Name: "server2", Address: "10.0.0.2", Transport: schema.TransportSSH}
	s3 := &schema.Server{Name: "server3", Address: "10.0.0.3", Transport: schema.TransportSSH}
	llm := &schema.Model{Name: "glm-4-9b-chat", WorkerType: schema.WorkerTypeLLM, Path: "/models/glm"}
	emb := &schema.Model{Name: "text2vec", WorkerType: schema.WorkerTypeText2Vec, Path: "/models/t2v"}
	return &schema.Cluster{
		Name: "ha-demo", Generation: schema.GenerationFlags, Version: "0.6.3",
		Servers: []*schema.Server{s1, s2, s3},
		Registry: &schema.Registry{Type: schema.RegistryMySQL, Host: "db", Port: 3306, Database: "dbgpt",
			User: "dbgpt", Password: schema.NewSecret(testPassword), CreateDatabase: true},
		Models: []*schema.Model{llm, emb},
		Controllers: []*schema.Controller{
			{Name: "ctrl1", Server: s1, Host: "0.0.0.0", Port: 8000},
			{Name: "ctrl2", Server: s2, Host: "0.0.0.0", Port: 8000},
		},
		Workers: []*schema.Worker{
			{Name: "llm", Server: s3, Model: llm, Host: "0.0.0.0", Port: 8001},
			{Name: "text2vec", Server: s3, Model: emb, Host: "0.0.0.0", Port: 8003},
		},
		Webserver: &schema.Webserver{Name: "webserver", Server: s1, Host: "0.0.0.0", Port: 5670, Light: true},
		Compose: &schema.Compose{DBGPTImage: "example/dbgpt:0.6.3", ManagedDatabase: true,
			RootPassword: schema.NewSecret("root$pw"), ModelsDir: "/srv/models"},
	}
}

// fakeComponents stands in for the plan's rendering: enough of a Launch to
// see where each part lands in the project.
func fakeComponents(c *schema.Cluster) []*plan.Component {
	var out []*plan.Component
	urls := strings.Join(c.ControllerURLs(), ",")
	for _, ctl := range c.Controllers {
		out = append(out, &plan.Component{Address: "controller." + ctl.Name, Role: schema.RoleController, Name: ctl.Name,
			Server: ctl.Server, Port: ctl.Port, Level: 1, Hash: "h-" + ctl.Name,
			Attributes: map[string]string{"port": "8000", "registry_db_password": "(sensitive)"},
			Launch: dbgpt.Launch{Args: []string{"start", "controller", "--port", "8000", "--registry_db_host", c.Registry.Host},
				SecretEnv: map[string]string{"CONTROLLER_REGISTRY_DB_PASSWORD": c.Registry.Password.Reveal()}}})
	}
	for _, w := range c.Workers {
		out = append(out, &plan.Component{Address: "worker." + w.Name, Role: schema.RoleWorker, Name: w.Name,
			Server: w.Server, Port: w.Port, Level: 2, Hash: "h-" + w.Name,
			Launch: dbgpt.Launch{Args: []string{"start", "worker", "--worker_register_host", w.Server.Address, "--controller_addr", urls},
				Env:   map[string]string{"PRICE": "$5"},
				Files: map[string]dbgpt.File{"dbgpt.toml": {Content: []byte("x = 1\n")}}}})
	}
	ws := c.Webserver
	out = append(out, &plan.Component{Address: "webserver", Role: schema.RoleWebserver, Name: "webserver",
		Server: ws.Server, Port: ws.Port, Level: 3, Hash: "h-web",
		Launch: dbgpt.Launch{Args: []string{"start", "webserver", "--light", "--controller_addr", urls}}})
	return out
}

func buildHA(t *testing.T) (*schema.Cluster, *Project) {
	t.Helper()
	c, err := Adapt(haCluster())
	if err != nil {
		t.Fatal(err)
	}
	p, err := Build(c, fakeComponents(c), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

func TestAdaptMapsComponentsToServices(t *testing.T) {
	orig := haCluster()
	c, err := Adapt(orig)
	if err != nil {
		t.Fatal(err)
	}
	if orig.Controllers[0].Server.Name != "server1" {
		t.Fatal("Adapt modified its input")
	}
	if got := c.ControllerURLs(); strings.Join(got, ",") != "http://controller-ctrl1:8000,http://controller-ctrl2:8000" {
		t.Errorf("controller URLs = %v", got)
	}
	if a := c.Workers[1].Server.Address; a != "worker-text2vec" {
		t.Errorf("worker register host = %q", a)
	}
	if c.Registry.Host != "db" || c.Registry.Port != 3306 {
		t.Errorf("registry at %s:%d, want db:3306", c.Registry.Host, c.Registry.Port)
	}
	again, err := Adapt(c)
	if err != nil || again != c {
		t.Errorf("Adapt of an adapted cluster: %v, same=%v", err, again == c)
	}
	// An IP as registry host cannot be a service name.
	orig.Registry.Host = "10.0.0.9"
	c2, _ := Adapt(orig)
	if c2.Registry.Host != DefaultDatabaseService {
		t.Errorf("registry host = %q, want %q", c2.Registry.Host, DefaultDatabaseService)
	}
}

func TestBuildServices(t *testing.T) {
	_, p := buildHA(t)
	want := []string{"controller-ctrl1", "controller-ctrl2", "db", "webserver", "worker-llm", "worker-text2vec"}
	if got := strings.Join(p.Compose.ServiceNames(), " "); got != strings.Join(want, " ") {
		t.Fatalf("services = %s", got)
	}
	s := p.Compose.Services
	if d := s["controller-ctrl1"].DependsOn; len(d) != 1 || d["db"].Condition != types.ServiceConditionHealthy {
		t.Errorf("controller depends_on = %v", d)
	}
	if d := s["worker-llm"].DependsOn; len(d) != 2 || d["controller-ctrl2"].Condition != types.ServiceConditionHealthy {
		t.Errorf("worker depends_on = %v", d)
	}
	if d := s["webserver"].DependsOn; len(d) != 2 || d["worker-text2vec"].Condition == "" {
		t.Errorf("webserver depends_on = %v", d)
	}
	for name, svc := range s {
		if svc.HealthCheck == nil || len(svc.HealthCheck.Test) == 0 {
			t.Errorf("%s has no healthcheck", name)
		}
		if svc.Restart != types.RestartPolicyUnlessStopped {
			t.Errorf("%s restart = %q", name, svc.Restart)
		}
		if svc.Labels[LabelProject] != "ha-demo" || svc.Labels[LabelService] != name {
			t.Errorf("%s labels = %v", name, svc.Labels)
		}
	}
	if l := s["worker-llm"].Labels; l[LabelComponent] != "worker.llm" || l[LabelHash] != "h-llm" || l[LabelPort] != "8001" {
		t.Errorf("worker labels = %v", l)
	}
	vols := s["worker-llm"].Volumes
	if len(vols) != 2 || vols[0].Target != ContainerDir || vols[1].Source != "/srv/models" || !vols[1].ReadOnly {
		t.Errorf("worker volumes = %+v", vols)
	}
	if v := s["db"].Volumes; len(v) != 1 || v[0].Source != DefaultDatabaseVolume || v[0].Target != "/var/lib/mysql" {
		t.Errorf("db volumes = %+v", v)
	}
}

func TestSecretsNeverInYAML(t *testing.T) {
	_, p := buildHA(t)
	y, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"s3cr", "root$pw", "root$$pw"} {
		if strings.Contains(string(y), secret) {
			t.Errorf("YAML contains secret %q:\n%s", secret, y)
		}
	}
	var found int
	for _, f := range p.Files {
		if strings.Contains(string(f.Content), "s3cr") || strings.Contains(string(f.Content), "root$pw") {
			found++
			if f.Mode != 0o600 {
				t.Errorf("%s holds a secret with mode %o", f.Path, f.Mode)
			}
		}
	}
	if found != 3 { // two controllers, the database
		t.Errorf("secret found in %d side files, want 3", found)
	}
}

func TestEnvFileRefusesBackslash(t *testing.T) {
	_, err := envFile(map[string]string{"PW": `a\b`})
	if err == nil || strings.Contains(err.Error(), `a\b`) || !strings.Contains(err.Error(), "PW") {
		t.Errorf("err = %v", err)
	}
}

// writeHA writes the exported project into a fresh directory.
func writeHA(t *testing.T) (string, *schema.Cluster) {
	t.Helper()
	c, p := buildHA(t)
	dir := t.TempDir()
	file := filepath.Join(dir, ComposeFile)
	if err := p.Write(file); err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Files {
		st, err := os.Stat(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != f.Mode {
			t.Errorf("%s mode %o, want %o", f.Path, st.Mode().Perm(), f.Mode)
		}
	}
	return file, c
}

func TestYAMLLoadsBackWithComposeGo(t *testing.T) {
	file, _ := writeHA(t)
	ctx := context.Background()
	details, err := loader.LoadConfigFiles(ctx, []string{file}, filepath.Dir(file))
	if err != nil {
		t.Fatal(err)
	}
	proj, err := loader.LoadWithContext(ctx, *details, func(o *loader.Options) { o.SetProjectName("ha-demo", true) })
	if err != nil {
		t.Fatalf("compose-go loader: %v", err)
	}
	ctl := proj.Services["controller-ctrl1"]
	if got := ctl.Environment["CONTROLLER_REGISTRY_DB_PASSWORD"]; got == nil || *got != testPassword {
		t.Errorf("password from env file = %v, want the original value", got)
	}
	w := proj.Services["worker-llm"]
	if got := w.Environment["PRICE"]; got == nil || *got != "$5" {
		t.Errorf("PRICE = %v, want $5 (escaped from interpolation)", got)
	}
	if got := strings.Join(w.Command, " "); !strings.Contains(got, "--worker_register_host worker-llm") ||
		!strings.Contains(got, "http://controller-ctrl1:8000,http://controller-ctrl2:8000") {
		t.Errorf("worker command = %s", got)
	}
	db := proj.Services["db"]
	if got := db.Environment["MYSQL_ROOT_PASSWORD"]; got == nil || *got != "root$pw" {
		t.Errorf("root password from env file = %v", got)
	}
	if d := w.DependsOn["controller-ctrl1"]; d.Condition != types.ServiceConditionHealthy {
		t.Errorf("depends_on lost: %+v", w.DependsOn)
	}
	if hc := ctl.HealthCheck; hc == nil || !strings.Contains(strings.Join(hc.Test, " "), "$'\\r\\n\\r\\n'") {
		t.Errorf("controller healthcheck after load = %v", hc)
	}
}

func TestYAMLAcceptedByDockerComposeV1(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Skip("docker-compose not installed")
	}
	file, _ := writeHA(t)
	cmd := exec.Command(bin, "-f", file, "config", "-q")
	cmd.Dir = filepath.Dir(file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
	cmd = exec.Command(bin, "-f", file, "config", "--services")
	cmd.Dir = filepath.Dir(file)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(string(out))); n != 6 {
		t.Errorf("docker-compose sees %d services: %s", n, out)
	}
}

// The image is part of every component's settings hash: a new image is a
// planned change, not a silent no-op.
func TestImageInComponentHash(t *testing.T) {
	a, _ := Adapt(haCluster())
	other := haCluster()
	other.Compose.DBGPTImage = "example/dbgpt:0.6.4"
	b, _ := Adapt(other)
	ca, err := plan.Desired(a)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := plan.Desired(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ca {
		if ca[i].Hash == cb[i].Hash {
			t.Errorf("%s: same hash with another image", ca[i].Address)
		}
	}
	if got := a.Workers[0].Server.DBGPTCommand; got != "dbgpt (image example/dbgpt:0.6.3, models_dir /srv/models)" {
		t.Errorf("worker dbgpt command = %q", got)
	}
}

func TestWriteKeepsForeignDotEnv(t *testing.T) {
	_, p := buildHA(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("MINE=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Write(filepath.Join(dir, ComposeFile)); err == nil || !strings.Contains(err.Error(), ".env") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ".env")); string(b) != "MINE=1\n" {
		t.Errorf(".env overwritten: %q", b)
	}
	// hactl's own .env is rewritten freely.
	dir = t.TempDir()
	for i := 0; i < 2; i++ {
		if err := p.Write(filepath.Join(dir, ComposeFile)); err != nil {
			t.Fatal(err)
		}
	}
}
