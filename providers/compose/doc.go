// Package compose deploys a cluster file as a docker compose project: it
// builds the project with compose-go from the typed schema.Cluster and the
// rendered plan.Components (Build, used by `hactl export compose`), and
// implements providers.Provider on top of the docker and docker compose CLIs
// (New).
//
// Mapping (see Adapt): every controller, worker, webserver and apiserver is a
// service of its own, and its service name is also its "server": workers
// register with their service name as worker_register_host, controller URLs
// are http://<service>:<port> on the project's private network. The managed
// registry database is one more service. Services carry labels with hactl's
// component address and settings hash, so Observe reads the real state from
// the containers instead of a local state file.
//
// Secrets never appear in the YAML: they reach containers through env files
// of mode 0600 written next to it. The registry schema is created by hactl
// (internal/dbgpt.EnsureSchema), never by an init script in the image.
//
// This package must not decide what to deploy or in which order (plan and
// apply do), nor how DB-GPT settings are rendered (internal/dbgpt does).
package compose
