#!/usr/bin/env bash
# Import throughput: ~1 GB of generated TensorBoard event files and metrics.ndjson
# directories (half each, 32 runs of each), imported the way `ox import` does
# (discover, parse on worker threads, write run files). Prints MB/s of input per run.
# Usage: bench/import.sh [MB] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
MB="${1:-1024}"
REPEATS="${2:-3}"
cargo build --release -q -p ox-ingest --example import_bench
for i in $(seq 1 "$REPEATS"); do
  echo "== run $i"
  ./target/release/examples/import_bench --mb "$MB"
done
