package engine

import (
	"context"

	"github.com/hactl/hactl/lock"
	"github.com/hactl/hactl/providers"
)

// Lock takes the cluster's operation lock for op (apply, destroy, drill),
// or returns a *lock.HeldError naming the run that holds it. A lock left by
// a run that is certainly gone (lock.Info.Dead) is broken and returned as
// broken, for a notice. release gives the lock back (also after ctx was
// cancelled); call it once the operation is over. A provider that keeps no
// lock (a test's fake) locks nothing.
func (s *Session) Lock(ctx context.Context, op string) (release func() error, broken *lock.Info, err error) {
	l, ok := s.Provider.(providers.Locker)
	if !ok {
		return func() error { return nil }, nil, nil
	}
	return lock.Take(ctx, l.LockStore(), lock.NewInfo(s.Cluster.Name, op))
}

// LockHolder returns the run holding the cluster's lock, nil when none
// does (or the provider keeps no lock).
func (s *Session) LockHolder(ctx context.Context) (*lock.Info, error) {
	l, ok := s.Provider.(providers.Locker)
	if !ok {
		return nil, nil
	}
	return l.LockStore().Read(ctx)
}

// ForceUnlock breaks the cluster's lock when its ID is id, returning what
// the lock said.
func (s *Session) ForceUnlock(ctx context.Context, id string) (lock.Info, error) {
	l, ok := s.Provider.(providers.Locker)
	if !ok {
		return lock.Info{}, lock.ErrNotLocked
	}
	return lock.ForceUnlock(ctx, l.LockStore(), id)
}
