#!/usr/bin/env bash
# The tests under load: make unit and make test, each ROUNDS times in a row
# (default 3), with stress-ng --cpu 4 hogging this machine's cores beside
# them. Prints each round's time; exits non-zero at the first failure.
# Needs stress-ng (apt-get install stress-ng) and what make test needs.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
command -v stress-ng >/dev/null || { echo "stress-ng is missing: apt-get install stress-ng" >&2; exit 1; }
stress-ng --cpu 4 --timeout 0 --quiet &
hog=$!
trap 'kill $hog 2>/dev/null || true; wait $hog 2>/dev/null || true' EXIT
for target in unit test; do
	for i in $(seq 1 "$rounds"); do
		t0=$(date +%s)
		if ! make "$target" >"/tmp/hactl-stress-$target-$i.log" 2>&1; then
			echo "make $target, round $i: FAILED after $(($(date +%s) - t0))s (log: /tmp/hactl-stress-$target-$i.log)"
			grep -E '^(--- FAIL|FAIL|panic)' "/tmp/hactl-stress-$target-$i.log" | head -20
			exit 1
		fi
		echo "make $target, round $i: ok in $(($(date +%s) - t0))s (load $(cut -d' ' -f1 /proc/loadavg))"
	done
done
