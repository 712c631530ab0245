package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/registry"
	"github.com/hactl/hactl/schema"
)

// Registry is the cluster's registry database reached from its
// controllers' hosts: MySQL through each one's SSH connection (or directly
// for local), tried in file order; an SQLite file on the first one's
// server, opened in place when local, else copied over SSH and written back.
func (p *Provider) Registry(c *schema.Cluster) *registry.DB {
	if c == nil {
		c = p.cluster
	}
	return registry.New(c, registryAccess{p, c.Registry, controllerServers(c)})
}

type registryAccess struct {
	p       *Provider
	r       *schema.Registry
	servers []*schema.Server // the controllers', in file order
}

func (a registryAccess) Places() []registry.Place {
	out := make([]registry.Place, len(a.servers))
	for i, s := range a.servers {
		out[i] = a.p.host(s)
	}
	return out
}

func (a registryAccess) SQLiteFile() (registry.File, error) {
	if len(a.servers) == 0 {
		return nil, errors.New("SQLite registry: the cluster has no controller")
	}
	s := a.servers[0]
	file := a.r.Path
	if s.Transport == schema.TransportLocal {
		return localRegistryFile{registry.LocalFile(s.Name, file), s, file}, nil
	}
	return &remoteFile{p: a.p, s: s, file: file}, nil
}

// controllerServers are the servers of the cluster's controllers, in file
// order, without repeats.
func controllerServers(c *schema.Cluster) []*schema.Server {
	seen := map[string]bool{}
	var out []*schema.Server
	for _, ctl := range c.Controllers {
		if ctl.Server != nil && !seen[ctl.Server.Name] {
			seen[ctl.Server.Name] = true
			out = append(out, ctl.Server)
		}
	}
	return out
}

// remoteFile is an SQLite file on a server reached over SSH, worked on as
// a local copy.
type remoteFile struct {
	p    *Provider
	s    *schema.Server
	file string
}

func (f *remoteFile) Server() string { return f.s.Name }

func (f *remoteFile) Exists(ctx context.Context) (bool, error) {
	out, err := f.p.host(f.s).Run(ctx, "if [ -e "+host.Quote(f.file)+" ]; then echo present; else echo absent; fi", nil)
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(string(out)) == "present", nil
}

// Local downloads the file and its WAL, when present, to a temporary
// directory.
func (f *remoteFile) Local(ctx context.Context) (string, bool, func(), error) {
	tmp, err := os.MkdirTemp("", "hactl-sqlite-")
	if err != nil {
		return "", false, nil, err
	}
	done := func() { os.RemoveAll(tmp) }
	local := filepath.Join(tmp, "registry.db")
	for _, suffix := range []string{"", "-wal"} {
		q := host.Quote(f.file + suffix)
		out, err := f.p.host(f.s).Run(ctx, "if [ -f "+q+" ]; then echo y; cat "+q+"; else echo n; fi", nil)
		if err != nil {
			done()
			return "", false, nil, err
		}
		flag, data, _ := bytes.Cut(out, []byte("\n"))
		if string(flag) != "y" {
			continue
		}
		if err := os.WriteFile(local+suffix, data, 0o600); err != nil {
			done()
			return "", false, nil, err
		}
	}
	return local, false, done, nil
}

func (f *remoteFile) WriteBack(ctx context.Context, local string) error {
	data, err := os.ReadFile(local)
	if err != nil {
		return err
	}
	h := f.p.host(f.s)
	// A directory hactl creates is the controllers' user's: SQLite writes
	// its journal next to the file.
	mk := "d=" + host.Quote(path.Dir(f.file)) + "\n[ -d \"$d\" ] && exit 0\nmkdir -p \"$d\" || exit 1\n"
	if u := switchUser(f.s); u != "" {
		mk += "chown " + host.Quote(u) + ":\"$(id -g " + host.Quote(u) + ")\" \"$d\"\n"
	}
	if _, err := h.Run(ctx, mk, nil); err != nil {
		return err
	}
	if err := host.WriteFile(ctx, h, f.file, data, 0o600); err != nil {
		return err
	}
	if u := switchUser(f.s); u != "" {
		if _, err := h.Run(ctx, "chown "+host.Quote(u)+":\"$(id -g "+host.Quote(u)+")\" "+host.Quote(f.file), nil); err != nil {
			return err
		}
	}
	if _, err := h.Run(ctx, "rm -f "+host.Quote(f.file+"-wal")+" "+host.Quote(f.file+"-shm"), nil); err != nil {
		return err
	}
	fmt.Fprintf(f.p.opts.Out, "%s: wrote the SQLite registry %s\n", f.s.Name, f.file)
	return nil
}

// localRegistryFile is the SQLite registry on this machine, opened in
// place: a directory it creates for it (as root) goes to the controllers'
// run_as user. The file itself is handed over by the controller's Deploy
// (registryChown).
type localRegistryFile struct {
	registry.File
	s    *schema.Server
	file string
}

func (f localRegistryFile) Local(ctx context.Context) (string, bool, func(), error) {
	dir := filepath.Dir(f.file)
	if u := switchUser(f.s); u != "" && os.Geteuid() == 0 {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return "", false, nil, err
			}
			if err := chownTo(dir, u); err != nil {
				return "", false, nil, err
			}
		}
	}
	return f.File.Local(ctx)
}

func chownTo(p, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("run_as user %s: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Lchown(p, uid, gid)
}

// registryChown is the shell lines that give the SQLite registry file (and
// its WAL and shared memory) to the controllers' run_as user: hactl created
// it as root. Empty when the component is not such a controller.
func (p *Provider) registryChown(comp *plan.Component) string {
	r := p.cluster.Registry
	u := switchUser(comp.Server)
	if u == "" || comp.Role != schema.RoleController || r == nil || r.Type != schema.RegistrySQLite {
		return ""
	}
	if cs := controllerServers(p.cluster); len(cs) == 0 || cs[0].Name != comp.Server.Name {
		return ""
	}
	q := host.Quote(r.Path)
	return fmt.Sprintf(`for f in %s %s %s; do
	[ -f "$f" ] && [ ! -L "$f" ] && { chown %s:"$(id -g %s)" "$f" || exit 1; }
done
`, q, host.Quote(r.Path+"-wal"), host.Quote(r.Path+"-shm"), host.Quote(u), host.Quote(u))
}
