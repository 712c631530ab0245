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
// <MODEL_NAME>_<NAME> (model name with '-' → '_', tried as is, upper- and
// lower-cased) then <NAME>; webserver WEBSERVER_<NAME>, <NAME>, then
// LLM_MODEL, MODEL_SERVER, DBGPT_WEBSERVER_PORT; apiserver APISERVER_<NAME>
// then <NAME>. A worker accepts only the flags of ModelWorkerParameters and
// of the parameter class its model selects (ModelParameters,
// ProxyModelParameters for a *_proxyllm name or path, EmbeddingModelParameters,
// ProxyEmbeddingParameters for a proxy_* embedding NAME); any other flag is
// click's "No such option" (exit 2). A proxy's key is --proxy_api_key or
// <MODEL_NAME>_PROXY_API_KEY / PROXY_API_KEY. The webserver exits with a
// KeyError when EMBEDDING_MODEL (default text2vec) is not a key of
// EMBEDDING_MODEL_CONFIG. A model that fails to load exits 0; a controller
// dies of SIGTERM.
//
// From 0.7.0 a start command takes only -c/--config FILE (required) and
// --daemon; strings in the file may use ${env:NAME} and ${env:NAME:-default}.
// The webserver joins a relative -c to the install root, the other roles
// open it from the working directory; relative paths inside the file (SQLite
// path) resolve against the install root. A MySQL registry without password
// reads ${env:DBGPT_DB_PASSWORD}; a model needs a provider ("Can not find
// adapter"); keys its provider's class lacks are dropped (DEBUG line); a
// proxy/openai model without api_key or OPENAI_API_KEY exits. Log level:
// level under [service.<role>.log] or [log].
//
// Every role writes its log file (dbgpt_model_controller.log,
// dbgpt_model_worker_manager.log, dbgpt_webserver.log,
// dbgpt_model_apiserver.log, or --log_file / file) into $DBGPT_LOG_DIR, else
// <root>/logs, besides logging to stderr; --log_level / level filters (DEBUG
// shows one "Logging level" line at start).
//
// Knobs of the sim itself (environment):
//
//	DBGPT_SIM_VERSION            version it claims (default 0.6.3); picks the generation
//	DBGPT_SIM_NO_METADATA        non-empty: `--version` fails as without package metadata
//	DBGPT_SIM_ROOT               install root (default: the parent of the executable's directory)
//	DBGPT_SIM_LOAD_DELAY         worker model load time (Go duration, default 1s), with
//	                             "Loading checkpoint shards: i/4" lines; the port opens after it
//	DBGPT_SIM_FAIL_AFTER         worker crashes after this long (Go duration) with a
//	                             traceback (ModuleNotFoundError: No module named 'torch'), exit 1
//	DBGPT_SIM_REGISTER_DELAY     worker port open → registration (default 1s)
//	DBGPT_SIM_PROBE_INTERVAL     controller /api/health probes of clients (default 5s)
//	DBGPT_SIM_MANAGER_HEARTBEAT  WorkerManager@service heartbeat (default 20s)
//	DBGPT_SIM_TRACE_CHECKER      non-empty: a controller logs "dbgpt-sim: heartbeat checker pass N"
//	                             after each pass of its checker (DB-GPT logs nothing; for tests)
//	DBGPT_SIM_CHATTY             a byte rate ("200KiB", "1MiB", bytes): every server process writes
//	                             uvicorn-style access log lines ("GET /api/health ... 200 OK") to
//	                             stdout at that rate, as a DB-GPT that logs every probe does
package main
