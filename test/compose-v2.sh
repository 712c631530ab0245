#!/usr/bin/env bash
# Installs Compose v2 (the `docker compose` CLI plugin) when `docker compose
# version` fails, so the compose provider's tests can run under both CLIs.
# docker-compose v1 (Debian's package) stays as it is.
#
# Compose v2's CLI is the Go module github.com/docker/compose/v5 (the module
# was renamed; the CLI is still "Docker Compose" v2's line). It is built from
# the module cache with this machine's Go: `go install` refuses the module's
# exclude directives, so the module is downloaded (through GOPROXY, whatever
# the environment sets) and built from a copy. The build takes a few minutes;
# it is skipped when the plugin is already installed at the wanted version.
#
# Environment: COMPOSE_V2_VERSION (default below), COMPOSE_V2_PLUGIN_DIR
# (default /usr/local/lib/docker/cli-plugins, one of the docker CLI's plugin
# directories; $DOCKER_CONFIG/cli-plugins for a private install).
set -euo pipefail
version=${COMPOSE_V2_VERSION:-v5.6.0}
dir=${COMPOSE_V2_PLUGIN_DIR:-/usr/local/lib/docker/cli-plugins}
plugin=$dir/docker-compose
module=github.com/docker/compose/v5

# The version the installed plugin reports ("v5.6.0"), empty when none.
installed() { [ -x "$plugin" ] && "$plugin" version --short 2>/dev/null | sed 's/^v*/v/' || true; }

if [ "$(installed)" = "$version" ]; then
	echo "compose v2: $plugin is $version already"
	docker compose version
	exit 0
fi
if [ ! -e "$plugin" ] && docker compose version >/dev/null 2>&1; then
	echo "compose v2: docker compose is there already: $(docker compose version)"
	exit 0
fi

command -v go >/dev/null || { echo "compose v2: go is needed to build $module@$version" >&2; exit 1; }
command -v jq >/dev/null || { echo "compose v2: jq is needed (apt-get install jq)" >&2; exit 1; }
t0=$(date +%s)
src=$(go mod download -json "$module@$version" | jq -r .Dir)
[ -d "$src" ] || { echo "compose v2: go mod download $module@$version gave no directory" >&2; exit 1; }
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$src" "$work/src"
chmod -R u+w "$work/src"
# internal.Version is what `docker compose version` prints ("dev" otherwise).
grep -q "^var Version = " "$work/src/internal/variables.go" ||
	{ echo "compose v2: $module@$version has no internal.Version to set" >&2; exit 1; }
(cd "$work/src" && CGO_ENABLED=0 go build -trimpath \
	-ldflags "-s -w -X $module/internal.Version=$version" -o "$work/docker-compose" ./cmd)
install -d -m 755 "$dir"
install -m 755 "$work/docker-compose" "$plugin"
echo "compose v2: built $module@$version in $(($(date +%s) - t0))s, installed as $plugin"
if [ "$(installed)" != "$version" ]; then
	echo "compose v2: $plugin reports '$(installed)', want $version" >&2
	exit 1
fi
docker compose version
