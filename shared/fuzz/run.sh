#!/usr/bin/env bash
# Runs every fuzz target for a bounded time on the stable toolchain (CI and by hand):
#   bash shared/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# It builds the targets the way cargo-fuzz does — libFuzzer linked by libfuzzer-sys, LLVM's
# SanitizerCoverage through stable `-C` flags (inline 8-bit counters, PC table, compare
# tracing), `--cfg fuzzing`, debug assertions and overflow checks on — minus AddressSanitizer,
# which needs nightly's `-Zsanitizer` (Rust's own bounds checks stand in for it). Corpora grow
# in target/fuzz/corpus/<target> and are reused by the next run; a failing input is written to
# target/fuzz/artifacts/<target>/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
shift || true
root="$(cd ../.. && pwd)"
out="$root/target/fuzz"
triple="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# --target keeps these flags off build scripts and proc macros.
cargo build --release --locked --target "$triple" --target-dir "$out" --quiet
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^oxcoin-fuzz$')
fi
for target in "${targets[@]}"; do
  mkdir -p "$out/corpus/$target" "$out/artifacts/$target"
  printf '%-16s ' "$target"
  if ! "$out/$triple/release/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$out/artifacts/$target/" -print_final_stats=1 "$out/corpus/$target" \
      > "$out/$target.log" 2>&1; then
    echo "FAILED"
    tail -40 "$out/$target.log"
    exit 1
  fi
  grep -E '^stat::number_of_executed_units' "$out/$target.log" | awk '{print $2, "runs"}'
done
