#!/usr/bin/env bash
# inspect-ai .json log parsing with and without Python's bare NaN tokens (MB/s).
# Usage: bench/inspect.sh [SAMPLES] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p ox-ingest --example inspect_bench
./target/release/examples/inspect_bench --samples "${1:-20000}" --repeats "${2:-5}"
