#!/usr/bin/env bash
# bench/all.sh: every benchmark of docs/performance.md's summary table in one command, then one
# table of every figure beside its reference measured in the same run. See --help.
set -uo pipefail

usage() {
    cat <<'EOF'
Usage: bash bench/all.sh [--quick] [--litecoind] [--only NAME[,NAME...]] [--log-dir DIR]

Runs every benchmark of docs/performance.md's summary table, one after the other, tees each
program's output into a log folder, and prints at the end one table: each figure (every `BENCH`
line the programs print) beside its reference measured in the same run, the ratio, the goal and
met / not met; then each step's exit status and duration, and the machine (CPU, cores, load
average at the start and the end, git commit).

The full run takes about 25 minutes on a 2-core machine (measured 23: scaling 11, sync 7.5,
validation 2.5), more with --litecoind, and more the first time: it builds, and generates the
chains missing from the cache (10k blocks / 100k transfers took 35 s; the 100k-block / 1M-transfer
chain several minutes). --quick takes about 6 minutes.
Run it on a quiet machine: the figures are ratios against references measured in the same run,
but the load still shows.

Steps (NAME: command):
  mining      cargo run --release -p oxminer -- bench --seconds 5            (--quick: 2 s)
  validation  cargo bench -p oxcoin --bench validation                       (--quick: check_block only)
  ingest      cargo run --release -p oxcoin-tests --bin load_txs             (--quick: --count 20000)
  status      cargo run --release -p oxcoin-tests --bin status_latency       (--quick: --seconds 3)
  restart     restart_bench on a copy of the cached 100k-block / 1M-transfer chain, --runs 5 --kill9 3
              (--quick: the 10k-block / 100k-transfer chain, --runs 2)
  sync        cargo run --release -p oxcoin-tests --bin sync_bench -- --runs 3   (--quick: --runs 1)
  scaling     cargo run --release -p oxcoin-tests --bin scaling              (1k, 10k, 100k blocks;
              --quick: 1k and 10k, 50 full blocks)

Options:
  --quick          smaller sizes and shorter times (about 6 minutes)
  --litecoind      add the litecoind comparisons (ingest and sync; needs litecoind and python3)
  --only NAMES     run only these steps (comma-separated names from the list above)
  --log-dir DIR    where the logs go [default: $CARGO_TARGET_DIR or target/, then bench-logs/<UTC time>]
  -h, --help       this text

Environment:
  OXCOIN_BENCH_CACHE  cached generated chains [default: /tmp/oxcoin-bench], shared by the restart,
                      sync and scaling steps; restart and scaling run their nodes on copies
  OXCOIN_BENCH_SEED   a data dir holding a 100k-block / 1M-transfer chain made by gen_chain, copied
                      into the cache when it has none [default: /tmp/oxchain-100k, if present]
EOF
}

QUICK=0
LITECOIND=0
ONLY=""
LOG_DIR=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --litecoind) LITECOIND=1 ;;
        --only) ONLY="${2:?--only needs a name}"; shift ;;
        --only=*) ONLY="${1#--only=}" ;;
        --log-dir) LOG_DIR="${2:?--log-dir needs a folder}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

STEPS="mining validation ingest status restart sync scaling"
if [ -n "$ONLY" ]; then
    for name in ${ONLY//,/ }; do
        case " $STEPS " in
            *" $name "*) ;;
            *) echo "unknown step: $name (one of: $STEPS)" >&2; exit 2 ;;
        esac
    done
fi
wanted() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
if [ -z "$LOG_DIR" ]; then
    LOG_DIR="$TARGET/bench-logs/$(date -u +%Y%m%dT%H%M%SZ)"
fi
mkdir -p "$LOG_DIR" || exit 1
CACHE="${OXCOIN_BENCH_CACHE:-/tmp/oxcoin-bench}"
SEED="${OXCOIN_BENCH_SEED:-/tmp/oxchain-100k}"
mkdir -p "$CACHE" || exit 1
: > "$LOG_DIR/steps.tsv"

cpu_model() { sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1; }
load_average() { cut -d ' ' -f 1-3 /proc/loadavg; }
LOAD_START="$(load_average)"
START_TIME="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
START_SECONDS=$SECONDS
COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    COMMIT="$COMMIT (with uncommitted changes)"
fi
echo "bench/all.sh: logs in $LOG_DIR"
echo "machine: $(cpu_model), $(nproc) cores, load average $LOAD_START; commit $COMMIT"

# One step: runs the command with its output shown and teed into <name>.log; records the exit
# status and duration. A failing step does not stop the others.
step() {
    local name="$1"
    shift
    echo
    echo "=== $name: $*"
    local started=$SECONDS
    { echo "\$ $*"; echo "load average at start: $(load_average)"; } > "$LOG_DIR/$name.log"
    "$@" 2>&1 | tee -a "$LOG_DIR/$name.log"
    local status=${PIPESTATUS[0]}
    echo "load average at end: $(load_average)" >> "$LOG_DIR/$name.log"
    printf '%s\t%s\t%s\n' "$name" "$status" "$((SECONDS - started))" >> "$LOG_DIR/steps.tsv"
    [ "$status" -eq 0 ] || echo "=== $name FAILED with exit status $status (log: $LOG_DIR/$name.log)"
}

# The restart step's chain: the cached one (copied from OXCOIN_BENCH_SEED or generated when
# missing; generating 100k blocks takes about 12 minutes on 2 cores), copied into a work folder.
restart_step() {
    local blocks=$1 transfers=$2 runs=$3 kill9=$4 queries=$5
    local cached="$CACHE/oxcoin-dev-b$blocks-t$transfers-v2"
    local store="dev/chain.redb"
    if [ ! -f "$cached/chain.json" ]; then
        rm -rf "$cached"
        mkdir -p "$cached/dev" || return 1
        if [ "$blocks" = 100000 ] && [ "$transfers" = 1000000 ] && [ -f "$SEED/$store" ]; then
            echo "copying the seed chain $SEED/$store into $cached"
            cp "$SEED/$store" "$cached/$store" || return 1
            echo "{\"height\":$blocks,\"transfers\":$transfers,\"tip\":null,\"copied_from\":\"$SEED\"}" > "$cached/chain.json"
        else
            local started=$SECONDS
            echo "generating $blocks blocks / $transfers transfers into $cached"
            cargo run --release -q -p oxcoin-tests --bin gen_chain -- \
                --blocks "$blocks" --transfers "$transfers" --data-dir "$cached" || return 1
            echo "gen_chain took $((SECONDS - started)) s"
        fi
    fi
    local work="$CACHE/work-restart-$$"
    rm -rf "$work"
    mkdir -p "$work/dev" || return 1
    cp "$cached/$store" "$work/$store" || return 1
    cargo run --release -q -p oxcoin-tests --bin restart_bench -- \
        --data-dir "$work" --runs "$runs" --kill9 "$kill9" --queries "$queries"
    local status=$?
    rm -rf "$work"
    return $status
}

echo
echo "=== build (not timed as a step)"
cargo build --release -q -p oxminer -p oxwallet -p oxcoin-tests --bins || { echo "the build failed" >&2; exit 1; }

LITE=()
[ "$LITECOIND" = 1 ] && LITE=(--litecoind)
if [ "$QUICK" = 1 ]; then
    wanted mining && step mining cargo run --release -q -p oxminer -- bench --seconds 2
    wanted validation && step validation cargo bench -q -p oxcoin --bench validation -- check_block
    wanted ingest && step ingest cargo run --release -q -p oxcoin-tests --bin load_txs -- --count 20000 "${LITE[@]}"
    wanted status && step status cargo run --release -q -p oxcoin-tests --bin status_latency -- --seconds 3
    wanted restart && step restart restart_step 10000 100000 2 1 200
    wanted sync && step sync cargo run --release -q -p oxcoin-tests --bin sync_bench -- \
        --cache-root "$CACHE" --runs 1 "${LITE[@]}"
    wanted scaling && step scaling cargo run --release -q -p oxcoin-tests --bin scaling -- \
        --cache-root "$CACHE" --seed "100000=$SEED" --lengths 1000,10000 --extend-blocks 50 --small-blocks 100 --queries 500 --restarts 1
else
    wanted mining && step mining cargo run --release -q -p oxminer -- bench --seconds 5
    wanted validation && step validation cargo bench -q -p oxcoin --bench validation
    wanted ingest && step ingest cargo run --release -q -p oxcoin-tests --bin load_txs -- "${LITE[@]}"
    wanted status && step status cargo run --release -q -p oxcoin-tests --bin status_latency
    wanted restart && step restart restart_step 100000 1000000 5 3 1000
    wanted sync && step sync cargo run --release -q -p oxcoin-tests --bin sync_bench -- \
        --cache-root "$CACHE" --runs 3 "${LITE[@]}"
    wanted scaling && step scaling cargo run --release -q -p oxcoin-tests --bin scaling -- \
        --cache-root "$CACHE" --seed "100000=$SEED"
fi

{
    echo "machine   $(cpu_model), $(nproc) cores ($(uname -sr))"
    echo "load      $LOAD_START at the start ($START_TIME), $(load_average) at the end ($(date -u '+%H:%M:%S UTC'))"
    echo "commit    $COMMIT"
    echo "toolchain $(rustc --version 2>/dev/null || echo unknown)"
    echo "run       bench/all.sh$([ "$QUICK" = 1 ] && echo ' --quick')$([ "$LITECOIND" = 1 ] && echo ' --litecoind')$([ -n "$ONLY" ] && echo " --only $ONLY"), $((SECONDS - START_SECONDS)) s in all"
} > "$LOG_DIR/machine.txt"

echo
echo "=== summary"
python3 "$ROOT/bench/bench_table.py" "$LOG_DIR"
! grep -qv $'\t0\t' "$LOG_DIR/steps.tsv"
