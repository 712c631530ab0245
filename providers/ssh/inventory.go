package ssh

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/schema"
)

// The cluster record, <deploy_dir>/<cluster>/cluster.json on every server of
// the file, lists every server the cluster is deployed to, with how to reach
// it (address, port, user, key and known-hosts paths: never a secret). A
// server removed from the file is still in the record, so Observe reads it,
// plan shows its components as destroy and destroy removes them. apply
// writes the record before it changes anything (the file's servers and
// those still holding components) and again after it succeeded (the
// file's servers only), each time only where the server's copy says
// something else; destroy removes it last (Teardown). Its "written" time is
// thus when it last changed.
const fileRecord = "cluster.json"

type clusterRecord struct {
	Format  int            `json:"hactl_cluster_record"`
	Cluster string         `json:"cluster"`
	Servers []recordServer `json:"servers"`
	Written time.Time      `json:"written"`
	on      string         // the server it was read from
}

type recordServer struct {
	Name           string           `json:"name"`
	Transport      string           `json:"transport"`
	Address        string           `json:"address"`
	DeployDir      string           `json:"deploy_dir"`
	DBGPTCommand   string           `json:"dbgpt_command,omitempty"`
	Port           int              `json:"ssh_port,omitempty"`
	User           string           `json:"user,omitempty"`
	KeyFile        string           `json:"key_file,omitempty"`
	UseAgent       bool             `json:"use_agent,omitempty"`
	KnownHostsFile string           `json:"known_hosts_file,omitempty"`
	Sudo           bool             `json:"sudo,omitempty"`
	Jump           *schema.JumpHost `json:"jump,omitempty"`
	ConnectTimeout time.Duration    `json:"connect_timeout,omitempty"`
	CommandTimeout time.Duration    `json:"command_timeout,omitempty"`
}

func recordOf(s *schema.Server) recordServer {
	return recordServer{
		Name: s.Name, Transport: s.Transport, Address: s.Address, DeployDir: s.DeployDir, DBGPTCommand: s.DBGPTCommand,
		Port: s.SSH.Port, User: s.SSH.User, KeyFile: s.SSH.KeyFile, UseAgent: s.SSH.UseAgent, KnownHostsFile: s.SSH.KnownHostsFile,
		Sudo: s.SSH.Sudo, Jump: s.SSH.Jump, ConnectTimeout: s.SSH.ConnectTimeout, CommandTimeout: s.SSH.CommandTimeout,
	}
}

// server is the recorded server as hactl reaches it: always with strict
// host-key checking (its key was learned when hactl deployed to it; a
// record is read from the servers and is not trusted to weaken that).
func (r recordServer) server() *schema.Server {
	return &schema.Server{
		Name: r.Name, Transport: r.Transport, Address: r.Address, DeployDir: r.DeployDir, DBGPTCommand: r.DBGPTCommand,
		SSH: schema.SSHSettings{Port: r.Port, User: r.User, KeyFile: r.KeyFile, UseAgent: r.UseAgent, KnownHostsFile: r.KnownHostsFile,
			Sudo: r.Sudo, Jump: r.Jump, ConnectTimeout: r.ConnectTimeout, CommandTimeout: r.CommandTimeout, HostKeyPolicy: schema.HostKeyStrict},
	}
}

func (r recordServer) valid() bool {
	return addressRe.MatchString(r.Name) && strings.HasPrefix(r.DeployDir, "/") &&
		(r.Transport == schema.TransportLocal || r.Transport == schema.TransportSSH && r.Address != "")
}

// parseRecord picks the @@record line of the observe script's output.
func parseRecord(out []byte, on string) (*clusterRecord, error) {
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "@@record ")
		if !ok {
			continue
		}
		var r clusterRecord
		if err := json.Unmarshal([]byte(rest), &r); err != nil {
			return nil, fmt.Errorf("the cluster record %s on server %s is not valid JSON: %w", fileRecord, on, err)
		}
		r.on = on
		return &r, nil
	}
	return nil, nil
}

// recordKey is what RecordInventory compares to know whether a record on
// a server already says what it would write: everything but the time.
func (r clusterRecord) recordKey() string {
	r.Written, r.on = time.Time{}, ""
	b, _ := json.Marshal(r)
	return string(b)
}

// recordedServers returns the servers of the records that the file does
// not name (and remembers them, for Remove and Logs), with the server each
// was recorded on.
func (p *Provider) recordedServers(c *schema.Cluster, records []clusterRecord) ([]*schema.Server, map[string]string) {
	var out []*schema.Server
	on := map[string]string{}
	sort.Slice(records, func(i, j int) bool { return records[i].on < records[j].on })
	for _, r := range records {
		if r.Cluster != c.Name {
			continue
		}
		for _, rs := range r.Servers {
			if c.ServerByName(rs.Name) != nil || on[rs.Name] != "" || !rs.valid() {
				continue
			}
			on[rs.Name] = r.on
			s := rs.server()
			out = append(out, s)
			p.mu.Lock()
			p.extra[s.Name] = s
			p.mu.Unlock()
		}
	}
	return out, on
}

// RecordInventory writes the cluster record on every server of the file:
// the file's servers, and the servers of keep (observed components) that
// the file no longer names but that still hold components.
func (p *Provider) RecordInventory(ctx context.Context, c *schema.Cluster, keep []plan.Observed) error {
	if c == nil {
		c = p.cluster
	}
	rec := clusterRecord{Format: 1, Cluster: c.Name, Written: time.Now().UTC().Truncate(time.Second)}
	for _, s := range c.Servers {
		rec.Servers = append(rec.Servers, recordOf(s))
	}
	seen := map[string]bool{}
	for _, o := range keep {
		if c.ServerByName(o.Server) != nil || seen[o.Server] {
			continue
		}
		p.mu.Lock()
		s := p.extra[o.Server]
		p.mu.Unlock()
		if s != nil {
			seen[o.Server] = true
			rec.Servers = append(rec.Servers, recordOf(s))
		}
	}
	// A recorded server that holds no component any more is forgotten:
	// its own copy of the record goes (and its directories, when empty).
	var gone []*schema.Server
	p.mu.Lock()
	for name, s := range p.extra {
		if !seen[name] {
			gone = append(gone, s)
		}
	}
	p.mu.Unlock()
	if err := p.dropRecord(ctx, c.Name, gone); err != nil {
		return err
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	body = append(body, '\n')
	// A server whose record already says this (read by Observe, or
	// written before in this run: the record after a successful apply is
	// usually the one written before it) is left as it is.
	key := rec.recordKey()
	var write []*schema.Server
	seenKey := map[string]bool{}
	p.mu.Lock()
	for _, s := range c.Servers {
		// Servers sharing a machine and deploy directory share the file.
		k := hostKey(s) + "\x00" + s.DeployDir
		if p.records[k] != key && !seenKey[k] {
			write = append(write, s)
		}
		seenKey[k] = true
	}
	p.mu.Unlock()
	errs := p.eachServer(ctx, write, func(ctx context.Context, s *schema.Server) error {
		dir := path.Join(s.DeployDir, c.Name)
		file := path.Join(dir, fileRecord)
		script := "[ -d " + host.Quote(dir) + " ] || mkdir -p " + host.Quote(dir) + " || exit 1\numask 022\n" +
			writeInPlace(file+".hactl-tmp", body, 0o644) + "mv -f " + host.Quote(file+".hactl-tmp") + " " + host.Quote(file) + "\n"
		if _, err := host.RunStdinScript(ctx, p.host(s), script); err != nil {
			return fmt.Errorf("writing the cluster record on server %s: %w", s.Name, err)
		}
		p.mu.Lock()
		p.records[hostKey(s)+"\x00"+s.DeployDir] = key
		p.mu.Unlock()
		return nil
	})
	return joinServerErrors(errs)
}

// Teardown removes the cluster record (destroy calls it once every
// component is gone) from every server of the file and every recorded
// server, then the empty cluster and deploy directories. With purge
// (destroy --purge-registry) it first deletes the data directories Remove
// kept.
func (p *Provider) Teardown(ctx context.Context, purge bool) error {
	servers := append([]*schema.Server(nil), p.cluster.Servers...)
	p.mu.Lock()
	for _, s := range p.extra {
		servers = append(servers, s)
	}
	p.mu.Unlock()
	if purge {
		if err := p.purgeData(ctx, p.cluster.Name, servers); err != nil {
			return err
		}
	}
	return p.dropRecord(ctx, p.cluster.Name, servers)
}

// purgeData deletes, on servers, the component directories of cluster that
// hold only what Remove kept (no manifest: no component is deployed there).
func (p *Provider) purgeData(ctx context.Context, cluster string, servers []*schema.Server) error {
	seen := map[string]bool{}
	var unique []*schema.Server
	for _, s := range servers {
		if k := hostKey(s) + "\x00" + s.DeployDir; !seen[k] {
			seen[k] = true
			unique = append(unique, s)
		}
	}
	var mu sync.Mutex
	errs := p.eachServer(ctx, unique, func(ctx context.Context, s *schema.Server) error {
		script := fmt.Sprintf(`for c in %s/*/; do
	c=${c%%/}
	[ -d "$c/`+dirData+`" ] && [ ! -e "$c/`+fileManifest+`" ] || continue
	[ "$(cat "$c/`+fileOwner+`" 2>/dev/null)" = %s ] || continue
	rm -rf "$c" || exit 1
	echo "$c/`+dirData+`"
done
exit 0
`, host.Quote(path.Join(s.DeployDir, cluster)), host.Quote(cluster))
		out, err := p.host(s).Run(ctx, script, nil)
		if err != nil {
			return fmt.Errorf("deleting the kept data on server %s: %w", s.Name, err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l == "" {
				continue
			}
			fmt.Fprintf(p.opts.Out, "%s: deleted %s\n", s.Name, l)
		}
		return nil
	})
	return joinServerErrors(errs)
}

// dropRecord removes the cluster record from servers, then their empty
// cluster and deploy directories.
func (p *Provider) dropRecord(ctx context.Context, cluster string, servers []*schema.Server) error {
	errs := p.eachServer(ctx, servers, func(ctx context.Context, s *schema.Server) error {
		script := fmt.Sprintf(`rm -f %s
rmdir %s 2>/dev/null
dd=%s
if rmdir "$dd" 2>/dev/null; then
	p=$(dirname "$dd")
	[ "${p##*/}" = hactl ] && rmdir "$p" 2>/dev/null
fi
exit 0
`, host.Quote(path.Join(s.DeployDir, cluster, fileRecord)), host.Quote(path.Join(s.DeployDir, cluster)), host.Quote(s.DeployDir))
		p.mu.Lock()
		delete(p.records, hostKey(s)+"\x00"+s.DeployDir)
		p.mu.Unlock()
		if _, err := p.host(s).Run(ctx, script, nil); err != nil {
			return fmt.Errorf("removing the cluster record from server %s: %w", s.Name, err)
		}
		return nil
	})
	return joinServerErrors(errs)
}

var (
	_ providers.Teardowner = (*Provider)(nil)
	_ providers.Inventory  = (*Provider)(nil)
)
