// Package compose deploys a cluster file as a docker compose project: it
// builds the project with compose-go from the typed schema.Cluster and the
// rendered plan.Components (Build; Export for `hactl export compose`), and
// implements providers.Provider on top of the docker and docker compose CLIs
// (New).
//
// # Mapping
//
// Every controller, worker, webserver and apiserver is a service of its own,
// and that service is also its "server" (Adapt): a synthetic server whose
// name and address are the service name. So the settings rendered by
// internal/dbgpt make workers register with their service name as
// worker_register_host and point every client at http://<controller
// service>:<port> on the project's private network "hactl"; bind addresses
// are 0.0.0.0 (each container has its own network namespace). Plan, apply,
// the health gates and status must run on the adapted cluster
// (Provider.Cluster; cmd/hactl adapts in place when --provider compose).
//
// Service names: the component name when it already starts with its role
// ("controller1"), else role-name ("worker-text2vec"); "webserver",
// "apiserver". The managed registry database is the service named like the
// registry block's host when that is a plain host name (else "registry-db"),
// reached at <service>:3306. The project name is compose.project or the
// cluster name, lower-cased.
//
// # Project
//
//   - image: compose.dbgpt_image for components, with entrypoint "dbgpt" and
//     the rendered arguments as command; the image name (and a worker's
//     models_dir) is the synthetic server's "dbgpt command", so it is part
//     of every component's settings hash and a new image is a planned change.
//   - settings files (TOML generation) are written to <service>/ next to the
//     YAML and bind-mounted at /hactl, the working directory.
//   - secrets (SecretEnv, the database passwords) are only in <service>.env
//     files of mode 0600 next to the YAML (env_file), never inline. Values
//     are single-quoted so compose v1 and v2 read them alike; a secret with a
//     backslash or line break is refused.
//   - healthchecks: controllers GET /api/controller/models and want 200 with
//     a JSON list (it reads the registry; /api/health does not); webserver
//     GET /api/health; workers and apiserver: their port accepts. They need
//     only bash in the image (an HTTP/1.0 request over /dev/tcp), not curl.
//     The database: `mysqladmin ping -h 127.0.0.1` (or mariadb-admin).
//   - depends_on with condition service_healthy in apply order: database →
//     controllers → workers → webserver/apiserver; restart: unless-stopped.
//   - managed database: compose.database_image (default mysql:8.0) with
//     MYSQL_ROOT_PASSWORD and MARIADB_ROOT_PASSWORD (and *_DATABASE, *_USER,
//     *_PASSWORD for a non-root registry user), which the official mysql and
//     mariadb images and the test image understand; data in the named volume
//     compose.database_volume (default <project>_registry-data).
//   - the webserver's data directory (ContainerDir/data: its SQLite meta
//     database, both generations) is the named volume
//     <project>_webserver-data, so a replaced container keeps its chat
//     history; destroy keeps it, --purge-registry removes it.
//   - labels on every container: dev.hactl.cluster, .project, .service,
//     .component (plan address), .role, .name, .port, .hash (settings hash),
//     .attributes (the plan attributes, secrets redacted). Observe reads the
//     state from them; no local state file. The database container carries
//     .hash, .attributes and .secret-digests of its own settings (image,
//     volume, database, user; root and user password as salted PBKDF2
//     digests, never the value): the registry's State reads them, so plan
//     shows a change as an update of the registry, which Ensure carries out
//     (`up -d` of the service recreates it; the volume keeps the data).
//   - ports: each component whose role compose.publish lists ("webserver",
//     "apiserver", "controllers") is published on compose.publish_address at
//     its own port (short syntax "ADDR:PORT:PORT", read alike by v1.29 and
//     v2); the published address is part of its synthetic server's dbgpt
//     command, so publishing is a planned change. Two published components
//     on one port are refused by Build; pre-flight refuses a host port in use
//     by anything but this project. URL gives status the URL to open.
//   - the YAML is narrowed to what docker-compose v1.29 accepts (no
//     top-level name: .env carries COMPOSE_PROJECT_NAME), which compose v2
//     reads the same.
//
// # Provider
//
// The project file lives in a work directory (mode 0700, default
// ~/.hactl/compose/<project>) and always holds every wanted service. Deploy
// rewrites it and runs `up -d --no-deps --no-build <service>`, the ups of
// different services at the same time (a level's components start
// together) but for the provider's first, which may create the network and
// runs alone; compose leaves an unchanged running container alone, so Deploy then restarts it
// (`docker restart`: apply deploys an unchanged component only to repair
// it). Observe reads, for each running controller, its output since the
// container started (`docker logs --since`, up to 32 MiB, stopping at the
// traceback) for DB-GPT's heartbeat checker traceback: Observed.Defect.
// For hactl drill, Down is `docker stop` or `docker kill`, Up `docker
// start` of the same container, RegistryDown and RegistryUp `docker stop`
// and `docker start` of the managed database's, RegistryUp waiting until
// the database sends its greeting. The compose CLI is the one
// HACTL_COMPOSE_CLI (CLIEnv) names, "v2" the docker compose plugin, "v1"
// the docker-compose program, unset the plugin when it answers, else
// docker-compose; an asked-for CLI that does not answer is a pre-flight
// problem. Both are tested (test/e2e runs the compose tests under each). Pre-flight never pulls: images must be local.
// Registry gives package registry the project network to reach MySQL from
// and, for the managed database, the extras it needs: Ensure starts the
// database service, waits until it accepts connections (it sends the
// MySQL greeting, polled from 25 ms backing off to 400 ms, or Docker
// reports it healthy), and then, as
// root, creates the database and registry user, and the registry table (no
// init script). DialContext takes a service name to that service's running
// container and reaches it as compose.access says (access.go):
//
//   - "network": the container's address on the project network, dialled
//     from this machine (only a Linux Docker host routes it);
//   - "exec": the container's published host port for that port when it
//     has one and the engine is local (DOCKER_HOST or the docker context is
//     a unix socket or named pipe; Docker Desktop forwards published ports
//     here), else a tunnel: `docker exec -i <target container> bash -c …`
//     connects to 127.0.0.1:<port> inside the container over /dev/tcp and
//     copies both ways between the socket and the exec's stdin/stdout, a
//     net.Conn here. It needs bash (4.3+, for wait -n) and cat in the image
//     (the DB-GPT image and the database image); when either side closes,
//     the script stops both copies and exits, and Close kills a docker exec
//     that has not ended after a grace period;
//   - "auto" (default): the first dial tries the container address for
//     probeTimeout; connected: network from then on; not answering: exec;
//     refused (a firewall, or nothing listening yet) is decided by whether
//     the exec path connects, and if it does, by whether the address now
//     connects too (the service began to listen meanwhile: network).
//     Decided once per provider. The network path reuses a service's
//     container lookup for netTTL (1 s), forgotten whenever the provider
//     changes a container.
//
// Anything that is not a service (an external registry database) is
// dialled from this machine as is.
//
// Remove stops (SIGTERM: workers
// deregister) and removes a component's containers; when the last component
// is gone the database service and network go too, the volume stays;
// a registry purge with no component left removes the volume. Teardown does
// all of it explicitly.
//
// This package must not decide what to deploy or in which order (plan and
// apply do), nor how DB-GPT settings are rendered (internal/dbgpt does).
package compose
