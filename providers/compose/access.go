package compose

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Access modes (compose.access): how hactl reaches a service's container.
const (
	// AccessAuto: AccessNetwork when a first connection to a container
	// address works within probeTimeout, else AccessExec; decided once per
	// provider.
	AccessAuto = "auto"
	// AccessNetwork dials the container's address on the project network
	// (a Linux Docker host reaches it; Docker Desktop and a remote engine
	// do not).
	AccessNetwork = "network"
	// AccessExec dials the container's published host port when it has one
	// for the target port and the engine runs on this machine, else tunnels
	// the connection through `docker exec -i <target container> bash`.
	AccessExec = "exec"
)

// probeTimeout bounds auto's first connection to a container address.
var probeTimeout = 2 * time.Second

// reach is the provider's decided access mode.
type reach struct {
	deciding sync.Mutex                 // held while auto decides
	lookup   sync.Mutex                 // one container listing at a time
	mu       sync.Mutex                 // guards the fields below
	mode     string                     // AccessNetwork or AccessExec once decided
	local    *bool                      // the engine runs on this machine (published ports are here)
	cts      map[string]cachedContainer // by service
	gen      int                        // counts forgetContainers: a listing older than the last is not kept
}

func (r *reach) setMode(m string) {
	r.mu.Lock()
	r.mode = m
	r.mu.Unlock()
}

// accessSetting is the file's compose.access, AccessAuto when unset.
func (p *Provider) accessSetting() string {
	if p.c.Compose != nil && p.c.Compose.Access != "" {
		return p.c.Compose.Access
	}
	return AccessAuto
}

// AccessMode is how the provider reaches containers: the file's setting, or
// what auto decided ("" while auto has not decided yet).
func (p *Provider) AccessMode() string {
	if m := p.accessSetting(); m != AccessAuto {
		return m
	}
	p.reach.mu.Lock()
	defer p.reach.mu.Unlock()
	return p.reach.mode
}

// dialService connects to port of a service's running container.
func (p *Provider) dialService(ctx context.Context, svc, network, port string) (net.Conn, error) {
	mode := p.accessSetting()
	if mode == AccessAuto {
		mode = p.AccessMode()
		if mode == "" {
			// Decide, one dial at a time: concurrent first dials wait.
			p.reach.deciding.Lock()
			mode = p.AccessMode()
			if mode == "" {
				defer p.reach.deciding.Unlock()
				return p.decide(ctx, svc, network, port)
			}
			p.reach.deciding.Unlock()
		}
	}
	if mode == AccessNetwork {
		cc, err := p.lookupContainerWithin(ctx, svc, netTTL)
		if err != nil {
			return nil, err
		}
		return p.dialNetwork(ctx, cc.ct, network, port)
	}
	return p.dialExecService(ctx, svc, network, port)
}

// decide makes auto's choice on a first dial. Call with p.reach.deciding
// held.
func (p *Provider) decide(ctx context.Context, svc, network, port string) (net.Conn, error) {
	ct, err := p.serviceContainer(ctx, svc)
	if err != nil {
		return nil, err
	}
	// A container without a project network address is no evidence.
	if _, err := p.ip(ct); err != nil {
		return nil, err
	}
	dialNet := func() (net.Conn, error) {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		return p.dialNetwork(pctx, ct, network, port)
	}
	dialExec := func() (net.Conn, error) { return p.dialExec(ctx, ct, svc, network, port) }
	mode, conn, netErr, err := chooseAccess(ctx, dialNet, dialExec)
	switch mode {
	case AccessNetwork:
		p.reach.setMode(AccessNetwork)
		fmt.Fprintf(p.opts.Out, "compose: reaching the containers at their network addresses\n")
	case AccessExec:
		p.reach.setMode(AccessExec)
		fmt.Fprintf(p.opts.Out, "compose: container addresses are not reachable from this machine (%v): reaching the containers through docker exec and published ports\n", netErr)
	}
	return conn, err
}

// chooseAccess is auto's choice from a first dial to the container's
// address (dialNet) and, when that fails, one through exec (dialExec):
// the mode decided ("" for none yet), the connection, the address's error
// that made it choose exec, and the error to return. The address answering
// means network. Not answering in time, while exec connects: exec. Refused
// both ways: the service does not listen yet, decide on a later dial.
// Refused at the address but connected through exec may be a firewall
// rejecting, or the service beginning to listen between the two dials: the
// address is tried once more, and network chosen if it connects now.
func chooseAccess(ctx context.Context, dialNet, dialExec func() (net.Conn, error)) (mode string, conn net.Conn, netErr, err error) {
	conn, err = dialNet()
	if err == nil {
		return AccessNetwork, conn, nil, nil
	}
	if ctx.Err() != nil {
		return "", nil, nil, err
	}
	conn, xerr := dialExec()
	switch {
	case xerr == nil:
		if errors.Is(err, syscall.ECONNREFUSED) {
			if again, aerr := dialNet(); aerr == nil {
				conn.Close()
				return AccessNetwork, again, nil, nil
			}
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		// Refused both ways: the service does not listen yet, and the
		// container address answered. Decide on a later dial.
		return "", nil, nil, err
	case errors.Is(xerr, syscall.ECONNREFUSED):
		// The address did not answer in time, the container did: exec.
	default:
		return "", nil, nil, xerr
	}
	return AccessExec, conn, err, xerr
}

// containerTTL is how long the exec path reuses a service's container
// lookup (two docker commands) before looking again.
var containerTTL = 5 * time.Second

// netTTL is how long the network path reuses a service's container lookup
// (its address): a health gate polling a component that does not listen
// yet would otherwise run two docker commands per poll. The provider
// forgets every lookup when it changes a container itself
// (forgetContainers), so only a change made behind its back is seen up to
// netTTL late.
var netTTL = time.Second

// forgetContainers drops every container lookup: the provider created,
// restarted, stopped or removed a container. A listing running meanwhile
// is not kept either.
func (p *Provider) forgetContainers() {
	p.reach.mu.Lock()
	p.reach.cts = nil
	p.reach.gen++
	p.reach.mu.Unlock()
}

type cachedContainer struct {
	ct container
	at time.Time
}

// lookupContainer finds a service's running container for the exec path.
func (p *Provider) lookupContainer(ctx context.Context, svc string) (cachedContainer, error) {
	return p.lookupContainerWithin(ctx, svc, containerTTL)
}

// lookupContainerWithin finds a service's running container, reusing a
// lookup younger than ttl. Concurrent dials (status probes every component
// at once, a gate polls a level's components) share one listing of the
// whole project, which fills the cache for every service.
func (p *Provider) lookupContainerWithin(ctx context.Context, svc string, ttl time.Duration) (cachedContainer, error) {
	p.reach.lookup.Lock()
	defer p.reach.lookup.Unlock()
	p.reach.mu.Lock()
	cc, ok := p.reach.cts[svc]
	gen := p.reach.gen
	p.reach.mu.Unlock()
	if ok && time.Since(cc.at) <= ttl {
		return cc, nil
	}
	cs, err := containers(ctx, LabelProject+"="+p.project)
	if err != nil {
		return cachedContainer{}, err
	}
	now := time.Now()
	fresh := map[string]cachedContainer{}
	for _, ct := range cs {
		if s := ct.Config.Labels[LabelService]; s != "" && ct.State.Running {
			fresh[s] = cachedContainer{ct, now}
		}
	}
	p.reach.mu.Lock()
	if p.reach.gen == gen {
		if p.reach.cts == nil {
			p.reach.cts = map[string]cachedContainer{}
		}
		for s, c := range fresh {
			p.reach.cts[s] = c
		}
	}
	p.reach.mu.Unlock()
	if cc, ok := fresh[svc]; ok {
		return cc, nil
	}
	// Not running: serviceContainer's error says why.
	if _, err := p.serviceContainer(ctx, svc); err != nil {
		return cachedContainer{}, err
	}
	return cachedContainer{}, fmt.Errorf("compose: service %s of project %s has no running container", svc, p.project)
}

// dialExecService is dialExec on the service's running container, looked up
// at most every containerTTL; a container gone since is looked up again.
func (p *Provider) dialExecService(ctx context.Context, svc, network, port string) (net.Conn, error) {
	p.reach.mu.Lock()
	cc, ok := p.reach.cts[svc]
	p.reach.mu.Unlock()
	fresh := false
	if !ok || time.Since(cc.at) > containerTTL {
		var err error
		if cc, err = p.lookupContainer(ctx, svc); err != nil {
			return nil, err
		}
		fresh = true
	}
	conn, err := p.dialExec(ctx, cc.ct, svc, network, port)
	if err != nil && !fresh && (strings.Contains(err.Error(), "No such container") || strings.Contains(err.Error(), "is not running")) {
		p.reach.mu.Lock()
		delete(p.reach.cts, svc)
		p.reach.mu.Unlock()
		return p.dialExecService(ctx, svc, network, port)
	}
	return conn, err
}

// dialNetwork dials the container's address on the project network.
func (p *Provider) dialNetwork(ctx context.Context, ct container, network, port string) (net.Conn, error) {
	ip, err := p.ip(ct)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, net.JoinHostPort(ip, port))
}

// dialExec dials the container's published host port for port when it has
// one and the engine is local, else opens an exec tunnel into it.
func (p *Provider) dialExec(ctx context.Context, ct container, svc, network, port string) (net.Conn, error) {
	if hp := publishedHostPort(ct, port); hp != "" && p.engineLocal(ctx) {
		var d net.Dialer
		return d.DialContext(ctx, network, hp)
	}
	return dialTunnel(ctx, ct.ID, svc, port)
}

// publishedHostPort is where the container's TCP port is published on the
// engine's host ("" when it is not), a wildcard address read as loopback.
func publishedHostPort(ct container, port string) string {
	for _, b := range ct.NetworkSettings.Ports[port+"/tcp"] {
		if b.HostPort == "" {
			continue
		}
		ip := b.HostIP
		switch ip {
		case "", "0.0.0.0":
			ip = "127.0.0.1"
		case "::":
			ip = "::1"
		}
		return net.JoinHostPort(ip, b.HostPort)
	}
	return ""
}

// engineLocal reports (once) whether the Docker engine runs on this machine:
// DOCKER_HOST, else the current docker context's endpoint, is a unix socket
// or a Windows named pipe. Docker Desktop counts as local: it forwards
// published ports to this machine.
func (p *Provider) engineLocal(ctx context.Context) bool {
	p.reach.mu.Lock()
	known := p.reach.local
	p.reach.mu.Unlock()
	if known != nil {
		return *known
	}
	endpoint := os.Getenv("DOCKER_HOST")
	if endpoint == "" {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		out, err := run(cctx, "", "docker", "context", "inspect", "--format", "{{.Endpoints.docker.Host}}")
		cancel()
		if err == nil {
			endpoint = strings.TrimSpace(out)
		}
	}
	local := isLocalEndpoint(endpoint)
	p.reach.mu.Lock()
	p.reach.local = &local
	p.reach.mu.Unlock()
	return local
}

func isLocalEndpoint(endpoint string) bool {
	return endpoint == "" || strings.HasPrefix(endpoint, "unix://") || strings.HasPrefix(endpoint, "npipe://")
}

// tunnelScript runs in the target container: it connects to 127.0.0.1:$1,
// says so with one byte, then copies stdin to the socket and the socket to
// stdout; when either direction ends (hactl closed the connection, or the
// server did) it stops the other and exits, so nothing outlives the
// connection. Only bash (4.3 or later: wait -n) and cat are needed.
const tunnelScript = `exec 3<>/dev/tcp/127.0.0.1/"$1" || exit 97
printf +
cat <&3 & a=$!
cat <&0 >&3 & b=$!
exec 0<&- 1>&-
wait -n
kill $a $b 2>/dev/null
exit 0`

// tunnelMarker is what tunnelScript writes once connected.
const tunnelMarker = '+'

// tunnelCommand is the docker command of a tunnel to port in container id.
func tunnelCommand(id, port string) []string {
	return []string{"exec", "-i", id, "bash", "-c", tunnelScript, "hactl-tunnel", port}
}

// dialTunnel opens a connection to 127.0.0.1:port inside container id as a
// net.Conn over `docker exec -i`'s stdin and stdout.
func dialTunnel(ctx context.Context, id, svc, port string) (net.Conn, error) {
	if _, err := strconv.Atoi(port); err != nil {
		return nil, fmt.Errorf("compose: tunnel to %s: port %q is not a number", svc, port)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	c := &tunnelConn{in: inW, out: outR, done: make(chan struct{}),
		local: tunnelAddr("hactl"), remote: tunnelAddr(svc + ":" + port + " (docker exec)")}
	// Not CommandContext: the connection outlives the dial's context.
	c.cmd = exec.Command("docker", tunnelCommand(id, port)...)
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = inR, outW, &c.stderr
	err = c.cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("compose: docker exec for a tunnel to %s: %w", svc, err)
	}
	go func() {
		_ = c.cmd.Wait()
		close(c.done)
	}()
	// Wait for the marker, within ctx.
	if dl, ok := ctx.Deadline(); ok {
		_ = outR.SetReadDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = outR.SetReadDeadline(time.Unix(1, 0)) })
	var b [1]byte
	_, rerr := outR.Read(b[:])
	stop()
	_ = outR.SetReadDeadline(time.Time{})
	if rerr == nil && b[0] == tunnelMarker {
		return c, nil
	}
	c.Close()
	<-c.done
	msg := strings.TrimSpace(c.stderr.String())
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("compose: tunnel to %s:%s through docker exec: %w", svc, port, ctx.Err())
	case strings.Contains(msg, "Connection refused"):
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: tunnelAddr(svc + ":" + port),
			Err: fmt.Errorf("in its container (through docker exec): %w", syscall.ECONNREFUSED)}
	case rerr == nil:
		return nil, fmt.Errorf("compose: tunnel to %s:%s through docker exec: unexpected first byte %q", svc, port, b[0])
	}
	if msg == "" {
		msg = rerr.Error()
	}
	return nil, fmt.Errorf("compose: tunnel to %s:%s through docker exec (the image needs bash and cat): %s", svc, port, lastLines(msg, 5))
}

// tunnelConn is a connection through a docker exec process.
type tunnelConn struct {
	cmd           *exec.Cmd
	in            *os.File // the process's stdin
	out           *os.File // its stdout
	stderr        lockedBuffer
	done          chan struct{} // closed when the process has ended
	local, remote net.Addr
	once          sync.Once
}

// tunnelGrace is how long a closed tunnel's process may take to end by
// itself before it is killed.
var tunnelGrace = 5 * time.Second

func (c *tunnelConn) Read(b []byte) (int, error)  { return c.out.Read(b) }
func (c *tunnelConn) Write(b []byte) (int, error) { return c.in.Write(b) }

// Close ends the connection: the process's stdin closes, which ends the
// script in the container, and so the docker exec process; should it not
// end within tunnelGrace it is killed.
func (c *tunnelConn) Close() error {
	c.once.Do(func() {
		c.in.Close()
		c.out.Close()
		go func() {
			select {
			case <-c.done:
			case <-time.After(tunnelGrace):
				_ = c.cmd.Process.Kill()
			}
		}()
	})
	return nil
}

func (c *tunnelConn) LocalAddr() net.Addr  { return c.local }
func (c *tunnelConn) RemoteAddr() net.Addr { return c.remote }

func (c *tunnelConn) SetDeadline(t time.Time) error {
	return errors.Join(c.in.SetWriteDeadline(t), c.out.SetReadDeadline(t))
}
func (c *tunnelConn) SetReadDeadline(t time.Time) error  { return c.out.SetReadDeadline(t) }
func (c *tunnelConn) SetWriteDeadline(t time.Time) error { return c.in.SetWriteDeadline(t) }

type tunnelAddr string

func (a tunnelAddr) Network() string { return "docker-exec" }
func (a tunnelAddr) String() string  { return string(a) }

// lockedBuffer collects a process's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 64<<10 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
