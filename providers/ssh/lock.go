package ssh

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/hactl/hactl/lock"
	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/schema"
)

// LockStore keeps the cluster's operation lock on the first server of the
// file in name order, as <deploy_dir>/.hactl-lock-<cluster>.json, created
// with link(2) from a complete temporary file so it appears whole or not at
// all. Every run of the same file picks the same server.
func (p *Provider) LockStore() lock.Store {
	servers := append([]*schema.Server(nil), p.cluster.Servers...)
	sort.Slice(servers, func(i, j int) bool { return servers[i].Name < servers[j].Name })
	st := &sshLock{p: p}
	if len(servers) > 0 {
		st.server = servers[0]
		st.path = path.Join(st.server.DeployDir, ".hactl-lock-"+p.cluster.Name+".json")
	}
	return st
}

type sshLock struct {
	p      *Provider
	server *schema.Server
	path   string

	mu      sync.Mutex
	created bool   // Create made the deploy directory
	op      string // the operation of the lock Create took
}

func (l *sshLock) Where() string {
	if l.server == nil {
		return "(no server)"
	}
	return "server " + l.server.Name + ": " + l.path
}

func (l *sshLock) Create(ctx context.Context, info lock.Info) (*lock.Info, error) {
	if l.server == nil {
		return nil, fmt.Errorf("the cluster has no server to keep its lock on")
	}
	tmp := l.path + "." + info.ID + ".tmp"
	script := fmt.Sprintf(`d=%s; f=%s; t=%s
c=0
if [ ! -d "$d" ]; then mkdir -p "$d" || exit 1; c=1; fi
`, host.Quote(l.server.DeployDir), host.Quote(l.path), host.Quote(tmp)) +
		"umask 022\n" + writeInPlace(tmp, info.Encode(), 0o644) + `if ln "$t" "$f" 2>/dev/null; then rm -f "$t"; echo "@@locked $c"; exit 0; fi
rm -f "$t"
echo "@@held"
cat "$f" 2>/dev/null
`
	out, err := host.RunStdinScript(ctx, l.p.host(l.server), script)
	if _, ok := host.IsSudo(err); ok {
		// The lock is the first command of an apply or a destroy: name
		// every server where sudo refuses, not only the lock's.
		if all := l.p.sudoErrors(ctx, l.p.cluster.Servers); all != nil {
			return nil, all
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	status, rest, _ := strings.Cut(string(out), "\n")
	switch {
	case strings.HasPrefix(status, "@@locked"):
		l.mu.Lock()
		l.created, l.op = strings.TrimSpace(strings.TrimPrefix(status, "@@locked")) == "1", info.Operation
		l.mu.Unlock()
		return nil, nil
	case status == "@@held":
		if strings.TrimSpace(rest) == "" { // released between ln and cat
			return l.Create(ctx, info)
		}
		return lock.Decode([]byte(rest))
	}
	return nil, fmt.Errorf("unexpected answer %q", status)
}

func (l *sshLock) Read(ctx context.Context) (*lock.Info, error) {
	if l.server == nil {
		return nil, nil
	}
	out, err := l.p.host(l.server).Run(ctx, fmt.Sprintf("cat %s 2>/dev/null; exit 0", host.Quote(l.path)), nil)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(string(out)) == "" {
		return nil, nil
	}
	return lock.Decode(out)
}

// Delete removes the lock when it is id's. After the lock a destroy took,
// or one whose Create made the deploy directory, an empty deploy directory
// (and its empty default parent …/hactl) goes too, as Remove does.
func (l *sshLock) Delete(ctx context.Context, id string) error {
	if l.server == nil {
		return nil
	}
	l.mu.Lock()
	clean := l.created || l.op == "destroy"
	l.mu.Unlock()
	script := fmt.Sprintf(`d=%s; f=%s
case $(cat "$f" 2>/dev/null) in *'"id":"'%s'"'*) rm -f "$f" || exit 1;; esac
`, host.Quote(l.server.DeployDir), host.Quote(l.path), host.Quote(id))
	if clean {
		script += `if rmdir "$d" 2>/dev/null; then
	p=$(dirname "$d")
	[ "${p##*/}" = hactl ] && rmdir "$p" 2>/dev/null
fi
`
	}
	script += "exit 0\n"
	_, err := l.p.host(l.server).Run(ctx, script, nil)
	return err
}
