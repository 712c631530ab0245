// Package registry is dbgpt-sim's model registry with DB-GPT's semantics:
// the in-memory EmbeddedModelRegistry and the StorageModelRegistry over the
// MySQL or SQLite table, and the per-controller heartbeat checker.
//
// It does not speak HTTP; the controller package maps requests onto it.
package registry
