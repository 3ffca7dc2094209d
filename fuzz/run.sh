#!/usr/bin/env bash
# Runs the fuzz targets under libFuzzer with coverage, on the stable toolchain.
#
#   fuzz/run.sh                 every target, 30 s each
#   fuzz/run.sh body 600        one target, 10 minutes
#   fuzz/run.sh all 120         every target, 2 minutes each
#   FUZZ_JOBS=2 fuzz/run.sh     parallel jobs per target
#
# Builds with SanitizerCoverage (`-C passes=sancov-module`, stable flags) for the host target
# explicitly, so build scripts and proc macros stay uninstrumented, into fuzz/target/. New
# inputs are kept in fuzz/target/corpus/<target>/ (the checked-in seeds in
# fuzz/corpus/<target>/ are read, never written). A crash or failed property stops the
# target, leaves the input in fuzz/target/artifacts/<target>/ and exits non-zero: copy it to
# fuzz/regressions/<target>/ with the fix, and `cargo test` replays it from then on.
set -euo pipefail
cd "$(dirname "$0")"
targets=(headers body pystr request)
if [[ -n "${1:-}" && "$1" != all ]]; then targets=("$1"); fi
seconds="${2:-30}"
host="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="$PWD/target"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
cargo build --quiet --release --features libfuzzer --bins --target "$host"
for t in "${targets[@]}"; do
  mkdir -p "target/corpus/$t" "target/artifacts/$t"
  echo "== $t: ${seconds}s"
  "target/$host/release/$t" "target/corpus/$t" "corpus/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="target/artifacts/$t/" -print_final_stats=1 \
    ${FUZZ_JOBS:+-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS} 2>&1 \
    | grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==|SUMMARY|artifact_prefix|Test unit)|panicked' || true
  if compgen -G "target/artifacts/$t/*" > /dev/null; then
    echo "$t: failing inputs in fuzz/target/artifacts/$t/" >&2
    exit 1
  fi
done
