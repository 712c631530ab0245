// Command dbgpt-sim is the project's stand-in for DB-GPT's `dbgpt` command,
// faithful to /work/shared/DBGPT-PROTOCOL.md for everything hactl touches.
// Install it as `dbgpt` on a host (CGO_ENABLED=0 builds a static binary).
//
//	dbgpt --version | --help
//	dbgpt start controller|worker|webserver (web)|apiserver [OPTIONS]
//	dbgpt model [--address URL] list [--model_name N] [--model_type T]
//	dbgpt stop ...            (refuses: DB-GPT's own stop is broken)
//
// Before 0.7.0 (the flags generation) every setting is a flag with DB-GPT's
// environment fallbacks: controller CONTROLLER_<NAME> then <NAME>; worker
// <MODEL_NAME>_<NAME> (model name upper-cased, '-' → '_') then <NAME>;
// webserver WEBSERVER_<NAME>, <NAME>, then LLM_MODEL, MODEL_SERVER,
// DBGPT_WEBSERVER_PORT; apiserver APISERVER_<NAME> then <NAME>. From 0.7.0 a
// start command takes only -c/--config FILE (and --daemon); strings in the
// file may use ${env:NAME} and ${env:NAME:-default}.
//
// Knobs of the sim itself (environment):
//
//	DBGPT_SIM_VERSION            version it claims (default 0.6.3); picks the generation
//	DBGPT_SIM_NO_METADATA        non-empty: `--version` fails as without package metadata
//	DBGPT_SIM_LOAD_DELAY         worker model load time (Go duration, default 1s)
//	DBGPT_SIM_REGISTER_DELAY     worker port open → registration (default 1s)
//	DBGPT_SIM_PROBE_INTERVAL     controller /api/health probes of clients (default 5s)
//	DBGPT_SIM_MANAGER_HEARTBEAT  WorkerManager@service heartbeat (default 20s)
//	DBGPT_SIM_TRACE_CHECKER      non-empty: a controller logs "dbgpt-sim: heartbeat checker pass N"
//	                             after each pass of its checker (DB-GPT logs nothing; for tests)
package main
