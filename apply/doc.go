// Package apply owns carrying out a plan.Plan through a providers.Provider:
// pre-flight, registry preparation, the levels in dependency order
// (controllers → workers → webserver/apiserver) with bounded parallelism,
// rolling changes (one controller at a time, one worker of a model at a
// time, each healthy again before the next), health gates with per-level
// timeouts, removal of components no longer wanted, and destroy. It decides
// nothing about what should change: that is plan's job. It writes no text:
// it emits typed events (events.go, Options.OnEvent) that package views
// renders for people or as JSON.
//
// Every change goes through the provider, whose Deploy and Remove are
// idempotent: an apply that failed half-way is repaired by the next one.
package apply
