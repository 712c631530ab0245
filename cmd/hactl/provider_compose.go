package main

import (
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/compose"
	"github.com/hactl/hactl/schema"
)

func init() {
	registerProvider("compose", func(c *schema.Cluster, o ProviderOptions) (providers.Provider, error) {
		p, err := compose.NewProvider(c, compose.Options{})
		if err != nil {
			return nil, err
		}
		// In a compose project every component is its own service and that
		// service is its "server" (compose.Adapt): workers register with
		// their service name, controllers are http://<service>:<port>. The
		// caller's cluster is replaced in place by the adapted one, so the
		// plan, the health gates and status that follow all agree with the
		// containers.
		*c = *p.Cluster()
		return p, nil
	})
}
