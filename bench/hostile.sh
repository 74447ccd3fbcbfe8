#!/usr/bin/env bash
# The "hostile input" benchmark (issue 9): `workergen validate` on two files within the
# limits that used to take tens of seconds, with their wall time and peak memory.
#
#   bench/hostile.sh [--no-build]
#
# (a) a 1 MiB cluster file with 73,000 unknown keys under `values.agent`;
# (b) a cluster file whose script-pod CPU request has 900,000 digits;
# (c) 900 unknown keys in a cluster's `defaults.values.agent` under 1,000 workers;
# (d) 20,000 valid keys in the free-form `defaults.values.agent.nodeSelector` under
#     1,000 workers (20 million merged nodes, over the merge limit).
# All must be refused (exit 2) in about a second. Builds with `cargo build --release`
# (honours CARGO_TARGET_DIR); the files are written under <target>/bench-hostile from
# tests/corpus/_base, as tests/corpus.rs generates them. Not a timed test: it prints
# the figures and exits 1 only when a run does not exit 2 or takes over 5 s.
set -euo pipefail

build=yes
case "${1:-}" in
    --no-build) build=no ;;
    "") ;;
    *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
[[ $target == /* ]] || target=$repo/$target
bin=$target/release/workergen
work=$target/bench-hostile

if [[ $build == yes ]]; then
    echo "== building (release)" >&2
    (cd "$repo" && cargo build --release --quiet --bin workergen)
fi
[[ -x $bin ]] || { echo "missing $bin (run without --no-build)" >&2; exit 2; }

rm -rf "$work"
mkdir -p "$work"
for case in keys quantity defaults-keys free-form-keys; do
    cp -r "$repo/tests/corpus/_base" "$work/$case"
done
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
def add_defaults(case, lines):
    path = f"{work}/{case}/environments/prod/eu-west-1.yaml"
    text = open(path).read().replace("\ndefaults:\n", "\ndefaults:\n" + lines, 1)
    open(path, "w").write(text)
    return len(text)
keys = "".join(
    "      x%s%s%s: 0\n" % (letters[i // 2704 % 52], letters[i // 52 % 52], letters[i % 52])
    for i in range(73_000)
)
size = add_defaults("keys", "  values:\n    agent:\n" + keys)
assert size <= 1024 * 1024, size
add_defaults("quantity", "  scriptPods:\n    resources:\n      requests:\n        cpu: 0." + "7" * 900_000 + "\n")
def under_many_workers(case, keys, free_form):
    lines = "  values:\n    agent:\n" + ("      nodeSelector:\n" if free_form else "")
    indent = "        " if free_form else "      "
    lines += "".join(f"{indent}x{key}: v\n" for key in range(keys))
    add_defaults(case, lines)
    path = f"{work}/{case}/environments/prod/eu-west-1.yaml"
    with open(path, "a") as file:
        file.write("".join(f"  w{worker}: {{}}\n" for worker in range(1000)))
under_many_workers("defaults-keys", 900, False)
under_many_workers("free-form-keys", 20_000, True)
PY

# measure NAME: one validate under /usr/bin/time (or bash's clock without it).
measure() {
    local name=$1 dir=$work/$1 code wall rss
    local file=$dir/environments/prod/eu-west-1.yaml
    if [[ -x /usr/bin/time ]]; then
        set +e
        /usr/bin/time -f '%e %M' -o "$work/$name.time" "$bin" -C "$dir" --color never validate > /dev/null 2> "$work/$name.stderr"
        code=$?
        set -e
        read -r wall rss < <(tail -1 "$work/$name.time")
        rss="$((rss / 1024)) MiB"
    else
        local start=$EPOCHREALTIME
        set +e
        "$bin" -C "$dir" --color never validate > /dev/null 2> "$work/$name.stderr"
        code=$?
        set -e
        wall=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
        rss="n/a (no /usr/bin/time)"
    fi
    printf '%-14s %9s bytes  exit %s  %6s s  peak %s  stderr %s lines: %s\n' "$name" "$(stat -c %s "$file")" \
        "$code" "$wall" "$rss" "$(wc -l < "$work/$name.stderr")" "$(tail -1 "$work/$name.stderr")"
    if [[ $code != 2 ]] || awk -v w="$wall" 'BEGIN { exit !(w > 5) }'; then
        echo "  expected exit 2 in about a second" >&2
        failed=yes
    fi
}

failed=no
echo "== validate (target: exit 2 in about a second)"
measure keys
measure quantity
measure defaults-keys
measure free-form-keys
[[ $failed == no ]]
