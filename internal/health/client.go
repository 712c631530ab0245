package health

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hactl/hactl/schema"
)

// Dialer opens a connection to addr as seen from server. providers.Provider
// satisfies it.
type Dialer interface {
	DialContext(ctx context.Context, server *schema.Server, network, addr string) (net.Conn, error)
}

// DefaultRequestTimeout bounds one HTTP request of a check.
const DefaultRequestTimeout = 5 * time.Second

// Client is an HTTP client for the cluster's components. A request to
// http://ADDRESS:PORT is dialled from the server whose declared address is
// ADDRESS (from the first server when none has it), so hactl reaches every
// port through that server's SSH connection, exactly as the other components
// on it do. It remembers each peer's clock from the Date header of its
// answers.
type Client struct {
	HTTP *http.Client
	// ZoneOffset is the controllers' local time zone offset east of UTC, used
	// to read last_heartbeat (a local time without zone) when the provider
	// cannot tell a server's own offset (see ZoneReader). Zero: UTC.
	ZoneOffset time.Duration

	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
	zoner ZoneReader // nil when the provider cannot tell

	mu       sync.Mutex
	clocks   map[string]time.Duration // URL host → peer clock minus ours
	zones    map[string]time.Duration // server name → its UTC offset
	listings map[string]*listing      // controller URL → its latest listing (see ShareSince)
}

// ZoneReader is implemented by providers that can tell a server's local
// time zone offset east of UTC (e.g. from `date +%z`). When the Dialer given
// to NewClient implements it, each controller's last_heartbeat values are
// read in its own server's zone; otherwise in ZoneOffset (UTC).
type ZoneReader interface {
	UTCOffset(ctx context.Context, server *schema.Server) (time.Duration, error)
}

// NewClient returns a Client dialling through d for the servers of c. A zero
// timeout means DefaultRequestTimeout.
func NewClient(d Dialer, c *schema.Cluster, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	cl := &Client{clocks: map[string]time.Duration{}, zones: map[string]time.Duration{}}
	if z, ok := d.(ZoneReader); ok {
		cl.zoner = z
	}
	cl.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		srv := serverFor(c, host)
		if srv == nil {
			return nil, fmt.Errorf("dial %s: the cluster has no server to dial from", addr)
		}
		conn, err := d.DialContext(ctx, srv, network, addr)
		if err != nil {
			return nil, fmt.Errorf("dial %s from server %s: %w", addr, srv.Name, err)
		}
		return conn, nil
	}
	tr := &http.Transport{
		DialContext:           cl.dial,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: timeout,
		DisableCompression:    true,
	}
	cl.HTTP = &http.Client{Transport: &clockTransport{next: tr, cl: cl}, Timeout: timeout}
	return cl
}

// PortOpen succeeds when a TCP connection to addr ("host:port") opens, dialled
// like the client's requests.
func (cl *Client) PortOpen(ctx context.Context, addr string) error {
	conn, err := cl.dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return conn.Close()
}

// Close drops idle connections.
func (cl *Client) Close() { cl.HTTP.CloseIdleConnections() }

func serverFor(c *schema.Cluster, host string) *schema.Server {
	if c == nil || len(c.Servers) == 0 {
		return nil
	}
	for _, s := range c.Servers {
		if s.Address == host {
			return s
		}
	}
	return c.Servers[0]
}

// PeerNow returns the current time on the host serving hostport (as in a URL,
// "10.0.0.2:8000"), in UTC, as learnt from its last answer's Date header; our
// own clock when it never answered.
func (cl *Client) PeerNow(hostport string) time.Time {
	cl.mu.Lock()
	off := cl.clocks[hostport]
	cl.mu.Unlock()
	return time.Now().Add(off).UTC()
}

// HeartbeatTime converts a last_heartbeat (the controller's local wall-clock
// time, parsed without zone) to an instant, in the default zone.
func (cl *Client) HeartbeatTime(t time.Time) time.Time {
	return WallUTC(t).Add(-cl.ZoneOffset)
}

// heartbeatTimeOn is HeartbeatTime in the zone of server, asked of the
// provider once per server when it can tell.
func (cl *Client) heartbeatTimeOn(ctx context.Context, server *schema.Server) func(time.Time) time.Time {
	off := cl.ZoneOffset
	if cl.zoner != nil && server != nil {
		cl.mu.Lock()
		z, known := cl.zones[server.Name]
		cl.mu.Unlock()
		if !known {
			var err error
			if z, err = cl.zoner.UTCOffset(ctx, server); err != nil {
				z = cl.ZoneOffset
			}
			cl.mu.Lock()
			cl.zones[server.Name] = z
			cl.mu.Unlock()
		}
		off = z
	}
	return func(t time.Time) time.Time { return WallUTC(t).Add(-off) }
}

// WallUTC reads t's wall-clock fields as UTC, whatever location it was parsed in.
func WallUTC(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

type clockTransport struct {
	next http.RoundTripper
	cl   *Client
}

func (t *clockTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	sent := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	got := time.Now()
	if d, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
		// Date has one-second resolution and is truncated: its true value is
		// on average half a second later.
		mid := sent.Add(got.Sub(sent) / 2)
		off := d.Add(500 * time.Millisecond).Sub(mid)
		if off > -time.Second && off < time.Second {
			off = 0 // within the header's resolution: same clock
		}
		t.cl.mu.Lock()
		t.cl.clocks[req.URL.Host] = off
		t.cl.mu.Unlock()
	}
	return resp, nil
}
