package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/internal/defaults"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
)

// Plan runs the pre-flight checks, observes the cluster and the registry
// database (a foreign registry table fails the plan), diffs them against
// the file and checks the health of what would stay unchanged (a component
// that runs but does not serve is planned for repair, unless it is still
// within its start timeout: then it is starting, see apply.CheckUnchanged).
// It changes nothing.
func (s *Session) Plan(ctx context.Context) (*plan.Plan, error) {
	c, prov := s.Cluster, s.Provider
	desired, err := plan.Desired(c)
	if err != nil {
		return nil, err
	}
	// Pre-flight, observing the servers and observing the registry read
	// and change nothing: they run side by side (over the same connection
	// per server), and a pre-flight problem still wins over the others'.
	var (
		wg             sync.WaitGroup
		obs            []plan.Observed
		reg            plan.RegistryState
		obsErr, regErr error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		obs, obsErr = prov.Observe(ctx, c)
	}()
	go func() {
		defer wg.Done()
		reg, regErr = prov.Registry(c).State(ctx)
	}()
	preErr := apply.Preflight(ctx, prov, c, desired)
	wg.Wait()
	if preErr != nil {
		return nil, preErr
	}
	if obsErr != nil {
		return nil, fmt.Errorf("observing the cluster: %w", obsErr)
	}
	if regErr != nil {
		return nil, fmt.Errorf("observing the registry: %w", regErr)
	}
	if err := plan.CheckRegistry(&reg); err != nil {
		return nil, err
	}
	p := plan.Diff(c, desired, obs, &reg)
	hc := apply.NewHealthChecker(prov, c, defaults.RequestTimeout)
	defer hc.Client.Close()
	apply.CheckUnchanged(ctx, hc, p, defaults.UnchangedHealthTimeout, s.GateTimeouts, s.opts.Concurrency)
	return p, nil
}

// Apply carries out p, made by Plan in this session (so pre-flight has
// run). Unset options take the session's concurrency.
func (s *Session) Apply(ctx context.Context, p *plan.Plan, o apply.Options) (apply.Result, error) {
	o.SkipPreflight = true
	if o.Concurrency == 0 {
		o.Concurrency = s.opts.Concurrency
	}
	inv, remembers := s.Provider.(providers.Inventory)
	if remembers {
		// Before any change: every server about to hold a component, and
		// those still holding one, so a failed apply forgets none.
		if err := inv.RecordInventory(ctx, s.Cluster, p.Observed); err != nil {
			return apply.Result{}, fmt.Errorf("recording the cluster's servers: %w", err)
		}
	}
	res, err := apply.Apply(ctx, s.Provider, s.Cluster, p, o)
	if err == nil && remembers {
		if err := inv.RecordInventory(ctx, s.Cluster, nil); err != nil {
			return res, fmt.Errorf("recording the cluster's servers: %w", err)
		}
	}
	return res, err
}

// DestroyPlan observes every hactl component deployed for the cluster
// (also those no longer in the file) and plans their removal.
func (s *Session) DestroyPlan(ctx context.Context) (*plan.Plan, error) {
	obs, err := s.Provider.Observe(ctx, s.Cluster)
	if err != nil {
		return nil, fmt.Errorf("observing the cluster: %w", err)
	}
	return apply.DestroyPlan(obs), nil
}

// Destroy removes every component of p (a DestroyPlan) in reverse order,
// purges the registry's rows of this cluster when purge is set, then tears
// down what the provider owns beyond the components.
func (s *Session) Destroy(ctx context.Context, p *plan.Plan, purge bool, o apply.Options) (apply.Result, error) {
	if o.Concurrency == 0 {
		o.Concurrency = s.opts.Concurrency
	}
	res, err := apply.Destroy(ctx, s.Provider, s.Cluster, p, purge, o)
	if err != nil {
		return res, err
	}
	err = s.Teardown(ctx, purge)
	if k, ok := s.Provider.(providers.DataKeeper); ok && o.OnEvent != nil {
		for _, d := range k.Kept() {
			if !purge {
				o.OnEvent(apply.DataKept{Address: d.Component, Server: d.Server, Path: d.Path})
			}
		}
	}
	return res, err
}
