package compose

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/hactl/hactl/schema"
)

// TransportCompose marks the synthetic servers Adapt makes: one per
// component, named like its compose service.
const TransportCompose = "compose"

// ContainerDir is the component directory inside a container: the working
// directory of the dbgpt process, where the component's settings files are
// mounted (the DeployDir of every synthetic server).
const ContainerDir = "/hactl"

// DefaultDatabaseService is the managed database's service name when the
// registry host is not usable as one (an IP address, say).
const DefaultDatabaseService = "registry-db"

// DefaultDatabaseVolume is the managed database's named volume (scoped to the
// project by compose) when the compose block names none.
const DefaultDatabaseVolume = "registry-data"

// NetworkName is the key of the project's private network.
const NetworkName = "hactl"

// Labels set on every container hactl makes.
const (
	LabelCluster    = "dev.hactl.cluster"
	LabelProject    = "dev.hactl.project"
	LabelService    = "dev.hactl.service"
	LabelComponent  = "dev.hactl.component" // the plan address, e.g. controller.ctrl1
	LabelRole       = "dev.hactl.role"      // a schema role, or RoleDatabase
	LabelName       = "dev.hactl.name"
	LabelPort       = "dev.hactl.port"
	LabelHash       = "dev.hactl.hash"
	LabelAttributes = "dev.hactl.attributes" // JSON of plan.Component.Attributes (secrets already redacted)
)

// RoleDatabase is the LabelRole of the managed registry database.
const RoleDatabase = "registry-database"

var invalidName = regexp.MustCompile(`[^a-z0-9-]+`)

// serviceName turns a role and a component name into a compose service name
// that is also a valid host name: lower case letters, digits and '-'.
func serviceName(role, name string) string {
	s := role
	switch {
	case name == "" || name == role:
	case strings.HasPrefix(strings.ToLower(name), role):
		s = name // "controller1", not "controller-controller1"
	default:
		s += "-" + name
	}
	s = invalidName.ReplaceAllString(strings.ToLower(s), "-")
	return strings.Trim(s, "-")
}

// ControllerService, WorkerService, WebserverService and APIServerService
// name the compose service of a component.
func ControllerService(ctl *schema.Controller) string {
	return serviceName(schema.RoleController, ctl.Name)
}
func WorkerService(w *schema.Worker) string { return serviceName(schema.RoleWorker, w.Name) }
func WebserverService() string              { return schema.RoleWebserver }
func APIServerService() string              { return schema.RoleAPIServer }

// ServiceForAddress maps a plan address ("controller.ctrl1", "worker.llm",
// "webserver", "apiserver") to its service name.
func ServiceForAddress(addr string) string {
	role, name, _ := strings.Cut(addr, ".")
	return serviceName(role, name)
}

var hostnameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// DatabaseService is the managed database's service name: the registry host
// of the file when it is a simple host name (so the file reads naturally),
// else DefaultDatabaseService.
func DatabaseService(c *schema.Cluster) string {
	if c.Registry != nil {
		h := strings.ToLower(c.Registry.Host)
		if hostnameRe.MatchString(h) && net.ParseIP(h) == nil && !isComponentService(c, h) {
			return h
		}
	}
	return DefaultDatabaseService
}

func isComponentService(c *schema.Cluster, svc string) bool {
	for _, ctl := range c.Controllers {
		if ControllerService(ctl) == svc {
			return true
		}
	}
	for _, w := range c.Workers {
		if WorkerService(w) == svc {
			return true
		}
	}
	return svc == WebserverService() || svc == APIServerService()
}

// ProjectName is the compose project name: compose.project, else the cluster
// name, lower-cased and reduced to what both compose v1 and v2 accept.
func ProjectName(c *schema.Cluster) string {
	p := c.Name
	if c.Compose != nil && c.Compose.Project != "" {
		p = c.Compose.Project
	}
	p = regexp.MustCompile(`[^a-z0-9_-]+`).ReplaceAllString(strings.ToLower(p), "")
	return strings.TrimLeft(p, "_-")
}

// Managed reports whether the registry database runs as a compose service.
func Managed(c *schema.Cluster) bool {
	return c.Compose != nil && c.Compose.ManagedDatabase && c.Registry != nil && c.Registry.Type == schema.RegistryMySQL
}

// Adapt returns the cluster as the compose provider deploys it: every
// component on a synthetic server of its own whose name and address are the
// component's service name (so the rendered settings make workers register
// with their service name and point everyone at http://<controller
// service>:<port>), bind addresses 0.0.0.0 (the container's own network
// namespace), and, for a managed database, the registry at <db service>:3306.
// The input is not modified. Adapting an adapted cluster returns it as is.
//
// Plan, apply and status must work on the adapted cluster, so that the
// rendered components, health gates and registry rows agree with the
// containers.
func Adapt(c *schema.Cluster) (*schema.Cluster, error) {
	if IsAdapted(c) {
		return c, nil
	}
	nc := *c
	nc.Servers = nil
	seen := map[string]string{}
	// The "dbgpt command" of a container is the image's dbgpt: naming the
	// image (the models mount of workers, the published port) here puts
	// them into every component's settings hash, so changing the image or
	// what is published is a planned change.
	image, modelsDir := "", ""
	if c.Compose != nil {
		image, modelsDir = c.Compose.DBGPTImage, c.Compose.ModelsDir
	}
	command := func(worker bool, role string, port int) string {
		s := "dbgpt (image " + image
		if worker && modelsDir != "" {
			s += ", models_dir " + modelsDir
		}
		if pub, ok := Published(c, role, port); ok {
			s += ", published on " + net.JoinHostPort(pub.HostIP, pub.Published)
		}
		return s + ")"
	}
	// from is the file's server of the component: its env (the defaults'
	// and its own) is the container's too.
	server := func(svc, addr, role string, port int, from *schema.Server) (*schema.Server, error) {
		if other, dup := seen[svc]; dup {
			return nil, fmt.Errorf("compose: %s and %s would both be service %q; rename one", other, addr, svc)
		}
		seen[svc] = addr
		s := &schema.Server{
			Name:         svc,
			Address:      svc,
			Transport:    TransportCompose,
			DeployDir:    ContainerDir,
			DBGPTCommand: command(strings.HasPrefix(addr, "worker."), role, port),
		}
		if from != nil {
			s.Env = from.Env
		}
		nc.Servers = append(nc.Servers, s)
		return s, nil
	}
	nc.Controllers = nil
	for _, ctl := range c.Controllers {
		n := *ctl
		var err error
		if n.Server, err = server(ControllerService(ctl), "controller."+ctl.Name, schema.RoleController, ctl.Port, ctl.Server); err != nil {
			return nil, err
		}
		n.Host = "0.0.0.0"
		nc.Controllers = append(nc.Controllers, &n)
	}
	nc.Workers = nil
	for _, w := range c.Workers {
		n := *w
		var err error
		if n.Server, err = server(WorkerService(w), "worker."+w.Name, schema.RoleWorker, w.Port, w.Server); err != nil {
			return nil, err
		}
		n.Host = "0.0.0.0"
		nc.Workers = append(nc.Workers, &n)
	}
	if c.Webserver != nil {
		n := *c.Webserver
		var err error
		if n.Server, err = server(WebserverService(), "webserver", schema.RoleWebserver, n.Port, n.Server); err != nil {
			return nil, err
		}
		n.Host = "0.0.0.0"
		nc.Webserver = &n
	}
	if c.APIServer != nil {
		n := *c.APIServer
		var err error
		if n.Server, err = server(APIServerService(), "apiserver", schema.RoleAPIServer, n.Port, n.Server); err != nil {
			return nil, err
		}
		n.Host = "0.0.0.0"
		nc.APIServer = &n
	}
	if c.Registry != nil {
		r := *c.Registry
		if Managed(c) {
			r.Host = DatabaseService(c)
			r.Port = 3306
			if _, dup := seen[r.Host]; dup {
				return nil, fmt.Errorf("compose: the registry database service %q clashes with a component service", r.Host)
			}
		}
		nc.Registry = &r
	}
	if nc.Compose == nil {
		nc.Compose = &schema.Compose{ManagedDatabase: true}
	}
	return &nc, nil
}

// IsAdapted reports whether c came from Adapt.
func IsAdapted(c *schema.Cluster) bool {
	if len(c.Servers) == 0 {
		return false
	}
	for _, s := range c.Servers {
		if s.Transport != TransportCompose {
			return false
		}
	}
	return true
}
