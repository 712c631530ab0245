package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

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
		return registry.LocalFile(s.Name, file), nil
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
	if _, err := h.Run(ctx, "mkdir -p "+host.Quote(path.Dir(f.file)), nil); err != nil {
		return err
	}
	if err := host.WriteFile(ctx, h, f.file, data, 0o600); err != nil {
		return err
	}
	if _, err := h.Run(ctx, "rm -f "+host.Quote(f.file+"-wal")+" "+host.Quote(f.file+"-shm"), nil); err != nil {
		return err
	}
	fmt.Fprintf(f.p.opts.Out, "%s: wrote the SQLite registry %s\n", f.s.Name, f.file)
	return nil
}
