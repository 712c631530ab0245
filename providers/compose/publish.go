package compose

import (
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/hactl/hactl/schema"
)

// URL implements status.Publisher: the URL a person opens on this machine
// for a component (its plan address) compose.publish publishes, "" for
// any other. A wildcard publish address is opened at loopback (or at the
// engine's host when DOCKER_HOST names a remote one).
func (p *Provider) URL(address string) string {
	role, port := "", 0
	switch c := p.c; {
	case address == "webserver" && c.Webserver != nil:
		role, port = schema.RoleWebserver, c.Webserver.Port
	case address == "apiserver" && c.APIServer != nil:
		role, port = schema.RoleAPIServer, c.APIServer.Port
	case strings.HasPrefix(address, "controller."):
		for _, ctl := range c.Controllers {
			if "controller."+ctl.Name == address {
				role, port = schema.RoleController, ctl.Port
			}
		}
	}
	b, ok := Published(p.c, role, port)
	if !ok {
		return ""
	}
	host := b.HostIP
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
		if u, err := url.Parse(os.Getenv("DOCKER_HOST")); err == nil && (u.Scheme == "tcp" || u.Scheme == "ssh") && u.Hostname() != "" {
			host = u.Hostname()
		}
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
}
