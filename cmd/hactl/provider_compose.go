package main

import (
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/compose"
	"github.com/hactl/hactl/schema"
)

func init() {
	registerProvider("compose", func(c *schema.Cluster, o ProviderOptions) (providers.Provider, *schema.Cluster, error) {
		p, err := compose.NewProvider(c, compose.Options{})
		if err != nil {
			return nil, nil, err
		}
		// In a compose project every component is its own service and that
		// service is its "server" (compose.Adapt): workers register with
		// their service name, controllers are http://<service>:<port>. The
		// adapted cluster is what the plan, the health gates and status that
		// follow must use, so they all agree with the containers.
		return p, p.Cluster(), nil
	})
}
