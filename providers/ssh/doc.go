// Package ssh implements providers.Provider for servers reached over SSH and
// for the "local" transport (this machine, the same code path without SSH).
//
// It owns the layout of a component on its host, the supervision of its
// process, reading that state back (Observe), the pre-flight checks, and
// preparing the registry database through a controller host's connection.
// How a host is reached (SSH, known_hosts, sudo, timeouts, quoting) lives in
// providers/host; what DB-GPT needs (arguments, settings, registry DDL) comes
// from internal/dbgpt and plan.Component. Every value that reaches a remote
// shell is quoted with host.Quote; file contents and secrets travel only on
// stdin (a script fed to `sh -s`), never on a command line.
//
// Remote layout, one directory per component, <deploy_dir>/<cluster>/<address>/
// (rendered paths under dbgpt.ComponentDir are made absolute to it):
//
//	manifest.json   what was deployed: cluster, address, role, server, port,
//	                settings hash, attributes (secrets already redacted),
//	                supervisor kind, deployed_at. Observe reads only these.
//	env             non-secret environment (NAME='value' lines), 0644
//	secret.env      secret environment, 0600
//	<settings>      Launch.Files, e.g. dbgpt.toml (0600 when secret)
//	start.sh        cd, write child.pid and started_at, count the attempt
//	                (attempts) and log "hactl: <time> attempt N starting",
//	                source env files with set -a, exec <dbgpt argv> <args>
//	run.sh          the supervisor (not with systemd)
//	supervisor.pid  pid of run.sh (a session leader: started with setsid)
//	child.pid       pid of the DB-GPT process
//	started_at      epoch seconds when the current process started
//	restarts        restarts since the last deploy
//	exits           run.sh: "<epoch> <status> <uptime s>" of the last 10 exits
//	data/           DB-GPT's own data (the webserver's meta database): kept
//	                by deploys and by Remove (with the owner mark, so a later
//	                deploy reuses it); Teardown with purge deletes it
//	log             stdout and stderr of the process and the supervisor, 0600;
//	                past log_max_size copied to log.1 and emptied in place
//	                (start.sh's rotator, see shRotate)
//	log.1           the log before its last rotation
//	unit            name of the systemd unit, when systemd supervises
//
// The supervisor restarts the process when it exits (backoff 1 s doubling to
// 30 s, reset after a minute up), and on SIGTERM forwards it, waits up to the
// stop timeout, SIGKILLs, and exits. Stopping acts on a pid only when that
// process's working directory is the component directory, so a recycled pid
// is never signalled. Where systemd is PID 1 and hactl is root, a unit
// hactl-<cluster>-<address>.service (Restart=always) runs start.sh instead.
//
// For hactl drill (providers.FaultInjector) Down takes a component down
// and keeps it down: stop is systemctl stop, or stop_component (SIGTERM to
// run.sh, which forwards it); kill is systemctl kill -s SIGKILL then
// systemctl stop (which cancels the restart systemd scheduled), or one
// SIGKILL to run.sh's process group, run.sh, the process and every other
// process of the component (the log rotator). Up starts it again without
// rewriting a file or resetting the restart count (systemctl start, or
// run.sh started as Deploy starts it, as the owner of the component
// directory) and returns once the process runs. Both log "hactl: <time>
// drill: down (stop|kill)" / "drill: up" in the component's log. Observe
// sets a running controller's Defect when its log since the process's
// "attempt N starting" line (log.1 too, when rotated since) holds DB-GPT's
// heartbeat checker traceback: one grep -F of the log (10 ms for 32 MiB);
// only when the word is there, a grep of the attempt lines and exception
// blocks and an awk of those (60-90 ms for 32 MiB).
//
// With run_as another user than hactl's commands run as, the component
// directory is chowned to it after every deploy and the process runs as it
// (the unit's User=/Group=, or run.sh started through setpriv or runuser);
// root keeps stopping, removing and observing it. Deploy clears the
// directory (but for log, log.1 and data/) after stopping the component's
// processes and removes a link left where it keeps a file, before root
// writes there.
package ssh
