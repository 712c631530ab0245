// Package schema owns the cluster-file language: parsing HCL, variables and
// locals, references between blocks, functions, validation with precise
// diagnostics, formatting, and the typed Cluster the rest of hactl reads.
//
// Load (or LoadDiagnostics, or Decode for bytes already read) is the only way
// in. It runs these steps over one file:
//
//  1. parse, and check the top-level blocks and every block's arguments
//     against spec.go (unknown, missing and duplicate ones);
//  2. variables: declarations, then values layered default < HACTL_VAR_NAME
//     < -var-file (in order) < -var (in order); sensitive values are marked
//     and remembered for Cluster.Secrets;
//  3. locals, in dependency order, reporting cycles;
//  4. cluster, servers (each over the defaults block), models, registry,
//     controllers, workers, webserver, apiserver, compose: every argument is
//     evaluated with var.*, local.*, server.* and model.* (server.X and
//     model.X are objects carrying their name, decoded back to *Server and
//     *Model), type-checked, range-checked and defaulted;
//  5. the cross-block rules of validate.go (ports, registry versus
//     controllers, default models, generation-specific settings, ...).
//
// Every problem is one hcl.Diagnostic whose Subject is the exact range of
// the argument, label or block at fault; a file with errors yields no
// Cluster. spec.go is the single description of blocks and arguments: the
// decoder's schemas and the reference in docs/cluster-file.md both come from
// it.
//
// It must not reach hosts, databases or Docker: it only reads the cluster
// file, -var-file files, files named in file(), and the values given to it
// in LoadOptions (never the real process environment).
package schema
