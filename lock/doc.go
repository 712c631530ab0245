// Package lock is the cluster-wide operation lock: one apply, destroy (or
// drill) at a time per cluster. It owns what a lock says (Info: id, owner,
// host, pid, command, start time), how a held lock is reported (HeldError,
// with a holder known to be dead said so), taking and releasing it
// (Acquire) and breaking it by id (ForceUnlock). Where a lock is kept is a
// provider's: it supplies a Store (over SSH a file on the cluster's first
// server, for compose a file in the project's work directory: FileStore).
package lock
