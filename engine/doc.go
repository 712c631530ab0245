// Package engine is hactl's orchestration, callable without the command
// line: it opens a provider for a cluster (Open), makes a plan (pre-flight,
// observation of the hosts and the registry, diff, health of what would stay
// unchanged), applies it, destroys, gathers status and reads logs. The
// commands in cmd/hactl parse flags, call one Session method and hand the
// result to a view; a test or another front end calls the same methods.
//
// It owns the order of those steps, not the steps: what to change is plan's,
// how to change it apply's, how to reach hosts the providers'.
package engine
