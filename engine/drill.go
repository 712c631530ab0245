package engine

import (
	"context"
	"errors"
	"slices"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/drill"
	"github.com/hactl/hactl/internal/health"
	"github.com/hactl/hactl/internal/status"
	"github.com/hactl/hactl/providers/compose"
)

// Drill runs hactl drill (package drill) on the session's cluster: it
// holds the cluster's lock (operation "drill") for the whole drill, so no
// apply or destroy changes the cluster meanwhile, and releases it also when
// ctx was cancelled. A dry run takes no lock and changes nothing. The lock
// of a run that is certainly gone is broken (OnBrokenLock hears of it).
func (s *Session) Drill(ctx context.Context, o drill.Options, emit func(apply.Event)) (rep *drill.Report, err error) {
	if slices.Contains(o.Targets, drill.TargetRegistry) {
		if _, ok := s.Provider.(*compose.Provider); ok && !compose.Managed(s.Cluster) {
			return nil, errors.New("target registry: the compose project does not run this cluster's registry database (it is an external one), so hactl cannot stop it; drill the controllers and workers instead")
		}
	}
	cl := health.NewClient(s.Provider, s.Cluster, 0)
	defer cl.Close()
	d := drill.Deps{
		Cluster:  s.Cluster,
		Provider: s.Provider,
		Prober:   drill.NewProber(cl, s.Cluster),
		Healthy: func(ctx context.Context) ([]string, error) {
			r, err := s.Status(ctx, status.Options{})
			if err != nil {
				return nil, err
			}
			return r.Degraded(), nil
		},
	}
	if o.DryRun {
		return drill.Run(ctx, d, o, emit)
	}
	release, info, err := s.Lock(ctx, "drill")
	if err != nil {
		return nil, err
	}
	defer func() {
		if rerr := release(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if info != nil && s.OnBrokenLock != nil {
		s.OnBrokenLock(info)
	}
	return drill.Run(ctx, d, o, emit)
}
