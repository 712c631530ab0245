package compose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/schema"
)

func adaptedHA(t *testing.T, mutate func(*schema.Cluster)) *schema.Cluster {
	t.Helper()
	orig := haCluster()
	if mutate != nil {
		mutate(orig)
	}
	c, err := Adapt(orig)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBuildRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		c     func(t *testing.T) *schema.Cluster
		comps func(c *schema.Cluster) []*plan.Component
		want  string
	}{
		"not adapted": {c: func(*testing.T) *schema.Cluster { return haCluster() }, want: "compose.Adapt"},
		"no image": {c: func(t *testing.T) *schema.Cluster {
			return adaptedHA(t, func(c *schema.Cluster) { c.Compose.DBGPTImage = "" })
		}, want: "dbgpt_image"},
		"no project name": {c: func(t *testing.T) *schema.Cluster {
			return adaptedHA(t, func(c *schema.Cluster) { c.Name = "***" })
		}, want: "no letter or digit"},
		"no root password": {c: func(t *testing.T) *schema.Cluster {
			return adaptedHA(t, func(c *schema.Cluster) { c.Compose.RootPassword = schema.Secret{} })
		}, want: "root_password"},
		"root with two passwords": {c: func(t *testing.T) *schema.Cluster {
			return adaptedHA(t, func(c *schema.Cluster) { c.Registry.User = "root" })
		}, want: "differs"},
		"secret with a line break": {c: func(t *testing.T) *schema.Cluster {
			return adaptedHA(t, func(c *schema.Cluster) { c.Compose.RootPassword = schema.NewSecret("a\nb") })
		}, want: "ROOT_PASSWORD contains"},
		"two components, one service": {
			comps: func(c *schema.Cluster) []*plan.Component {
				comps := fakeComponents(c)
				dup := *comps[0]
				return append(comps, &dup)
			}, want: `two components map to service "controller-ctrl1"`},
		"absolute settings file": {
			comps: func(c *schema.Cluster) []*plan.Component {
				comps := fakeComponents(c)
				comps[2].Launch.Files = map[string]dbgpt.File{"/etc/passwd": {Content: []byte("x")}}
				return comps
			}, want: "must be relative"},
		"settings file outside": {
			comps: func(c *schema.Cluster) []*plan.Component {
				comps := fakeComponents(c)
				comps[2].Launch.Files = map[string]dbgpt.File{"a/../../x.toml": {Content: []byte("x")}}
				return comps
			}, want: "must be relative"},
		"component secret with a backslash": {
			comps: func(c *schema.Cluster) []*plan.Component {
				comps := fakeComponents(c)
				comps[0].Launch.SecretEnv = map[string]string{"PW": `a\b`}
				return comps
			}, want: "controller.ctrl1"},
	} {
		c := adaptedHA(t, nil)
		if tc.c != nil {
			c = tc.c(t)
		}
		comps := fakeComponents(c)
		if tc.comps != nil {
			comps = tc.comps(c)
		}
		_, err := Build(c, comps, BuildOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", name, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "root$pw") || strings.Contains(err.Error(), "s3cr")) {
			t.Errorf("%s: error reveals a secret: %v", name, err)
		}
	}
}

func TestBuildExternalRegistry(t *testing.T) {
	c := adaptedHA(t, func(c *schema.Cluster) {
		c.Compose.ManagedDatabase = false
		c.Registry.Host = "mysql.example.net"
	})
	p, err := Build(c, fakeComponents(c), BuildOptions{NoPull: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Compose.Services["db"]; ok || len(p.Compose.Volumes) != 1 || p.Compose.Volumes[WebserverDataVolume].Labels == nil {
		t.Errorf("an external registry got a database service or volume: %v %v", p.Compose.ServiceNames(), p.Compose.Volumes)
	}
	if d := p.Compose.Services["controller-ctrl1"].DependsOn; len(d) != 0 {
		t.Errorf("controller depends_on = %v, want nothing", d)
	}
	for name, s := range p.Compose.Services {
		if s.PullPolicy != types.PullPolicyNever {
			t.Errorf("%s pull_policy = %q", name, s.PullPolicy)
		}
	}
	for _, f := range p.Files {
		if f.Path == "db.env" {
			t.Error("db.env written for an external registry")
		}
	}
}

func TestBuildManagedDatabase(t *testing.T) {
	c := adaptedHA(t, func(c *schema.Cluster) {
		c.Compose.DatabaseVolume = "My Data$"
		c.Compose.DatabaseImage = "mariadb:11"
	})
	p, err := Build(c, fakeComponents(c), BuildOptions{NoPull: true})
	if err != nil {
		t.Fatal(err)
	}
	db := p.Compose.Services["db"]
	if db.Image != "mariadb:11" || db.PullPolicy != types.PullPolicyNever || db.Labels[LabelRole] != RoleDatabase || db.Labels[LabelPort] != "3306" {
		t.Errorf("db service %+v", db)
	}
	if hc := strings.Join(db.HealthCheck.Test, " "); !strings.Contains(hc, "mysqladmin ping -h 127.0.0.1") {
		t.Errorf("db healthcheck %s", hc)
	}
	vol, ok := p.Compose.Volumes["my-data-"]
	if !ok || vol.Name != "My Data$$" || db.Volumes[0].Source != "my-data-" {
		t.Errorf("volumes %+v, db mounts %+v", p.Compose.Volumes, db.Volumes)
	}
	if got := db.Environment["MYSQL_DATABASE"]; got == nil || *got != "dbgpt" {
		t.Errorf("MYSQL_DATABASE = %v", got)
	}
	env := sideFile(t, p, "db.env")
	if env.Mode != 0o600 {
		t.Errorf("db.env mode %o", env.Mode)
	}
	for _, line := range []string{"MYSQL_ROOT_PASSWORD='root$pw'", "MARIADB_ROOT_PASSWORD='root$pw'",
		"MYSQL_USER='dbgpt'", `MYSQL_PASSWORD='s3cr\'et$pw'`} {
		if !strings.Contains(string(env.Content), line+"\n") {
			t.Errorf("db.env lacks %s:\n%s", line, env.Content)
		}
	}

	// The registry user root: its password is the root password, no MYSQL_USER.
	c = adaptedHA(t, func(c *schema.Cluster) {
		c.Registry.User = "root"
		c.Compose.RootPassword = schema.Secret{}
	})
	p, err = Build(c, fakeComponents(c), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env = sideFile(t, p, "db.env")
	if s := string(env.Content); !strings.Contains(s, `MYSQL_ROOT_PASSWORD='s3cr\'et$pw'`) || strings.Contains(s, "MYSQL_USER") {
		t.Errorf("db.env for user root:\n%s", s)
	}
	if p.Compose.Services["db"].Image != DefaultDatabaseImage || p.Compose.Services["db"].PullPolicy != "" {
		t.Errorf("db service %+v", p.Compose.Services["db"])
	}
}

func sideFile(t *testing.T, p *Project, rel string) File {
	t.Helper()
	for _, f := range p.Files {
		if f.Path == rel {
			return f
		}
	}
	t.Fatalf("no side file %s among %d", rel, len(p.Files))
	return File{}
}

// depends_on follows the levels: a level with nothing in the project is
// skipped, so the webserver of a file without workers waits for the
// controllers; a partial project never names a missing service.
func TestBuildDependsOnSkipsEmptyLevels(t *testing.T) {
	c := adaptedHA(t, nil)
	var comps []*plan.Component
	for _, comp := range fakeComponents(c) {
		if comp.Role != schema.RoleWorker {
			comps = append(comps, comp)
		}
	}
	p, err := Build(c, comps, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := p.Compose.Services["webserver"].DependsOn
	if len(d) != 2 || d["controller-ctrl1"].Condition != types.ServiceConditionHealthy || d["controller-ctrl2"].Condition == "" {
		t.Errorf("webserver depends_on = %v", d)
	}
	// The webserver alone: it depends on nothing.
	p, err = Build(c, comps[2:], BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Compose.Services["webserver"].DependsOn; len(d) != 0 {
		t.Errorf("lone webserver depends_on = %v", d)
	}
}

func TestBuildComponentService(t *testing.T) {
	c, p := buildHA(t)
	ctl := p.Compose.Services["controller-ctrl1"]
	if ctl.Image != c.Compose.DBGPTImage || strings.Join(ctl.Entrypoint, " ") != "dbgpt" || ctl.Hostname != "controller-ctrl1" ||
		ctl.WorkingDir != ContainerDir {
		t.Errorf("controller service %+v", ctl)
	}
	if _, ok := ctl.Networks[NetworkName]; !ok {
		t.Errorf("controller networks %v", ctl.Networks)
	}
	if l := ctl.Labels; l[LabelRole] != "controller" || l[LabelName] != "ctrl1" || l[LabelCluster] != "ha-demo" ||
		l[LabelAttributes] != `{"port":"8000","registry_db_password":"(sensitive)"}` {
		t.Errorf("controller labels %v", l)
	}
	if len(ctl.EnvFiles) != 1 || ctl.EnvFiles[0].Path != "./controller-ctrl1.env" || !ctl.EnvFiles[0].Required {
		t.Errorf("controller env_file %+v", ctl.EnvFiles)
	}
	if hc := strings.Join(ctl.HealthCheck.Test, " "); !strings.Contains(hc, "/dev/tcp/127.0.0.1/8000") || !strings.Contains(hc, "/api/controller/models") {
		t.Errorf("controller healthcheck %s", hc)
	}
	hc := ctl.HealthCheck
	if hc.Interval == nil || *hc.Retries != healthRetries || *hc.StartPeriod != types.Duration(healthStartPeriod) {
		t.Errorf("healthcheck timing %+v", hc)
	}
	if hc := strings.Join(p.Compose.Services["webserver"].HealthCheck.Test, " "); !strings.Contains(hc, "/api/health") || strings.Contains(hc, `"["*`) {
		t.Errorf("webserver healthcheck %s", hc)
	}
	if hc := p.Compose.Services["worker-llm"].HealthCheck.Test; strings.Join(hc, " ") != "CMD bash -c exec 3<>/dev/tcp/127.0.0.1/8001" {
		t.Errorf("worker healthcheck %q", hc)
	}
	w := p.Compose.Services["worker-llm"]
	if got := w.Environment["PRICE"]; got == nil || *got != "$$5" {
		t.Errorf("PRICE = %v, want escaped", got)
	}
	f := sideFile(t, p, "worker-llm/dbgpt.toml")
	if f.Mode != 0o644 || string(f.Content) != "x = 1\n" {
		t.Errorf("worker settings file %+v", f)
	}
	if _, ok := p.Compose.Services["webserver"].Labels[LabelAttributes]; ok {
		t.Error("a component without attributes got an attributes label")
	}
	dot := sideFile(t, p, ".env")
	if string(dot.Content) != dotEnvMarker+"\nCOMPOSE_PROJECT_NAME=ha-demo\n" || dot.Mode != 0o644 {
		t.Errorf(".env %+v", dot)
	}
}

// A secret settings file (a TOML with a password) is mode 0600 on disk;
// an existing file of the wrong mode is corrected.
func TestWriteSecretSettingsFileModes(t *testing.T) {
	c := adaptedHA(t, nil)
	comps := fakeComponents(c)
	comps[0].Launch.Files = map[string]dbgpt.File{"conf/dbgpt.toml": {Content: []byte("pw = 'x'\n"), Secret: true}}
	p, err := Build(c, comps, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "controller-ctrl1", "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"controller-ctrl1.env", "controller-ctrl1/conf/dbgpt.toml"} {
		if err := os.WriteFile(filepath.Join(dir, rel), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Write(filepath.Join(dir, ComposeFile)); err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]os.FileMode{
		"controller-ctrl1.env":             0o600,
		"controller-ctrl1/conf/dbgpt.toml": 0o600,
		"db.env":                           0o600,
		"worker-llm/dbgpt.toml":            0o644,
		ComposeFile:                        0o644,
		".env":                             0o644,
	} {
		st, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Error(err)
			continue
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %o, want %o", rel, st.Mode().Perm(), want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "controller-ctrl1/conf/dbgpt.toml")); string(b) != "pw = 'x'\n" {
		t.Errorf("settings file content %q", b)
	}
	if st, err := os.Stat(filepath.Join(dir, "worker-llm")); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("component directory: %v %v", st, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*", ".hactl-*"))
	top, _ := filepath.Glob(filepath.Join(dir, ".hactl-*"))
	if len(left)+len(top) > 0 {
		t.Errorf("temporary files left: %v %v", left, top)
	}
}

func TestWriteFailsOnAFileAsDirectory(t *testing.T) {
	_, p := buildHA(t)
	dir := t.TempDir()
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Write(filepath.Join(blocker, ComposeFile)); err == nil {
		t.Error("Write under a regular file succeeded")
	}
	// A component directory that is a file.
	if err := os.WriteFile(filepath.Join(dir, "worker-llm"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Write(filepath.Join(dir, ComposeFile)); err == nil || !strings.Contains(err.Error(), "worker-llm") {
		t.Errorf("err = %v", err)
	}
}

// The YAML is narrowed to what docker-compose v1 reads too.
func TestYAMLIsComposeV1Shaped(t *testing.T) {
	_, p := buildHA(t)
	y, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(y)
	if !strings.HasPrefix(s, "# Written by hactl") {
		t.Errorf("no header:\n%.200s", s)
	}
	for _, bad := range []string{"\nname:", "required:", "create_host_path", "restart: false", "path: ./"} {
		if strings.Contains(s, bad) {
			t.Errorf("YAML contains %q:\n%s", bad, s)
		}
	}
	for _, good := range []string{"- ./controller-ctrl1.env", "condition: service_healthy", "$$5", "read_only: true"} {
		if !strings.Contains(s, good) {
			t.Errorf("YAML lacks %q:\n%s", good, s)
		}
	}
}

// The webserver's data directory is a named volume of its own, whatever the
// meta database; the file hactl writes there (for the SSH provider) is not
// in the project: the volume is mounted over it.
func TestBuildWebserverDataVolume(t *testing.T) {
	c := adaptedHA(t, nil)
	p, err := Build(c, fakeComponents(c), BuildOptions{NoPull: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Compose.Volumes[WebserverDataVolume]; !ok || len(p.Compose.Volumes) != 2 {
		t.Errorf("volumes %v, want %s and the registry's", p.Compose.Volumes, WebserverDataVolume)
	}
	var got []string
	for _, v := range p.Compose.Services["webserver"].Volumes {
		if v.Type == types.VolumeTypeVolume {
			got = append(got, v.Source+":"+v.Target)
		}
	}
	if want := WebserverDataVolume + ":" + ContainerDir + "/data"; len(got) != 1 || got[0] != want {
		t.Errorf("webserver volumes %v, want %s", got, want)
	}
	for name, s := range p.Compose.Services {
		if name == "webserver" {
			continue
		}
		for _, v := range s.Volumes {
			if v.Source == WebserverDataVolume {
				t.Errorf("service %s mounts the webserver's volume", name)
			}
		}
	}
	for _, f := range p.Files {
		if strings.HasPrefix(f.Path, "webserver/data/") {
			t.Errorf("file %s written under the data volume's mount point", f.Path)
		}
	}
	// No settings file left (0.6): no bind mount of a directory never written.
	for _, v := range p.Compose.Services["webserver"].Volumes {
		if v.Type == types.VolumeTypeBind {
			t.Errorf("webserver binds %s with no file written there", v.Source)
		}
	}
}
