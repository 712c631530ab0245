package schema

import (
	"maps"
	"net"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/hactl/hactl/internal/defaults"
)

// serverDecl is a server block with the defaults block behind it.
type serverDecl struct {
	block   *hcl.Block
	content *hcl.BodyContent
}

var safeNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (d *decoder) decode(src []byte) *Cluster {
	c := d.decodeBlocks(src)
	if c != nil {
		d.validate()
	}
	return c
}

// decodeBlocks decodes every block on its own, without the rules that look
// at several blocks (validate).
func (d *decoder) decodeBlocks(src []byte) *Cluster {
	f, diags := parseConfig(src, d.filename, &d.budget)
	if f != nil {
		d.parser.AddFile(d.filename, f)
	}
	d.addAll(diags)
	if diags.HasErrors() || f == nil {
		return nil
	}
	content, diags := f.Body.Content(topSchema())
	d.addAll(diags)

	c := &Cluster{Filename: d.filename, Compose: &Compose{}}
	d.cluster = c
	d.variables = map[string]*variable{}
	d.locals = map[string]*hcl.Attribute{}
	d.servers = map[string]*Server{}
	d.models = map[string]*Model{}
	d.serverRaw = map[string]*serverDecl{}

	byType := d.blocksByType(content.Blocks)
	if len(byType["cluster"]) == 0 {
		rng := hcl.Range{Filename: d.filename, Start: hcl.InitialPos, End: hcl.InitialPos}
		d.add(errorf(&rng, "Missing cluster block", "A cluster file needs a cluster block naming the cluster: cluster { name = \"...\" }."))
	}

	for _, b := range byType["variable"] {
		d.decodeVariable(b)
	}
	d.resolveVariables()
	for _, b := range byType["locals"] {
		d.collectLocals(b)
	}
	d.evaluateLocals()

	for _, b := range byType["cluster"] {
		d.decodeCluster(b)
	}
	if c.Version == "" {
		c.Version, c.Generation = defaults.DBGPTVersion, GenerationFlags
	}

	var shared *hcl.BodyContent // the defaults block
	for _, b := range byType["defaults"] {
		content, diags := b.Body.Content(defaultsSpec.bodySchema())
		d.addAll(diags)
		shared = content
	}
	for _, b := range byType["server"] {
		content, diags := b.Body.Content(serverSpec.bodySchema())
		d.addAll(diags)
		d.serverRaw[b.Labels[0]] = &serverDecl{block: b, content: content}
	}
	for _, b := range byType["server"] {
		d.decodeServer(d.serverRaw[b.Labels[0]], shared)
	}
	for _, b := range byType["model"] {
		d.decodeModel(b)
	}
	if bs := byType["registry"]; len(bs) > 0 {
		d.decodeRegistry(bs[0])
	} else {
		c.Registry = &Registry{Type: RegistryEmbedded}
	}
	for _, b := range byType["controller"] {
		d.decodeController(b)
	}
	for _, b := range byType["worker"] {
		d.decodeWorker(b)
	}
	for _, b := range byType["webserver"] {
		d.decodeWebserver(b)
	}
	for _, b := range byType["apiserver"] {
		d.decodeAPIServer(b)
	}
	d.decodeCompose(byType["compose"])
	return c
}

// blocksByType groups the top-level blocks by type, reporting and dropping
// a second block of a singleton type and a second block with a name
// already declared.
func (d *decoder) blocksByType(blocks hcl.Blocks) map[string][]*hcl.Block {
	byType := map[string][]*hcl.Block{}
	for _, b := range blocks {
		byType[b.Type] = append(byType[b.Type], b)
	}
	for _, spec := range topSpecs {
		blocks := byType[spec.Type]
		if !spec.Multiple && len(blocks) > 1 {
			for _, b := range blocks[1:] {
				rng := b.DefRange
				first := blocks[0].DefRange
				d.add(errorf(&rng, "Duplicate "+spec.Type+" block", "Only one %s block is allowed; the first is at %s.", spec.Type, first.String()))
			}
			byType[spec.Type] = blocks[:1]
		}
		if spec.Multiple && len(spec.Labels) > 0 {
			byType[spec.Type] = d.uniqueNames(spec, blocks)
		}
	}
	return byType
}

func (d *decoder) uniqueNames(spec *blockSpec, blocks []*hcl.Block) []*hcl.Block {
	seen := map[string]*hcl.Block{}
	var keep []*hcl.Block
	for _, b := range blocks {
		if first, dup := seen[b.Labels[0]]; dup {
			rng := b.LabelRanges[0]
			d.add(errorf(&rng, "Duplicate "+spec.Type+" name", "A %s named %q is already declared at %s.", spec.Type, b.Labels[0], first.DefRange.String()))
			continue
		}
		seen[b.Labels[0]] = b
		keep = append(keep, b)
	}
	return keep
}

func (d *decoder) collectLocals(b *hcl.Block) {
	attrs, diags := b.Body.JustAttributes()
	d.addAll(diags)
	for name, at := range attrs {
		if first, dup := d.locals[name]; dup {
			rng := at.NameRange
			d.add(errorf(&rng, "Duplicate local value", "A local value named %q is already declared at %s.", name, first.NameRange.String()))
			continue
		}
		d.locals[name] = at
	}
}

func (d *decoder) checkLabel(b *hcl.Block, what string) bool {
	name := b.Labels[0]
	if !safeNameRe.MatchString(name) || len(name) > 64 {
		rng := b.LabelRanges[0]
		d.add(errorf(&rng, "Invalid "+what+" name", "%q is not a safe name: use 1 to 64 letters, digits, '-', '_' and '.', starting with a letter or digit.", name))
		return false
	}
	return true
}

var versionRe = regexp.MustCompile(`^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*)(?:[-+.]?[A-Za-z0-9.]+)?)?$`)

// GenerationOf returns the DB-GPT generation of a version string, or "" when
// the version is malformed or older than 0.5.9.
func GenerationOf(version string) Generation {
	m := versionRe.FindStringSubmatch(version)
	if m == nil {
		return ""
	}
	major, minor, patch := atoi(m[1]), atoi(m[2]), atoi(m[3])
	switch {
	case major > 0 || minor >= 7:
		return GenerationTOML
	case minor == 6, minor == 5 && (m[3] == "" || patch >= 9):
		return GenerationFlags
	}
	return ""
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
		if n > 1<<20 {
			return n
		}
	}
	return n
}

func (d *decoder) decodeCluster(b *hcl.Block) {
	c := d.cluster
	c.DeclRange = b.DefRange
	content, diags := b.Body.Content(clusterSpec.bodySchema())
	d.addAll(diags)
	a := &attrs{d: d, own: content.Attributes, where: "the cluster block", allowed: []string{rootVar, rootLocal}, obj: c}
	if a.str("name", &c.Name) {
		if !safeNameRe.MatchString(c.Name) || len(c.Name) > 64 {
			d.add(errorf(d.rangeOf(c, "name", b.DefRange), "Invalid cluster name", "%q is not a safe name: use 1 to 64 letters, digits, '-', '_' and '.', starting with a letter or digit.", c.Name))
		}
	}
	var v string
	if a.str("dbgpt_version", &v) {
		g := GenerationOf(v)
		if g == "" {
			msg := "%q is not a DB-GPT version hactl supports: write it like \"0.6.3\" or \"0.7.0\" (0.5.9 or later)."
			d.add(errorf(d.rangeOf(c, "dbgpt_version", b.DefRange), "Unsupported DB-GPT version", msg, v))
		} else {
			c.Version, c.Generation = strings.TrimPrefix(v, "v"), g
		}
	}
}

func (d *decoder) expandHome(p string) string {
	if p == "~" {
		return d.home()
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(d.home(), p[2:])
	}
	return p
}

// localPath makes an operator-side path absolute: ~ expanded, relative to
// the cluster file's directory.
func (d *decoder) localPath(p string) string {
	p = d.expandHome(p)
	if !filepath.IsAbs(p) {
		p = filepath.Join(d.dir, p)
	}
	return filepath.Clean(p)
}

func (d *decoder) decodeServer(sd *serverDecl, shared *hcl.BodyContent) {
	b := sd.block
	name := b.Labels[0]
	d.checkLabel(b, "server")
	s := &Server{Name: name, Transport: TransportSSH, DeclRange: b.DefRange}
	s.SSH = SSHSettings{
		Port: defaults.SSHPort, User: defaults.SSHUser, HostKeyPolicy: HostKeyStrict,
		KnownHostsFile: defaults.KnownHostsFile, ConnectTimeout: defaults.ConnectTimeout, CommandTimeout: defaults.CommandTimeout,
	}
	s.DBGPTCommand = defaults.DBGPTCommand
	var fallback hcl.Attributes
	var fallbackBlocks hcl.Blocks
	if shared != nil {
		fallback = shared.Attributes
		fallbackBlocks = shared.Blocks
	}
	a := &attrs{d: d, own: sd.content.Attributes, fallback: fallback, where: "a server block", allowed: []string{rootVar, rootLocal}, obj: s}

	if a.str("transport", &s.Transport) && s.Transport != TransportSSH && s.Transport != TransportLocal {
		d.add(errorf(d.rangeOf(s, "transport", b.DefRange), "Invalid transport", "transport must be \"ssh\" or \"local\", not %q.", s.Transport))
	}
	if !a.str("address", &s.Address) {
		if s.Transport == TransportLocal {
			s.Address = defaults.LocalAddress
		} else if a.get("address") == nil {
			rng := b.DefRange
			d.add(errorf(&rng, "Missing server address", "Server %q needs an address (hactl connects to it over SSH and the other components reach it there).", name))
		}
	} else if !validHost(s.Address) {
		d.add(errorf(d.rangeOf(s, "address", b.DefRange), "Invalid address", "%q is not a host name or IP address.", s.Address))
	}
	a.str("user", &s.SSH.User)
	if s.SSH.User == "" {
		d.add(errorf(d.rangeOf(s, "user", b.DefRange), "Invalid user", "The SSH user of server %q is empty.", name))
	}
	a.port("ssh_port", &s.SSH.Port)
	if a.str("key_file", &s.SSH.KeyFile) && s.SSH.KeyFile != "" {
		s.SSH.KeyFile = d.localPath(s.SSH.KeyFile)
	}
	if !a.boolean("use_agent", &s.SSH.UseAgent) {
		s.SSH.UseAgent = s.SSH.KeyFile == ""
	}
	if a.str("host_key_policy", &s.SSH.HostKeyPolicy) {
		switch s.SSH.HostKeyPolicy {
		case HostKeyStrict, HostKeyAcceptNew, HostKeyInsecure:
		default:
			d.add(errorf(d.rangeOf(s, "host_key_policy", b.DefRange), "Invalid host key policy",
				"host_key_policy must be \"strict\", \"accept-new\" or \"insecure\", not %q.%s", s.SSH.HostKeyPolicy,
				didYouMeanVar(s.SSH.HostKeyPolicy, []string{HostKeyStrict, HostKeyAcceptNew, HostKeyInsecure})))
		}
	}
	a.str("known_hosts_file", &s.SSH.KnownHostsFile)
	s.SSH.KnownHostsFile = d.localPath(s.SSH.KnownHostsFile)
	a.boolean("sudo", &s.SSH.Sudo)
	d.decodeRunAs(a, s, b.DefRange)
	d.decodeLogMaxSize(a, s, b.DefRange)
	a.duration("connect_timeout", &s.SSH.ConnectTimeout)
	a.duration("command_timeout", &s.SSH.CommandTimeout)
	if a.str("dbgpt_command", &s.DBGPTCommand) {
		argv, err := splitCommand(s.DBGPTCommand)
		if err != nil {
			d.add(errorf(d.rangeOf(s, "dbgpt_command", b.DefRange), "Invalid dbgpt_command", "dbgpt_command %q: %s.", s.DBGPTCommand, err))
		}
		s.DBGPTArgv = argv
	}
	if len(s.DBGPTArgv) == 0 {
		s.DBGPTArgv = []string{defaults.DBGPTCommand}
	}
	d.decodeServerEnv(sd, shared, s)
	d.decodeDeployDir(a, s, b.DefRange)

	jumps := sd.content.Blocks.OfType("jump")
	if len(jumps) == 0 {
		jumps = fallbackBlocks.OfType("jump")
	}
	for i, jb := range jumps {
		if i > 0 {
			rng := jb.DefRange
			d.add(errorf(&rng, "Duplicate jump block", "A server has at most one jump host."))
			break
		}
		s.SSH.Jump = d.decodeJump(jb, s)
	}
	d.servers[name] = s
	d.changed(rootServer)
	d.cluster.Servers = append(d.cluster.Servers, s)
}

// userNameRe is a portable user name (useradd's default NAME_REGEX, with
// upper case allowed): it goes into shell commands and systemd units.
var userNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,31}$`)

// decodeRunAs reads run_as: another user than the one hactl's commands run
// as needs root to switch to it (and to chown the files).
func (d *decoder) decodeRunAs(a *attrs, s *Server, def hcl.Range) {
	if !a.str("run_as", &s.RunAs) {
		return
	}
	rng := d.rangeOf(s, "run_as", def)
	switch cu := s.CommandUser(); {
	case !userNameRe.MatchString(s.RunAs):
		d.add(errorf(rng, "Invalid run_as", "run_as %q is not a user name (letters, digits, `_`, `.`, `-`, at most 32, not starting with a digit, `.` or `-`).", s.RunAs))
		s.RunAs = ""
	case s.RunAs != cu && cu != "root":
		d.add(errorf(rng, "run_as needs root",
			"Server %q runs hactl's commands as %q, which cannot start processes as %q or give it their files: set sudo = true (or user = \"root\"), or leave run_as out to run them as %q.", s.Name, cu, s.RunAs, cu))
	}
}

// decodeLogMaxSize reads log_max_size (default DefaultLogMaxSize).
func (d *decoder) decodeLogMaxSize(a *attrs, s *Server, def hcl.Range) {
	s.LogMaxSize = DefaultLogMaxSize
	var v string
	if !a.str("log_max_size", &v) {
		return
	}
	rng := d.rangeOf(s, "log_max_size", def)
	n, err := ParseSize(v)
	switch {
	case err != nil:
		d.add(errorf(rng, "Invalid log_max_size", "log_max_size: %s.", err))
	case n < MinLogMaxSize:
		d.add(errorf(rng, "log_max_size too small", "log_max_size %q is less than the minimum of %s: the log is checked once a second, and a smaller cap would rotate away the lines that tell why a process failed.", v, FormatSize(MinLogMaxSize)))
	default:
		s.LogMaxSize = n
	}
}

func (d *decoder) decodeDeployDir(a *attrs, s *Server, def hcl.Range) {
	if !a.str("deploy_dir", &s.DeployDir) {
		if d.cluster.Name != "" {
			s.DeployDir = defaults.DeployRoot + "/" + d.cluster.Name
		}
		return
	}
	switch {
	case s.Transport == TransportLocal && !filepath.IsAbs(d.expandHome(s.DeployDir)):
		s.DeployDir = d.localPath(s.DeployDir)
	case !path.IsAbs(s.DeployDir):
		d.add(errorf(d.rangeOf(s, "deploy_dir", def), "Deploy directory not absolute",
			"deploy_dir %q must be an absolute path on the server (relative paths are allowed only with transport = \"local\").", s.DeployDir))
	case path.Clean(s.DeployDir) == "/":
		d.add(errorf(d.rangeOf(s, "deploy_dir", def), "Unsafe deploy directory", "deploy_dir must not be /: hactl removes files under it."))
	default:
		s.DeployDir = path.Clean(s.DeployDir)
	}
	if path.IsAbs(s.DeployDir) && s.DeployDir != "/" {
		d.checkPathLimits(d.rangeOf(s, "deploy_dir", def), s.DeployDir)
	}
}

// Limits of Linux file systems (limits.h): a path of at most PATH_MAX bytes
// with its terminating NUL, each name in it at most NAME_MAX bytes. hactl
// puts component directories (a block name, at most 64 bytes, and a role)
// and its files under deploy_dir: maxDeployDir leaves room for them.
const (
	pathMax      = 4096
	nameMax      = 255
	maxDeployDir = pathMax - 1 - 256
)

// checkPathLimits refuses a deploy directory that the file system would
// refuse only at apply, and one with a backslash: systemd reads a trailing
// backslash in a unit's value as a line continuation.
func (d *decoder) checkPathLimits(rng *hcl.Range, dir string) {
	switch {
	case len(dir) > maxDeployDir:
		d.add(errorf(rng, "Deploy directory too long",
			"deploy_dir is %d bytes long; with the component directories and files hactl puts under it, paths would pass the file system's limit of %d bytes (PATH_MAX). Use at most %d bytes.", len(dir), pathMax, maxDeployDir))
		return
	case strings.Contains(dir, `\`):
		d.add(errorf(rng, "Unsafe deploy directory", "deploy_dir %q contains a backslash, which the shell scripts and systemd units hactl writes would read as an escape.", dir))
		return
	}
	for _, name := range strings.Split(dir, "/") {
		if len(name) > nameMax {
			d.add(errorf(rng, "Deploy directory too long",
				"deploy_dir has a directory name of %d bytes (%.20q...); file systems allow at most %d bytes in one name (NAME_MAX).", len(name), name, nameMax))
			return
		}
	}
}

// decodeJump decodes server s's jump block (its own or the defaults
// block's); user and key_file default to the server's.
func (d *decoder) decodeJump(jb *hcl.Block, s *Server) *JumpHost {
	content, diags := jb.Body.Content(jumpSpec.bodySchema())
	d.addAll(diags)
	j := &JumpHost{Port: defaults.SSHPort, User: s.SSH.User, KeyFile: s.SSH.KeyFile}
	ja := &attrs{d: d, own: content.Attributes, where: "a jump block", allowed: []string{rootVar, rootLocal}, obj: j}
	if ja.str("address", &j.Address) && !validHost(j.Address) {
		d.add(errorf(d.rangeOf(j, "address", jb.DefRange), "Invalid address", "%q is not a host name or IP address.", j.Address))
	}
	ja.port("port", &j.Port)
	ja.str("user", &j.User)
	if ja.str("key_file", &j.KeyFile) && j.KeyFile != "" {
		j.KeyFile = d.localPath(j.KeyFile)
	}
	if s.Transport == TransportLocal {
		rng := jb.DefRange
		d.add(errorf(&rng, "Jump host with local transport", "Server %q uses transport = \"local\"; a jump host makes no sense there.", s.Name))
	}
	return j
}

var hostnameRe = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)

// validHost accepts a host name or an IPv4 or IPv6 address (no port).
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	return len(h) <= 253 && hostnameRe.MatchString(h)
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (d *decoder) decodeModel(b *hcl.Block) {
	name := b.Labels[0]
	d.checkLabel(b, "model")
	m := &Model{Name: name, DeclRange: b.DefRange}
	content, diags := b.Body.Content(modelSpec.bodySchema())
	d.addAll(diags)
	a := &attrs{d: d, own: content.Attributes, where: "a model block", allowed: []string{rootVar, rootLocal}, obj: m}
	if a.str("type", &m.WorkerType) {
		switch m.WorkerType {
		case WorkerTypeLLM, WorkerTypeText2Vec, WorkerTypeReranker:
		default:
			d.add(errorf(d.rangeOf(m, "type", b.DefRange), "Invalid model type",
				"A model's type is \"llm\", \"text2vec\" or \"reranker\", not %q.%s", m.WorkerType,
				didYouMeanVar(m.WorkerType, []string{WorkerTypeLLM, WorkerTypeText2Vec, WorkerTypeReranker})))
		}
	}
	a.str("provider", &m.Provider)
	if a.str("path", &m.Path) {
		if !path.IsAbs(m.Path) {
			d.add(errorf(d.rangeOf(m, "path", b.DefRange), "Model path not absolute",
				"The path of model %q must be absolute on the worker's server, not %q.", name, m.Path))
		} else {
			m.Path = path.Clean(m.Path)
		}
	}
	if m.Provider == "" && (m.Path != "" || a.get("path") != nil) {
		m.Provider = ProviderHF
	}
	switch {
	case m.IsProxy() && a.get("path") != nil:
		d.add(errorf(d.rangeOf(m, "path", b.DefRange), "Path for a proxy model",
			"Model %q is served by %s, a remote API: it has no weights, so it takes no path. Remove path.", name, m.Provider))
	case !m.IsProxy() && a.get("path") == nil:
		rng := b.DefRange
		d.add(errorf(&rng, "Missing model path", "Model %q needs a path (only proxy/... providers work without one).", name))
	}
	if a.str("api_base", &m.APIBase) {
		if u, err := url.Parse(m.APIBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.add(errorf(d.rangeOf(m, "api_base", b.DefRange), "Invalid api_base", "api_base %q is not an http:// or https:// URL.", m.APIBase))
		}
	}
	if a.secret("api_key", &m.APIKey) {
		if at := a.get("api_key"); at != nil && len(at.Expr.Variables()) == 0 && m.APIKey.IsSet() {
			rng := at.Expr.Range()
			d.add(warnf(&rng, "API key written in the cluster file", "The API key of model %q is written literally in the file. Use a sensitive variable and pass the value with -var-file, -var or %sNAME.", name, EnvVarPrefix))
		}
		if strings.ContainsAny(m.APIKey.Reveal(), "\n\r") {
			d.add(errorf(d.rangeOf(m, "api_key", b.DefRange), "Invalid API key", "The API key of model %q holds a line break.", name))
		}
	}
	a.str("backend", &m.Backend)
	a.duration("start_timeout", &m.StartTimeout) // refuses a duration that is not positive
	for _, attr := range []string{"api_base", "api_key", "backend"} {
		if a.get(attr) != nil && !m.IsProxy() && m.Provider != "" {
			d.add(errorf(d.rangeOf(m, attr, b.DefRange), "Setting only for proxy models",
				"%s is a setting of proxy models; model %q is served by %s. Set provider = \"proxy/...\" or remove %s.", attr, name, m.Provider, attr))
		}
	}
	if a.strMap("params", &m.Params, true) {
		reserved := ReservedParams(d.cluster.Generation)
		for _, k := range slices.Sorted(maps.Keys(m.Params)) {
			if !identRe.MatchString(k) {
				d.add(errorf(d.rangeOf(m, "params", b.DefRange), "Invalid parameter name",
					"Parameter name %q must be an identifier (letters, digits, '_'): it becomes --%s or a TOML key.", k, k))
			} else if from, ok := reserved[k]; ok {
				d.add(errorf(paramKeyRange(a.get("params"), k, d.rangeOf(m, "params", b.DefRange)), "Reserved parameter name",
					"hactl sets %q itself for DB-GPT %s, from %s; a param of that name would silently override it. Set it there instead.", k, d.cluster.Generation, from))
			} else if ref := tomlEnvRef(d.cluster, cty.StringVal(m.Params[k])); ref != "" {
				d.add(errorf(paramKeyRange(a.get("params"), k, d.rangeOf(m, "params", b.DefRange)), "Environment reference in value",
					"The value of %q holds %q. DB-GPT %s expands ${env:NAME} anywhere in its configuration file and has no way to escape it. Remove it; a secret belongs in a sensitive variable, which hactl passes through the environment itself.", k, ref, d.cluster.Generation))
			}
		}
		m.ParamRanges = map[string]hcl.Range{}
		for k := range m.Params {
			m.ParamRanges[k] = *paramKeyRange(a.get("params"), k, d.rangeOf(m, "params", b.DefRange))
		}
	}
	d.models[name] = m
	d.changed(rootModel)
	d.cluster.Models = append(d.cluster.Models, m)
}

var sqlIdentRe = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

func (d *decoder) decodeRegistry(b *hcl.Block) {
	typ := b.Labels[0]
	r := &Registry{Type: typ, DeclRange: b.DefRange}
	d.cluster.Registry = r
	allowed, known := registryAttrs[typ]
	if !known {
		rng := b.LabelRanges[0]
		d.add(errorf(&rng, "Invalid registry type", "The registry type is \"mysql\", \"sqlite\" or \"embedded\", not %q.%s", typ,
			didYouMeanVar(typ, []string{RegistryMySQL, RegistrySQLite, RegistryEmbedded})))
		r.Type = RegistryEmbedded
		return
	}
	s := &hcl.BodySchema{}
	for _, n := range allowed {
		req := false
		for _, rn := range registryRequired[typ] {
			req = req || rn == n
		}
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: n, Required: req})
	}
	content, diags := b.Body.Content(s)
	for _, diag := range diags {
		if diag.Summary == "Unsupported argument" {
			diag.Detail = strings.TrimSuffix(diag.Detail, ".") + " in a " + typ + " registry. It takes: " + strings.Join(allowed, ", ") + "."
			if len(allowed) == 0 {
				diag.Detail = "An embedded (in-memory) registry takes no arguments."
			}
		}
	}
	d.addAll(diags)
	a := &attrs{d: d, own: content.Attributes, where: "the registry block", allowed: []string{rootVar, rootLocal, rootServer}, obj: r}
	switch typ {
	case RegistryMySQL:
		r.Port = defaults.MySQLPort
		if a.str("host", &r.Host) && !validHost(r.Host) {
			d.add(errorf(d.rangeOf(r, "host", b.DefRange), "Invalid address", "%q is not a host name or IP address.", r.Host))
		}
		a.port("port", &r.Port)
		for _, f := range []struct {
			name string
			dst  *string
			max  int
		}{{"database", &r.Database, 64}, {"user", &r.User, 32}} {
			if a.str(f.name, f.dst) && (!sqlIdentRe.MatchString(*f.dst) || len(*f.dst) > f.max) {
				d.add(errorf(d.rangeOf(r, f.name, b.DefRange), "Unsafe SQL identifier",
					"The registry %s %q must be 1 to %d letters, digits or '_': hactl writes it into SQL statements.", f.name, *f.dst, f.max))
			}
		}
		if a.secret("password", &r.Password) {
			if at := a.get("password"); at != nil && len(at.Expr.Variables()) == 0 && r.Password.IsSet() {
				rng := at.Expr.Range()
				d.add(warnf(&rng, "Password written in the cluster file", "The registry password is written literally in the file. Use a sensitive variable and pass the value with -var-file, -var or %sNAME.", EnvVarPrefix))
				d.sensitive(r.Password.Reveal())
			}
		}
		a.boolean("create_database", &r.CreateDatabase)
		a.positive("pool_size", &r.PoolSize)
		a.positive("max_overflow", &r.MaxOverflow)
	case RegistrySQLite:
		if a.str("path", &r.Path) {
			if !path.IsAbs(r.Path) {
				d.add(errorf(d.rangeOf(r, "path", b.DefRange), "Registry path not absolute", "The SQLite registry path must be absolute on the controllers' server, not %q.", r.Path))
			} else {
				r.Path = path.Clean(r.Path)
			}
		}
	}
}

func (d *decoder) logLevel(a *attrs, obj any, dst *string, def hcl.Range) {
	*dst = defaults.LogLevel
	if a.str("log_level", dst) {
		*dst = strings.ToUpper(*dst)
		switch *dst {
		case "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL":
		default:
			d.add(errorf(d.rangeOf(obj, "log_level", def), "Invalid log level", "log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not %q.", *dst))
		}
	}
}

var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (d *decoder) decodeEnv(a *attrs, obj any, dst *map[string]string, def hcl.Range) {
	*dst = map[string]string{}
	if a.strMap("env", dst, true) {
		for k := range *dst {
			if !envNameRe.MatchString(k) {
				d.add(errorf(d.rangeOf(obj, "env", def), "Invalid environment variable name", "%q is not a valid environment variable name (letters, digits, '_', not starting with a digit).", k))
			}
		}
	}
}

func (d *decoder) bindHost(a *attrs, obj any, dst *string, def hcl.Range) {
	*dst = defaults.BindHost
	if a.str("host", dst) && !validHost(*dst) {
		d.add(errorf(d.rangeOf(obj, "host", def), "Invalid bind address", "host %q is not an IP address or host name to bind to.", *dst))
	}
}

// extraArgs decodes a component's extra_args (a sensitive value is refused
// where the list is evaluated: it would be on a command line).
func (d *decoder) extraArgs(a *attrs, obj any, dst *[]string, def hcl.Range) {
	if a.strList("extra_args", dst) {
		for _, arg := range *dst {
			if arg == "" {
				d.add(errorf(d.rangeOf(obj, "extra_args", def), "Empty argument", "extra_args contains an empty string."))
				return
			}
		}
	}
}

// decodeServerEnv decodes the env of the defaults block and of server s;
// the server's entries win.
func (d *decoder) decodeServerEnv(sd *serverDecl, shared *hcl.BodyContent, s *Server) {
	s.Env = map[string]string{}
	if shared != nil && shared.Attributes["env"] != nil {
		if d.defaultsEnv == nil {
			env := map[string]string{}
			da := &attrs{d: d, own: shared.Attributes, where: "the defaults block", allowed: []string{rootVar, rootLocal}, obj: s}
			d.decodeEnv(da, s, &env, shared.Attributes["env"].Range)
			d.defaultsEnv = &env
		}
		maps.Copy(s.Env, *d.defaultsEnv)
	}
	if sd.content.Attributes["env"] != nil {
		var env map[string]string
		sa := &attrs{d: d, own: sd.content.Attributes, where: "a server block", allowed: []string{rootVar, rootLocal}, obj: s}
		d.decodeEnv(sa, s, &env, sd.block.DefRange)
		maps.Copy(s.Env, env)
	}
}

func componentAllowed() []string { return []string{rootVar, rootLocal, rootServer, rootModel} }

func (d *decoder) decodeController(b *hcl.Block) {
	d.checkLabel(b, "controller")
	ctl := &Controller{Name: b.Labels[0], Port: defaults.ControllerPort, HeartbeatIntervalSecs: defaults.HeartbeatIntervalSecs,
		HeartbeatTimeoutSecs: defaults.HeartbeatTimeoutSecs, DeclRange: b.DefRange}
	content, diags := b.Body.Content(controllerSpec.bodySchema())
	d.addAll(diags)
	a := &attrs{d: d, own: content.Attributes, where: "a controller block", allowed: componentAllowed(), obj: ctl}
	ctl.Server = a.serverRef("server")
	d.bindHost(a, ctl, &ctl.Host, b.DefRange)
	a.port("port", &ctl.Port)
	a.positive("heartbeat_interval", &ctl.HeartbeatIntervalSecs)
	a.positive("heartbeat_timeout", &ctl.HeartbeatTimeoutSecs)
	d.logLevel(a, ctl, &ctl.LogLevel, b.DefRange)
	d.decodeEnv(a, ctl, &ctl.Env, b.DefRange)
	d.cluster.Controllers = append(d.cluster.Controllers, ctl)
}

func (d *decoder) decodeWorker(b *hcl.Block) {
	d.checkLabel(b, "worker")
	w := &Worker{Name: b.Labels[0], Port: defaults.WorkerPort, HeartbeatIntervalSecs: defaults.HeartbeatIntervalSecs, DeclRange: b.DefRange}
	content, diags := b.Body.Content(workerSpec.bodySchema())
	d.addAll(diags)
	a := &attrs{d: d, own: content.Attributes, where: "a worker block", allowed: componentAllowed(), obj: w}
	w.Server = a.serverRef("server")
	w.Model = a.modelRef("model")
	d.bindHost(a, w, &w.Host, b.DefRange)
	a.port("port", &w.Port)
	a.str("device", &w.Device)
	a.positive("heartbeat_interval", &w.HeartbeatIntervalSecs)
	a.positive("limit_model_concurrency", &w.LimitConcurrency)
	a.str("prompt_template", &w.PromptTemplate)
	d.logLevel(a, w, &w.LogLevel, b.DefRange)
	d.extraArgs(a, w, &w.ExtraArgs, b.DefRange)
	d.decodeEnv(a, w, &w.Env, b.DefRange)
	d.cluster.Workers = append(d.cluster.Workers, w)
}

func (d *decoder) decodeWebserver(b *hcl.Block) {
	ws := &Webserver{Name: RoleWebserver, Port: defaults.WebserverPort, Light: defaults.WebserverLight, DeclRange: b.DefRange}
	content, diags := b.Body.Content(webserverSpec.bodySchema())
	d.addAll(diags)
	a := &attrs{d: d, own: content.Attributes, where: "the webserver block", allowed: componentAllowed(), obj: ws}
	ws.Server = a.serverRef("server")
	d.bindHost(a, ws, &ws.Host, b.DefRange)
	a.port("port", &ws.Port)
	a.boolean("light", &ws.Light)
	a.boolean("remote_embedding", &ws.RemoteEmbedding)
	a.boolean("remote_rerank", &ws.RemoteRerank)
	ws.DefaultLLM = a.modelRef("default_llm")
	ws.DefaultEmbedding = a.modelRef("default_embedding")
	d.logLevel(a, ws, &ws.LogLevel, b.DefRange)
	ws.MetaDatabase = MetaDatabaseSQLite
	if a.str("meta_database", &ws.MetaDatabase) && ws.MetaDatabase != MetaDatabaseSQLite && ws.MetaDatabase != MetaDatabaseRegistry {
		d.add(errorf(d.rangeOf(ws, "meta_database", b.DefRange), "Invalid meta database",
			"meta_database must be %q (a file in the webserver's data directory) or %q (the cluster's MySQL registry database), not %q.",
			MetaDatabaseSQLite, MetaDatabaseRegistry, ws.MetaDatabase))
	}
	d.extraArgs(a, ws, &ws.ExtraArgs, b.DefRange)
	d.decodeEnv(a, ws, &ws.Env, b.DefRange)
	d.cluster.Webserver = ws
}

func (d *decoder) decodeAPIServer(b *hcl.Block) {
	as := &APIServer{Name: RoleAPIServer, Port: defaults.APIServerPort, APIKeys: []Secret{}, DeclRange: b.DefRange}
	content, diags := b.Body.Content(apiserverSpec.bodySchema())
	d.addAll(diags)
	a := &attrs{d: d, own: content.Attributes, where: "the apiserver block", allowed: componentAllowed(), obj: as}
	as.Server = a.serverRef("server")
	d.bindHost(a, as, &as.Host, b.DefRange)
	a.port("port", &as.Port)
	if a.secretList("api_keys", &as.APIKeys) {
		for _, k := range as.APIKeys {
			if k.Reveal() == "" || strings.ContainsAny(k.Reveal(), ", ") {
				d.add(errorf(d.rangeOf(as, "api_keys", b.DefRange), "Invalid API key", "API keys must be non-empty and contain no commas or spaces (DB-GPT reads them as one comma-separated list)."))
				break
			}
		}
	}
	d.logLevel(a, as, &as.LogLevel, b.DefRange)
	d.extraArgs(a, as, &as.ExtraArgs, b.DefRange)
	d.decodeEnv(a, as, &as.Env, b.DefRange)
	d.cluster.APIServer = as
}

func (d *decoder) decodeCompose(blocks []*hcl.Block) {
	cp := d.cluster.Compose
	// Compose project names are lower case, without dots.
	cp.Project = strings.ReplaceAll(strings.ToLower(d.cluster.Name), ".", "-")
	cp.DatabaseImage = defaults.ComposeDatabaseImage
	cp.ManagedDatabase = defaults.ComposeManagedDatabase
	cp.PublishAddress = defaults.ComposePublishAddress
	cp.Publish = append([]string(nil), defaults.ComposePublish...)
	cp.Access = defaults.ComposeAccess
	if len(blocks) == 0 {
		return
	}
	b := blocks[0]
	cp.DeclRange = b.DefRange
	content, diags := b.Body.Content(composeSpec.bodySchema())
	d.addAll(diags)
	a := &attrs{d: d, own: content.Attributes, where: "the compose block", allowed: []string{rootVar, rootLocal}, obj: cp}
	if a.str("project", &cp.Project) && !composeProjectRe.MatchString(cp.Project) {
		d.add(errorf(d.rangeOf(cp, "project", b.DefRange), "Invalid compose project name", "%q is not a valid compose project name: lowercase letters, digits, '-' and '_', starting with a letter or digit.", cp.Project))
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"dbgpt_image", &cp.DBGPTImage}, {"database_image", &cp.DatabaseImage}} {
		if a.str(f.name, f.dst) && (*f.dst == "" || strings.ContainsAny(*f.dst, " ")) {
			d.add(errorf(d.rangeOf(cp, f.name, b.DefRange), "Invalid image", "%s %q is not an image reference.", f.name, *f.dst))
		}
	}
	a.boolean("managed_database", &cp.ManagedDatabase)
	a.str("database_volume", &cp.DatabaseVolume)
	a.secret("root_password", &cp.RootPassword)
	if a.str("models_dir", &cp.ModelsDir) && !path.IsAbs(cp.ModelsDir) {
		d.add(errorf(d.rangeOf(cp, "models_dir", b.DefRange), "models_dir not absolute", "models_dir must be an absolute host directory, not %q.", cp.ModelsDir))
	}
	if a.str("publish_address", &cp.PublishAddress) && net.ParseIP(cp.PublishAddress) == nil {
		d.add(errorf(d.rangeOf(cp, "publish_address", b.DefRange), "Invalid publish address", "publish_address must be an IP address of this machine (\"127.0.0.1\", \"0.0.0.0\", ...), not %q.", cp.PublishAddress))
	}
	if a.strList("publish", &cp.Publish) {
		seen := map[string]bool{}
		for _, p := range cp.Publish {
			if !slices.Contains(composePublishable, p) {
				d.add(errorf(d.rangeOf(cp, "publish", b.DefRange), "Invalid publish entry", "publish lists %q; allowed: %s.%s", p, quotedList(composePublishable), didYouMeanVar(p, composePublishable)))
			} else if seen[p] {
				d.add(errorf(d.rangeOf(cp, "publish", b.DefRange), "Duplicate publish entry", "publish lists %q twice.", p))
			}
			seen[p] = true
		}
	}
	if a.str("access", &cp.Access) && !slices.Contains(composeAccessModes, cp.Access) {
		d.add(errorf(d.rangeOf(cp, "access", b.DefRange), "Invalid access mode", "access must be one of %s, not %q.%s", quotedList(composeAccessModes), cp.Access, didYouMeanVar(cp.Access, composeAccessModes)))
	}
}

// composePublishable are the entries compose.publish allows.
var composePublishable = []string{"webserver", "apiserver", "controllers"}

// composeAccessModes are the values of compose.access.
var composeAccessModes = []string{"auto", "network", "exec"}

var composeProjectRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// paramKeyRange is the range of key k in a params = { ... } attribute, or
// fallback when the value is not written as an object.
func paramKeyRange(at *hcl.Attribute, k string, fallback *hcl.Range) *hcl.Range {
	if at == nil {
		return fallback
	}
	oc, ok := at.Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return fallback
	}
	for _, item := range oc.Items {
		name := hcl.ExprAsKeyword(item.KeyExpr)
		if name == "" {
			if v, diags := item.KeyExpr.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
				name = v.AsString()
			}
		}
		if name == k {
			r := item.KeyExpr.Range()
			return &r
		}
	}
	return fallback
}
