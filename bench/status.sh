#!/usr/bin/env bash
# The "status" benchmark (issue 12): 20 environments (20 spaces of one test Octopus API
# on 127.0.0.1), 10,000 workers; `workergen status --format json` timed end to end
# (load and validate the declarations, read every space, compare, print). Target: under
# 3 s on 2 cores. Prints the wall time and the number of HTTP requests of each run.
#
#   bench/status.sh [--runs N] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
build=yes
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) runs=${2:?}; shift 2 ;;
        --no-build) build=no; shift ;;
        *) echo "usage: bench/status.sh [--runs N] [--no-build]" >&2; exit 2 ;;
    esac
done

target=${CARGO_TARGET_DIR:-target}
if [[ $build == yes ]]; then
    cargo build --release --quiet
    cargo build --release --quiet --example status_bench
fi
"$target/release/examples/status_bench" "$target/release/workergen" "$runs"
