#!/usr/bin/env bash
# The "render" benchmark: validate, render --stdout, render into an empty folder
# against the I/O floor, a re-render with nothing changed against the read floor, and
# the `-v` stage split, on a synthetic fleet (10,000 workers by default). Prints the
# machine state and one table per place: tmpfs (/dev/shm: the disk's noise is gone
# and our own cost shows; issue 14's targets) and the disk (the targets before it).
#
#   bench/run.sh [--engine flux|argocd] [--envs N] [--clusters-per-env N]
#                [--workers-per-cluster N] [--runs N] [--no-hyperfine] [--no-build]
#                [--only tmpfs|disk]
#
# Builds with `cargo build --release` (honours CARGO_TARGET_DIR), writes the fleet
# under /dev/shm/workergen-bench.<pid> and <target>/bench-fleet, times with hyperfine
# when it is installed and otherwise with `/usr/bin/time` loops (median of --runs,
# 5 by default; cpu is user + system). The floors are measured in the same run, the
# write floor interleaved with the renders. Exits 1 when a target is missed, 2 on a
# usage error.
#
# Output trees are never deleted between timed runs: they are renamed into a trash
# folder (one per place, on its file system) that is deleted once everything is
# measured. On ext4 without a journal
# (this project's machines), the kernel skips inodes freed in the last 60 s (360 s
# while their inode table block is dirty, which new files make it) one by one when
# it allocates new ones, so `rm -rf rendered` right before a render makes that
# render and the floor several times slower, and slower each run. For the same
# reason a run first waits until 370 s have passed since the previous run's cleanup
# (or any large deletion near <target>/bench-fleet: wait before running then too).
#
# Where the time goes: the tables end with the stage split of `workergen -v render`
# into an empty folder (medians). For a finer split, `cargo build --release --example
# stages`, then `<target>/release/examples/stages <config repo> <new output folder>`
# prints the wall time of each pipeline stage (load, resolve, validate, render,
# write_tree, write_tree again).
set -euo pipefail

engine=flux
envs=20
clusters_per_env=50
workers_per_cluster=10
runs=""
use_hyperfine=auto
build=yes
only=""

usage() {
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --engine) engine=${2:?}; shift 2 ;;
        --envs) envs=${2:?}; shift 2 ;;
        --clusters-per-env) clusters_per_env=${2:?}; shift 2 ;;
        --workers-per-cluster) workers_per_cluster=${2:?}; shift 2 ;;
        --runs) runs=${2:?}; shift 2 ;;
        --no-hyperfine) use_hyperfine=no; shift ;;
        --no-build) build=no; shift ;;
        --only) only=${2:?}; shift 2 ;;
        -h | --help) usage ;;
        *) echo "unknown option: $1" >&2; usage ;;
    esac
done
case "$engine" in flux | argocd) ;; *) echo "--engine is flux or argocd" >&2; exit 2 ;; esac
case "$only" in "" | tmpfs | disk) ;; *) echo "--only is tmpfs or disk" >&2; exit 2 ;; esac
for number in "$envs" "$clusters_per_env" "$workers_per_cluster" "${runs:-1}"; do
    [[ $number =~ ^[1-9][0-9]*$ ]] || { echo "counts are positive integers, not \`$number\`" >&2; exit 2; }
done
if [[ $use_hyperfine == auto ]]; then
    if command -v hyperfine > /dev/null; then use_hyperfine=yes; else use_hyperfine=no; fi
fi
runs=${runs:-5}
if [[ ! -x /usr/bin/time ]]; then
    echo "/usr/bin/time is needed for peak memory (apt-get install time)" >&2
    exit 2
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
[[ $target == /* ]] || target=$repo/$target
bin=$target/release/workergen
floor_bin=$target/release/examples/io_floor
cleaned=$target/bench-cleaned

if [[ $build == yes ]]; then
    echo "== building (release)" >&2
    (cd "$repo" && cargo build --release --quiet --bin workergen --example io_floor)
fi
for program in "$bin" "$floor_bin"; do
    [[ -x $program ]] || { echo "missing $program (run without --no-build)" >&2; exit 2; }
done

# Deleting is done once, at the end (see the top of this file).
trashes=()
# shellcheck disable=SC2317 # run by the trap
cleanup() {
    local folder
    for folder in "${trashes[@]}"; do rm -rf "$folder"; done
    rm -rf "/dev/shm/workergen-bench.$$"
    sync
    # Only deletions on the disk make the next run wait.
    [[ $only == tmpfs ]] || touch "$cleaned"
}
trap cleanup EXIT
# to_trash PATH: moves PATH (if it exists) out of the way without freeing an inode.
to_trash() {
    if [[ -e $1 ]]; then mv "$1" "$(mktemp -u "$trash/$(basename "$1").XXXXXX")"; fi
}

# --- measuring ----------------------------------------------------------------

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# timed NAME COMMAND...: one run under /usr/bin/time, stdout to /dev/null, stderr to
# the log; sets $wall, $cpu (user + system) and $rss_kb.
timed() {
    local name=$1
    shift
    /usr/bin/time -f '%e %U %S %M' -o "$logs/$name.time" "$@" > /dev/null 2>> "$logs/$name.stderr" || {
        echo "$name failed: $*" >&2
        cat "$logs/$name.stderr" >&2
        exit 1
    }
    read -r wall user system rss_kb < "$logs/$name.time"
    cpu=$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.2f", u + s }')
}

# measure NAME COMMAND...: sets $seconds (median wall time), $cpu_seconds (median
# user + system) and $peak_kb (largest max RSS seen). The command must not write.
measure() {
    local name=$1
    shift
    if [[ $use_hyperfine == yes ]]; then
        hyperfine -N --style basic --warmup 1 --runs "$runs" --output null \
            --export-json "$logs/$name.json" --command-name "$name" "$*" >&2
        read -r seconds cpu_seconds < <(python3 -c '
import json, sys
result = json.load(open(sys.argv[1]))["results"][0]
print("%.3f %.2f" % (result["median"], result["user"] + result["system"]))' "$logs/$name.json")
        # hyperfine does not report memory: one more run under /usr/bin/time.
        timed "$name" "$@"
        peak_kb=$rss_kb
    else
        local walls=() cpus=() peaks=() i
        timed "$name" "$@" # warm-up
        for ((i = 0; i < runs; i++)); do
            timed "$name" "$@"
            walls+=("$wall") cpus+=("$cpu") peaks+=("$rss_kb")
            echo "  $name run $((i + 1)): $wall s wall, $cpu s cpu, $rss_kb KB" >&2
        done
        seconds=$(printf '%s\n' "${walls[@]}" | median)
        cpu_seconds=$(printf '%s\n' "${cpus[@]}" | median)
        peak_kb=$(printf '%s\n' "${peaks[@]}" | sort -g | tail -1)
    fi
}

# stage NAME LINES: the median milliseconds of stage NAME in `timings:` LINES.
stage() {
    grep -o "$1 [0-9.]* ms" <<< "$2" | awk '{ print $2 }' | median
}

verdict() { # verdict FIGURE LIMIT: "ok" when FIGURE < LIMIT
    if awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; then echo ok; else echo MISSED; fi
}
mb() { awk -v k="$1" 'BEGIN { printf "%.0f MB", k / 1024 }'; }
row() { printf '| %-46s | %-9s | %-8s | %-10s | %-7s |\n' "$@"; }
missed=0

# bench PLACE WORK: generates the fleet under WORK, measures, prints PLACE's table.
bench() {
    local place=$1 work=$2
    local fleet=$work/repo
    local rendered=$fleet/rendered reference=$work/reference floor_out=$work/floor
    logs=$work/logs
    trash=$(dirname "$work")/bench-trash.$$
    mkdir -p "$trash"
    trashes+=("$trash")
    local wg=("$bin" -C "$fleet" --color never)

    if [[ $place == disk && -e $cleaned ]]; then
        local age=$(($(date +%s) - $(stat -c %Y "$cleaned")))
        if ((age < 370)); then
            echo "== waiting $((370 - age)) s: the last run's deleted inodes are still \"recent\"" >&2
            sleep $((370 - age))
        fi
    fi

    echo "== [$place] generating the fleet in $fleet" >&2
    to_trash "$work"
    mkdir -p "$fleet" "$logs"
    python3 "$repo/bench/gen-fleet.py" "$fleet" --envs "$envs" --clusters-per-env "$clusters_per_env" \
        --workers-per-cluster "$workers_per_cluster" --engine "$engine" >&2
    local fs_type device journal=""
    fs_type=$(stat -f -c %T "$work")
    device=$(df -P "$work" | awk 'NR == 2 { print $1 }')
    if [[ $place == disk && ($fs_type == tmpfs || $fs_type == ramfs) ]]; then
        echo "warning: $work is on $fs_type; the disk figures are not meaningful" >&2
    fi
    if [[ -r /sys/fs/ext4/$(basename "$device")/journal_task ]]; then
        journal=", journal: $(cat "/sys/fs/ext4/$(basename "$device")/journal_task")"
    fi

    echo "== [$place] checking the fleet validates" >&2
    "${wg[@]}" validate 2> "$logs/validate-check.stderr" || {
        cat "$logs/validate-check.stderr" >&2
        echo "the generated fleet does not validate" >&2
        exit 1
    }
    tail -1 "$logs/validate-check.stderr" >&2

    echo "== [$place] reference tree for the I/O floors" >&2
    "${wg[@]}" -q render
    mv "$rendered" "$reference"
    local files bytes
    files=$(find "$reference" -type f | wc -l)
    bytes=$(find "$reference" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')

    echo "== [$place] (a) validate" >&2
    measure validate "${wg[@]}" -q validate
    local validate_s=$seconds validate_cpu=$cpu_seconds validate_kb=$peak_kb

    echo "== [$place] (b) render --stdout > /dev/null" >&2
    measure stdout "${wg[@]}" -q render --stdout
    local stdout_s=$seconds stdout_cpu=$cpu_seconds stdout_kb=$peak_kb
    "${wg[@]}" -q render --stdout | cmp -s - <("${wg[@]}" -q render --stdout) || {
        echo "render --stdout differs between two runs" >&2
        exit 1
    }

    # (c) interleaves the floor and render, each into a folder that does not exist, after
    # a sync; hyperfine cannot interleave with the floor's own timing, so this is a loop.
    # `-v` adds the stage split (`timings:` on stderr) and nothing worth counting.
    echo "== [$place] (c) render into an empty rendered/ and the I/O floor, interleaved" >&2
    local floors=() renders=() render_cpus=() render_peaks=() timings="" i floor
    for ((i = 0; i <= runs; i++)); do
        to_trash "$floor_out"
        sync
        floor=$("$floor_bin" "$reference" "$floor_out" 2>> "$logs/floor.stderr")
        to_trash "$rendered"
        sync
        : > "$logs/render.stderr"
        timed render "${wg[@]}" -v render
        if ((i == 0)); then
            echo "  warm-up: floor $floor s, render $wall s" >&2
            continue
        fi
        floors+=("$floor") renders+=("$wall") render_cpus+=("$cpu") render_peaks+=("$rss_kb")
        timings+="$(grep '^timings:' "$logs/render.stderr")"$'\n'
        echo "  run $i: floor $floor s; render $wall s wall, $cpu s cpu, $rss_kb KB" >&2
    done
    local floor_s render_s render_cpu render_kb
    floor_s=$(printf '%s\n' "${floors[@]}" | median)
    render_s=$(printf '%s\n' "${renders[@]}" | median)
    render_cpu=$(printf '%s\n' "${render_cpus[@]}" | median)
    render_kb=$(printf '%s\n' "${render_peaks[@]}" | sort -g | tail -1)
    diff -rq "$reference" "$rendered" > /dev/null || { echo "render differs from the reference tree" >&2; exit 1; }
    diff -rq "$reference" "$floor_out" > /dev/null || { echo "the floor differs from the reference tree" >&2; exit 1; }

    echo "== [$place] (d) render again, nothing changed, and the read floor" >&2
    sync
    local marker=$work/before-rerender
    touch "$marker"
    sleep 0.05
    measure rerender "${wg[@]}" -q render
    local rerender_s=$seconds rerender_cpu=$cpu_seconds rerender_kb=$peak_kb touched
    touched=$(find "$rendered" -newer "$marker" | wc -l)
    local reads=()
    for ((i = 0; i <= runs; i++)); do
        floor=$("$floor_bin" --read "$rendered" 2>> "$logs/floor.stderr")
        ((i == 0)) || reads+=("$floor")
    done
    local read_s
    read_s=$(printf '%s\n' "${reads[@]}" | median)

    # --- report -------------------------------------------------------------------

    local ratio stdout_mb render_ms split="" name
    ratio=$(awk -v a="$render_s" -v b="$floor_s" 'BEGIN { printf "%.2f", a / b }')
    stdout_mb=$(awk -v k="$stdout_kb" 'BEGIN { print k / 1024 }')
    render_ms=$(stage render "$timings")
    for name in load merge validate render write; do
        split+="$name $(stage "$name" "$timings") ms, "
    done
    # Issue 14's targets on tmpfs; on the disk, the targets before it.
    local t_validate=1 t_stdout=2 t_rerender=1.5 t_render_ms=""
    if [[ $place == tmpfs ]]; then
        t_validate=0.15 t_stdout=0.35 t_rerender=0.35 t_render_ms=80
    fi
    local v_validate v_stdout v_stdout_mem v_ratio v_rerender v_touched v_render_ms=""
    v_validate=$(verdict "$validate_s" "$t_validate")
    v_stdout=$(verdict "$stdout_s" "$t_stdout")
    v_stdout_mem=$(verdict "$stdout_mb" 500)
    v_ratio=$(verdict "$ratio" 1.501)
    v_rerender=$(verdict "$rerender_s" "$t_rerender")
    v_touched=$(verdict "$touched" 1)
    [[ -z $t_render_ms ]] || v_render_ms=$(verdict "$render_ms" "$t_render_ms")
    [[ "$v_validate $v_stdout $v_stdout_mem $v_ratio $v_rerender $v_touched $v_render_ms" != *MISSED* ]] || missed=1

    cat << EOF

[$place] $work on $fs_type ($device$journal)
output: $files files, $bytes bytes; wall: median of $runs runs; cpu: user + system, median

EOF
    row "measure" "wall" "cpu" "target" "verdict"
    row "----------------------------------------------" "---------" "--------" "----------" "-------"
    row "(a) validate" "$validate_s s" "$validate_cpu s" "< $t_validate s" "$v_validate"
    row "(a) validate peak memory" "$(mb "$validate_kb")" "" "" ""
    row "(b) render --stdout > /dev/null" "$stdout_s s" "$stdout_cpu s" "< $t_stdout s" "$v_stdout"
    row "(b) render --stdout peak memory" "$(mb "$stdout_kb")" "" "< 500 MB" "$v_stdout_mem"
    row "(c) render into an empty rendered/" "$render_s s" "$render_cpu s" "" ""
    row "(c) I/O floor: the same files written plainly" "$floor_s s" "" "" ""
    row "(c) render / floor" "${ratio}x" "" "<= 1.5x" "$v_ratio"
    row "(c) render peak memory" "$(mb "$render_kb")" "" "" ""
    row "(c) -v stage \`render\`" "$render_ms ms" "" "${t_render_ms:+< $t_render_ms ms}" "$v_render_ms"
    row "(d) render again, nothing changed" "$rerender_s s" "$rerender_cpu s" "< $t_rerender s" "$v_rerender"
    row "(d) read floor: reading every file" "$read_s s" "" "" ""
    row "(d) paths touched by the re-render" "$touched" "" "0" "$v_touched"
    row "(d) re-render peak memory" "$(mb "$rerender_kb")" "" "" ""
    echo
    echo "-v stage timings into an empty folder (medians): ${split%, }"
    echo "logs and raw timings: $logs"
}

cpu_model=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
rev=$(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo unknown)
changes=$(git -C "$repo" status --porcelain --untracked-files=no 2> /dev/null | wc -l)
((changes == 0)) || rev="$rev + local changes"
timer=$([[ $use_hyperfine == yes ]] && hyperfine --version || echo "/usr/bin/time loops")
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# The tables go to files (a `$(...)` would run `bench` in a subshell, losing `missed`
# and the trash folders) and are printed together at the end.
tables=$(mktemp -d)
trashes+=("$tables")
if [[ $only != disk ]]; then
    if [[ -d /dev/shm ]]; then
        bench tmpfs "/dev/shm/workergen-bench.$$/fleet" > "$tables/tmpfs"
    else
        echo "(no /dev/shm: no tmpfs figures)" > "$tables/tmpfs"
    fi
fi
[[ $only == tmpfs ]] || bench disk "$target/bench-fleet" > "$tables/disk"

cat << EOF

workergen render benchmark: $rev, engine $engine
machine: $(nproc) cores ($cpu_model), $mem RAM; load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end
fleet: $envs environments x $clusters_per_env clusters x $workers_per_cluster workers = $((envs * clusters_per_env * workers_per_cluster)) workers
timing: $timer
EOF
cat "$tables"/*
exit "$missed"
