// Package schema owns the cluster-file language: parsing HCL, variables and
// locals, references between blocks, functions, validation with precise
// diagnostics, formatting, and the typed Cluster the rest of hactl reads.
//
// It must not reach hosts, databases or Docker: it only reads files and the
// values given to it (-var, -var-file, HACTL_VAR_*).
package schema
