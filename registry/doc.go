// Package registry owns the registry database of a cluster: the table of
// DB-GPT's StorageModelRegistry in MySQL or SQLite, and every rule about it.
// Ensure prepares it before any controller starts (creates the database
// when the file allows it and the table when absent, and refuses a table
// that lacks DB-GPT's columns); State observes it for a plan without
// changing anything; Rows reads it for status; Purge deletes the rows of
// the cluster's own workers; Check is pre-flight's test of a MySQL server
// (reachable, login, database present) from one place.
//
// Providers only say how the database is reached (Access): places to dial
// MySQL from (a controller host's SSH connection, the compose network) and
// where an SQLite file lives (opened in place, or copied over SSH and
// written back). What one provider needs beyond that (compose's managed
// database: start it, log in as root, tell it is stopped, drop it with its
// volume, say which settings its container has and the file wants) are
// optional interfaces of the access value. The SQL text itself
// (DDL, queries) is internal/dbgpt's.
package registry
