// Package drill owns hactl drill: proving on the live cluster that it is
// highly available, and putting back what it took down. It owns the drill's
// steps (which components go down, in which order), the checks made every
// second while one is down, the verdicts drawn from them and the report.
// It writes no text and parses no flags: it emits events (apply.Event:
// StepEvent, Check) and returns a Report; package views renders both and
// cmd/hactl parses the flags.
//
// A step is one of:
//   - controller.NAME: the controller goes down (Options.Mode: a clean stop or
//     a SIGKILL of process and supervisor); for at least the heartbeat
//     timeout plus the heartbeat interval (the largest of the controllers')
//     every declared worker's rows must stay listed and live, with heartbeats
//     advancing, through every remaining controller, and the webserver and
//     API server must answer; then it comes back and must be healthy and
//     list every model again.
//   - worker.NAME: the worker is killed; the time until every controller's
//     heartbeat checker marks its row unhealthy is measured (DB-GPT: between
//     the timeout and timeout + interval after its last heartbeat), then it
//     comes back and must be live through every controller again.
//   - registry: the registry database the provider manages goes down for
//     Options.RegistryDownFor; what answers meanwhile is counted; after it is
//     back each controller's log since the step began tells whether its
//     heartbeat checker thread survived (DB-GPT's dies on its first database
//     error).
//
// Whatever went down is brought back on every way out of a step (an error,
// a failed check, a cancelled context) with a context of its own.
package drill
