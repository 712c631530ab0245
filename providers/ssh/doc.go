// Package ssh implements providers.Provider for servers reached over SSH and
// for the "local" transport (this machine, the same code path without SSH).
//
// It owns the layout of a component on its host (a directory per component
// under the server's deploy directory: settings, env files, supervisor
// script, pid files, log, manifest.json), the supervision of the process
// (a POSIX sh supervisor started with setsid, or a systemd unit where systemd
// runs), reading that state back (Observe), pre-flight checks, and preparing
// the registry database through a controller host's connection.
//
// How a host is reached (SSH, known_hosts, sudo, timeouts, quoting) lives in
// providers/host; what DB-GPT needs (arguments, settings, registry DDL) comes
// from internal/dbgpt and plan.Component. Every value that reaches a remote
// shell is quoted with host.Quote; secrets travel only on stdin.
package ssh
