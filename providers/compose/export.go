package compose

import (
	"fmt"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/schema"
)

// Export builds the compose project of a cluster file as `hactl export
// compose` writes it: adapted, rendered by the plan machinery, built.
func Export(c *schema.Cluster, opts BuildOptions) (*Project, error) {
	ac, err := Adapt(c)
	if err != nil {
		return nil, err
	}
	comps, err := plan.Desired(ac)
	if err != nil {
		return nil, fmt.Errorf("compose: rendering components: %w", err)
	}
	return Build(ac, comps, opts)
}
