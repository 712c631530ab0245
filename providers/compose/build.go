package compose

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/schema"
)

// ComposeFile is the name of the project file hactl writes (both compose v1
// and v2 find it by default).
const ComposeFile = "docker-compose.yml"

// dotEnvMarker starts the .env hactl writes; a .env without it is the
// user's and is never overwritten.
const dotEnvMarker = "# written by hactl: the compose project name"

// DefaultDatabaseImage is the managed database image when the file sets none.
const DefaultDatabaseImage = "mysql:8.0"

// Project is a compose project ready to be written: the compose-go model and
// the files that go next to the YAML (env files with secrets, each
// component's settings files).
type Project struct {
	Name    string
	Compose *types.Project
	// Files are relative to the directory of the YAML.
	Files []File
}

// File is one file written next to the YAML.
type File struct {
	Path    string // relative, slash-separated
	Content []byte
	Mode    os.FileMode
}

// BuildOptions tune Build.
type BuildOptions struct {
	// NoPull sets pull_policy: never on every service (docker compose v2
	// honours it; hactl's own pre-flight checks the images are local).
	NoPull bool
}

// Health check timing of every service.
var (
	healthInterval    = 3 * time.Second
	healthTimeout     = 5 * time.Second
	healthRetries     = uint64(5)
	healthStartPeriod = 60 * time.Second
)

// Build makes the compose project of an adapted cluster (see Adapt) and its
// rendered components. Only components listed in comps become services; a
// depends_on entry is written only for a service that is in the project.
func Build(c *schema.Cluster, comps []*plan.Component, opts BuildOptions) (*Project, error) {
	if !IsAdapted(c) && len(c.Servers) > 0 {
		return nil, fmt.Errorf("compose: Build needs the cluster from compose.Adapt")
	}
	if c.Compose == nil || c.Compose.DBGPTImage == "" {
		return nil, fmt.Errorf("compose: the compose block must set dbgpt_image (the image whose dbgpt command runs the components)")
	}
	name := ProjectName(c)
	if name == "" {
		return nil, fmt.Errorf("compose: project name %q (from the cluster name or compose.project) has no letter or digit", c.Name)
	}
	p := &Project{
		Name: name,
		Compose: &types.Project{
			Services: types.Services{},
			Networks: types.Networks{
				NetworkName: {Labels: types.Labels{LabelProject: name, LabelCluster: c.Name}},
			},
		},
	}
	// compose v1 rejects a top-level `name`; both v1 and v2 read the project
	// name from .env next to the file.
	p.addFile(".env", []byte(dotEnvMarker+"\nCOMPOSE_PROJECT_NAME="+name+"\n"), 0o644)

	byLevel := map[int][]string{}
	dbSvc := ""
	if Managed(c) {
		var err error
		if dbSvc, err = p.addDatabase(c); err != nil {
			return nil, err
		}
	}
	sorted := append([]*plan.Component(nil), comps...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Level < sorted[j].Level })
	if err := checkPublished(c, sorted); err != nil {
		return nil, err
	}
	for _, comp := range sorted {
		svc := ServiceForAddress(comp.Address)
		if _, dup := p.Compose.Services[svc]; dup {
			return nil, fmt.Errorf("compose: two components map to service %q", svc)
		}
		s, err := p.componentService(c, comp, svc)
		if err != nil {
			return nil, err
		}
		// Dependency order of an SSH apply: database → controllers →
		// workers → webserver/apiserver; each waits until the previous
		// level is healthy.
		deps := types.DependsOnConfig{}
		switch {
		case comp.Level <= 1:
			if dbSvc != "" {
				deps[dbSvc] = healthy()
			}
		default:
			for lvl := comp.Level - 1; lvl >= 1; lvl-- {
				if len(byLevel[lvl]) > 0 {
					for _, d := range byLevel[lvl] {
						deps[d] = healthy()
					}
					break
				}
			}
		}
		if len(deps) > 0 {
			s.DependsOn = deps
		}
		if opts.NoPull {
			s.PullPolicy = types.PullPolicyNever
		}
		p.Compose.Services[svc] = s
		byLevel[comp.Level] = append(byLevel[comp.Level], svc)
	}
	if opts.NoPull && dbSvc != "" {
		s := p.Compose.Services[dbSvc]
		s.PullPolicy = types.PullPolicyNever
		p.Compose.Services[dbSvc] = s
	}
	return p, nil
}

func healthy() types.ServiceDependency {
	return types.ServiceDependency{Condition: types.ServiceConditionHealthy, Required: true}
}

func (p *Project) addFile(rel string, content []byte, mode os.FileMode) {
	p.Files = append(p.Files, File{Path: rel, Content: content, Mode: mode})
}

func baseLabels(c *schema.Cluster, project, svc string) types.Labels {
	return types.Labels{LabelCluster: esc(c.Name), LabelProject: project, LabelService: svc}
}

func (p *Project) componentService(c *schema.Cluster, comp *plan.Component, svc string) (types.ServiceConfig, error) {
	// The hash label stays the one of the launch as rendered (plan compares it).
	l := comp.Launch.In(ContainerDir)
	labels := baseLabels(c, p.Name, svc)
	labels[LabelComponent] = esc(comp.Address)
	labels[LabelRole] = comp.Role
	labels[LabelName] = esc(comp.Name)
	labels[LabelPort] = strconv.Itoa(comp.Port)
	labels[LabelHash] = esc(comp.Hash)
	if len(comp.Attributes) > 0 {
		b, err := json.Marshal(comp.Attributes)
		if err != nil {
			return types.ServiceConfig{}, err
		}
		labels[LabelAttributes] = esc(string(b))
	}
	s := types.ServiceConfig{
		Name:    svc,
		Restart: types.RestartPolicyUnlessStopped,
		ContainerSpec: types.ContainerSpec{
			Image:      c.Compose.DBGPTImage,
			Entrypoint: types.ShellCommand{"dbgpt"},
			Command:    escAll(l.Args),
			Hostname:   svc,
			WorkingDir: ContainerDir,
			Labels:     labels,
			Networks:   map[string]*types.ServiceNetworkConfig{NetworkName: nil},
		},
	}
	if len(l.Env) > 0 {
		s.Environment = types.MappingWithEquals{}
		for k, v := range l.Env {
			v := esc(v)
			s.Environment[k] = &v
		}
	}
	if len(l.SecretEnv) > 0 {
		content, err := envFile(l.SecretEnv)
		if err != nil {
			return s, fmt.Errorf("compose: %s: %w", comp.Address, err)
		}
		rel := svc + ".env"
		p.addFile(rel, content, 0o600)
		s.EnvFiles = []types.EnvFile{{Path: "./" + rel, Required: true}}
	}
	if len(l.Files) > 0 {
		names := make([]string, 0, len(l.Files))
		for n := range l.Files {
			names = append(names, n)
		}
		sort.Strings(names)
		written := 0
		for _, n := range names {
			f := l.Files[n]
			clean := path.Clean(n)
			if comp.Role == schema.RoleWebserver && strings.HasPrefix(clean, dbgpt.DataDir+"/") {
				continue // the data volume is mounted over it
			}
			if path.IsAbs(clean) || strings.HasPrefix(clean, "..") {
				return s, fmt.Errorf("compose: %s: settings file %q must be relative to the component directory", comp.Address, n)
			}
			mode := os.FileMode(0o644)
			if f.Secret {
				mode = 0o600
			}
			p.addFile(svc+"/"+clean, f.Content, mode)
			written++
		}
		if written > 0 {
			s.Volumes = append(s.Volumes, types.ServiceVolumeConfig{
				Type: types.VolumeTypeBind, Source: "./" + svc, Target: ContainerDir,
			})
		}
	}
	if comp.Role == schema.RoleWebserver {
		p.addWebserverData(c, &s)
	}
	if comp.Role == schema.RoleWorker && c.Compose.ModelsDir != "" {
		s.Volumes = append(s.Volumes, types.ServiceVolumeConfig{
			Type: types.VolumeTypeBind, Source: c.Compose.ModelsDir, Target: c.Compose.ModelsDir, ReadOnly: true,
		})
	}
	var test []string
	switch comp.Role {
	case schema.RoleController:
		// Healthy only when the registry answers: /api/health is static,
		// /api/controller/models reads the database.
		test = httpCheck(comp.Port, "/api/controller/models", true)
	case schema.RoleWebserver:
		test = httpCheck(comp.Port, "/api/health", false)
	default:
		// A worker has no health route; its registration is checked by
		// hactl's health gates through every controller.
		test = tcpCheck(comp.Port)
	}
	s.HealthCheck = healthCheck(test)
	if pub, ok := Published(c, comp.Role, comp.Port); ok {
		s.Ports = []types.ServicePortConfig{pub}
	}
	return s, nil
}

// Published is the port mapping of a component of role and port when the
// compose block publishes its role: the container port at the same host
// port on compose.publish_address.
func Published(c *schema.Cluster, role string, port int) (types.ServicePortConfig, bool) {
	if c.Compose == nil || !c.Compose.Publishes(role) || port <= 0 {
		return types.ServicePortConfig{}, false
	}
	addr := c.Compose.PublishAddress
	if addr == "" {
		addr = "127.0.0.1"
	}
	return types.ServicePortConfig{Mode: "ingress", HostIP: addr, Target: uint32(port),
		Published: strconv.Itoa(port), Protocol: "tcp"}, true
}

// checkPublished refuses two published components on one host port.
func checkPublished(c *schema.Cluster, comps []*plan.Component) error {
	by := map[int]string{}
	for _, comp := range comps {
		if _, ok := Published(c, comp.Role, comp.Port); !ok {
			continue
		}
		if other, dup := by[comp.Port]; dup {
			return fmt.Errorf("compose: %s and %s would both be published on host port %d (compose.publish): give them different ports or publish fewer", other, comp.Address, comp.Port)
		}
		by[comp.Port] = comp.Address
	}
	return nil
}

// WebserverDataVolume is the webserver's named volume (scoped to the project
// by compose: <project>_webserver-data), mounted at its data directory
// (ContainerDir/data), where its SQLite meta database is (0.7: the
// [service.web.database] path; 0.6: LOCAL_DB_NAME). It outlives a replaced
// container and destroy; destroy --purge-registry removes it.
const WebserverDataVolume = "webserver-data"

func (p *Project) addWebserverData(c *schema.Cluster, s *types.ServiceConfig) {
	if p.Compose.Volumes == nil {
		p.Compose.Volumes = types.Volumes{}
	}
	p.Compose.Volumes[WebserverDataVolume] = types.VolumeConfig{Labels: types.Labels{LabelProject: p.Name, LabelCluster: esc(c.Name)}}
	s.Volumes = append(s.Volumes, types.ServiceVolumeConfig{
		Type: types.VolumeTypeVolume, Source: WebserverDataVolume, Target: ContainerDir + "/" + dbgpt.DataDir,
	})
}

func (p *Project) addDatabase(c *schema.Cluster) (string, error) {
	svc := DatabaseService(c)
	r := c.Registry
	image := c.Compose.DatabaseImage
	if image == "" {
		image = DefaultDatabaseImage
	}
	root := c.Compose.RootPassword
	if !root.IsSet() && r.User == "root" {
		root = r.Password
	}
	if !root.IsSet() {
		return "", fmt.Errorf("compose: the managed registry database needs compose.root_password (or registry user \"root\" with a password)")
	}
	if r.User == "root" && r.Password.IsSet() && r.Password.Reveal() != root.Reveal() {
		return "", fmt.Errorf("compose: registry user is root but its password differs from compose.root_password")
	}
	// Both the official mysql/mariadb images and hactl's test image read
	// these names; the database and user are also created by hactl itself
	// (the registry's Ensure), so an image that ignores them works too.
	secret := map[string]string{
		"MYSQL_ROOT_PASSWORD":   root.Reveal(),
		"MARIADB_ROOT_PASSWORD": root.Reveal(),
	}
	if r.User != "" && r.User != "root" && r.Password.IsSet() {
		secret["MYSQL_USER"], secret["MYSQL_PASSWORD"] = r.User, r.Password.Reveal()
		secret["MARIADB_USER"], secret["MARIADB_PASSWORD"] = r.User, r.Password.Reveal()
	}
	content, err := envFile(secret)
	if err != nil {
		return "", fmt.Errorf("compose: registry database: %w", err)
	}
	rel := svc + ".env"
	p.addFile(rel, content, 0o600)

	volKey := DefaultDatabaseVolume
	vol := types.VolumeConfig{Labels: types.Labels{LabelProject: p.Name, LabelCluster: esc(c.Name)}}
	if v := c.Compose.DatabaseVolume; v != "" {
		volKey = invalidName.ReplaceAllString(strings.ToLower(v), "-")
		vol.Name = esc(v)
	}
	if p.Compose.Volumes == nil {
		p.Compose.Volumes = types.Volumes{}
	}
	p.Compose.Volumes[volKey] = vol

	labels := baseLabels(c, p.Name, svc)
	labels[LabelRole] = RoleDatabase
	labels[LabelPort] = "3306"
	if err := databaseLabels(labels, c, p.Name); err != nil {
		return "", err
	}
	db := esc(r.Database)
	s := types.ServiceConfig{
		Name:    svc,
		Restart: types.RestartPolicyUnlessStopped,
		ContainerSpec: types.ContainerSpec{
			Image:       image,
			Hostname:    svc,
			Labels:      labels,
			Networks:    map[string]*types.ServiceNetworkConfig{NetworkName: nil},
			Environment: types.MappingWithEquals{"MYSQL_DATABASE": &db, "MARIADB_DATABASE": &db},
			EnvFiles:    []types.EnvFile{{Path: "./" + rel, Required: true}},
			Volumes: []types.ServiceVolumeConfig{{
				Type: types.VolumeTypeVolume, Source: volKey, Target: "/var/lib/mysql",
			}},
		},
	}
	// TCP to 127.0.0.1: the images' first-start bootstrap server listens on
	// the socket only, so this turns healthy when the real server is up.
	// mysqladmin ping succeeds even when access is denied: no credentials.
	s.HealthCheck = healthCheck([]string{"CMD-SHELL",
		"mysqladmin ping -h 127.0.0.1 -P 3306 --silent || mariadb-admin ping -h 127.0.0.1 -P 3306 --silent"})
	p.Compose.Services[svc] = s
	return svc, nil
}

func healthCheck(test []string) *types.HealthCheckConfig {
	iv, to, sp := types.Duration(healthInterval), types.Duration(healthTimeout), types.Duration(healthStartPeriod)
	r := healthRetries
	return &types.HealthCheckConfig{Test: test, Interval: &iv, Timeout: &to, Retries: &r, StartPeriod: &sp}
}

// httpCheck needs only bash in the image (no curl or wget in a slim image):
// an HTTP/1.0 GET over /dev/tcp that wants status 200 and, with wantList, a
// body that is a JSON list.
func httpCheck(port int, p string, wantList bool) []string {
	script := fmt.Sprintf(`exec 3<>/dev/tcp/127.0.0.1/%d && printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && r=$(cat <&3) && case "$r" in "HTTP/1."?" 200"*) ;; *) exit 1;; esac`, port, p)
	if wantList {
		script += ` && b=${r#*$'\r\n\r\n'} && case "$b" in "["*) exit 0;; esac; exit 1`
	}
	return []string{"CMD", "bash", "-c", esc(script)}
}

func tcpCheck(port int) []string {
	return []string{"CMD", "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d", port)}
}

// esc protects a value from compose's variable interpolation.
func esc(s string) string { return strings.ReplaceAll(s, "$", "$$") }

func escAll(in []string) types.ShellCommand {
	out := make(types.ShellCommand, len(in))
	for i, s := range in {
		out[i] = esc(s)
	}
	return out
}

// envFile renders KEY='value' lines that compose v1 (python-dotenv) and v2
// (compose-go) read back identically: single quotes, no interpolation, \'
// for a quote. A backslash or line break would be read differently by the
// two, so such values are refused (the error names the key, never the value).
func envFile(m map[string]string) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# written by hactl; secrets: keep this file mode 0600\n")
	for _, k := range keys {
		v := m[k]
		if strings.ContainsAny(v, "\\\n\r\x00") {
			return nil, fmt.Errorf("the value of %s contains a backslash or line break, which compose env files cannot carry portably", k)
		}
		fmt.Fprintf(&b, "%s='%s'\n", k, strings.ReplaceAll(v, "'", `\'`))
	}
	return []byte(b.String()), nil
}
