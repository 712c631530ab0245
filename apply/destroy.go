package apply

import (
	"context"
	"fmt"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/schema"
)

// DestroyPlan is the plan of a destroy: every observed component, found on
// any server of the file, removed in reverse dependency order. The registry
// is not part of it: destroy keeps the registry's table (and, unless
// --purge-registry, its rows).
func DestroyPlan(observed []providers.Observed) *plan.Plan {
	return plan.Diff(nil, nil, observed, nil)
}

// Destroy stops and removes every component of p (a DestroyPlan): the
// webserver and API server first, then the workers, then, after marking
// every registry row unhealthy through the controllers, the controllers.
// The registry's data is kept unless purge is set.
func Destroy(ctx context.Context, prov providers.Provider, c *schema.Cluster, p *plan.Plan, purge bool, opts Options) (Result, error) {
	e := newExecutor(prov, c, opts)
	for level := plan.LevelFrontend; level >= plan.LevelController; level-- {
		if level == plan.LevelController {
			e.deregisterAll(ctx)
		}
		var lns [][]*plan.Change
		for _, ch := range p.Changes {
			if ch.Level == level && ch.Action == plan.Destroy {
				lns = append(lns, []*plan.Change{ch})
			}
		}
		e.runLanes(ctx, lns)
		if e.stopped() {
			return e.res, e.err()
		}
	}
	if purge {
		start := time.Now()
		e.emit(RegistryStart{Step: RegistryPurge})
		n, err := prov.Registry(c).Purge(ctx)
		if err != nil {
			return e.res, fmt.Errorf("purging the registry: %w", err)
		}
		e.emit(RegistryComplete{Step: RegistryPurge, Elapsed: time.Since(start), Rows: int(n)})
	}
	return e.res, nil
}

// deregisterAll marks every healthy registry row unhealthy through every
// controller of the file that answers, before the controllers stop, so no
// client trusts a row of a worker that is gone. Workers already did so for
// their own rows on SIGTERM; this catches the rest. Best effort: a
// controller that does not answer is skipped.
func (e *executor) deregisterAll(ctx context.Context) {
	marked := 0
	for _, ctl := range e.c.Controllers {
		cl := dbgpt.NewClient(e.hc.HTTP, ctl.URL())
		rows, err := cl.ListModels(ctx, "", true)
		if err != nil {
			continue
		}
		for _, r := range rows {
			r.RemoveFromRegistry = false
			if cl.Deregister(ctx, r) == nil {
				marked++
			}
		}
	}
	if marked > 0 {
		e.emit(RegistryRowsUnhealthy{Rows: marked})
	}
}
