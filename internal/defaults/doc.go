// Package defaults owns the value of every setting that hactl fills in when
// neither the cluster file nor a command-line flag gives one: the cluster
// file's argument defaults (which schema decodes with and whose reference in
// docs/cluster-file.md is generated from these constants), the transport's
// timeouts, and the defaults of an apply (concurrency, health-gate timeouts,
// request timeout) that the command line's flags start from.
//
// It is a leaf: it imports nothing of hactl, so every layer, from schema to
// the providers, apply and cmd/hactl, reads the same constant.
package defaults
