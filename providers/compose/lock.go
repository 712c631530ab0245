package compose

import "github.com/hactl/hactl/lock"

// LockStore keeps the project's operation lock beside its work directory
// (<work dir>.lock.json), not in it: destroy removes the work directory
// while the lock is still held.
func (p *Provider) LockStore() lock.Store {
	return lock.FileStore{Path: p.dir + ".lock.json"}
}
