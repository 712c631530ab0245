// Package health owns the checks that say whether a deployed DB-GPT component
// really serves: a controller answers /api/health AND reads its registry
// (GET /api/controller/models), a worker's rows are healthy and fresh through
// every controller, a webserver answers and sees the models, an API server
// lists its models. It also owns the liveness rules for registry rows
// (live, unhealthy, stale, duplicate, stale registration) and WaitFor, the
// polling helper of apply's gates.
//
// It reaches components only through an http.Client whose connections are
// dialled by the provider from a server of the cluster (over that server's
// SSH connection), never directly. It changes nothing anywhere.
//
// Time: a row's last_heartbeat is the controller host's local wall-clock time
// without a zone. hactl reads the controller's clock from the Date header of
// its answers (UTC, one-second resolution), so skew between the operator's
// machine and the hosts does not matter. The zone of last_heartbeat is the
// controller's server's own when the provider can tell it (ZoneReader);
// otherwise last_heartbeat is read as UTC (Client.ZoneOffset): the hosts are
// expected to run in UTC, as the DB-GPT images and the test cluster do. A
// host east of UTC then shows heartbeats in the future (Row.Future, and
// status says so); one west of UTC shows every row hours stale.
package health
