#!/usr/bin/env bash
# Run every fuzz target for a bounded time and report executions and crashes.
#   fuzz/run.sh [SECONDS_PER_TARGET]   (default 60)
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz missing: cargo install cargo-fuzz" >&2; exit 1; }
targets=(job_document cbor_block base64 mcuboot agent_inputs)
printf '%-14s %12s %8s %8s\n' target executions exec/s crashes
status=0
for t in "${targets[@]}"; do
  log=$(mktemp)
  mkdir -p "corpus/$t" "artifacts/$t"
  if ! cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" \
       -artifact_prefix="artifacts/$t/" -print_final_stats=1 >"$log" 2>&1; then
    status=1
  fi
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  crashes=$(find "artifacts/$t" -type f | wc -l)
  printf '%-14s %12s %8s %8s\n' "$t" "$execs" "$rate" "$crashes"
  if [ "$crashes" -gt 0 ]; then status=1; grep -m5 -E 'panicked|ERROR' "$log" || true; fi
  rm -f "$log"
done
exit $status
