#!/usr/bin/env bash
# The "diff" benchmark: the 10,000-worker synthetic fleet (bench/gen-fleet.py)
# committed in a real Git repository with its rendered/ tree, then
#   - a head where one environment default changes (hundreds of workers change), and
#   - a head where one worker's pools change,
# each timed as `workergen diff --base main --head <branch> --format json` (the base and
# head read from Git objects, rendered/ drift checked). Targets: under 3 s and 0.5 s.
#
#   bench/diff.sh [--runs N] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
build=yes
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) runs=${2:?}; shift 2 ;;
        --no-build) build=no; shift ;;
        *) echo "usage: bench/diff.sh [--runs N] [--no-build]" >&2; exit 2 ;;
    esac
done

target=${CARGO_TARGET_DIR:-target}
[[ $build == yes ]] && cargo build --release --quiet
bin=$(realpath "$target/release/workergen")
repo=$(realpath -m "$target/bench-diff")
rm -rf "$repo"
mkdir -p "$repo"
python3 bench/gen-fleet.py "$repo" > /dev/null

git_() { git -C "$repo" -c user.name=bench -c user.email=bench@example.com "$@"; }
git_ init -q -b main
"$bin" -C "$repo" render --quiet
git_ add -A
git_ commit -qm "fleet and its render"

# Head 1: one environment default changes (declarations only, as a pull request would).
git_ checkout -q -b env-default
sed -i 's/^  pollingConnectionCount: .*/  pollingConnectionCount: 7/' "$repo/environments/env-03/environment.yaml"
grep -q 'pollingConnectionCount: 7' "$repo/environments/env-03/environment.yaml"
git_ commit -qam "env-03: pollingConnectionCount 7"

# Head 2: one worker's pools change.
git_ checkout -q main
git_ checkout -q -b one-worker
python3 - "$repo/environments/env-05/cluster-250.yaml" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
marker = "  worker-0:\n    workerPools:\n"
assert marker in text, "worker-0 has its own pools"
open(path, "w").write(text.replace(marker, marker + "      - Extra Pool\n", 1))
PY
git_ commit -qam "one worker: an extra pool"
git_ checkout -q main

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

measure() {
    local head=$1
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %M' "$bin" -C "$repo" diff --base main --head "$head" --format json \
            2> >(tail -n 1 >> "$repo/.time-$head") > "$repo/.out-$head.json"
        wait
    done
}

for head in env-default one-worker; do
    rm -f "$repo/.time-$head"
    measure "$head"
done

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
printf '%-36s %10s %10s %12s %s\n' "case" "median s" "target s" "max RSS MB" "workers changed"
status=0
for head in env-default one-worker; do
    seconds=$(cut -d' ' -f1 "$repo/.time-$head" | median)
    rss=$(cut -d' ' -f2 "$repo/.time-$head" | sort -n | tail -n 1)
    changed=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["summary"]["changed"])' "$repo/.out-$head.json")
    limit=3; [[ $head == one-worker ]] && limit=0.5
    printf '%-36s %10s %10s %12s %s\n' "diff ($head)" "$seconds" "< $limit" "$((rss / 1024))" "$changed"
    awk -v s="$seconds" -v l="$limit" 'BEGIN { exit !(s < l) }' || status=1
done
exit $status
