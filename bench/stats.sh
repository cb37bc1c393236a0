#!/usr/bin/env bash
# Statistics benchmark: the pure computations behind `ox stats` in-process
# (crates/ox-analysis/examples/stats_bench.rs), then `ox stats` end to end on a generated
# project of N runs (default 1,000: 200 configurations × 5 seeds, 200 steps of `loss` each),
# with and without the per-run series diagnostics. Prints medians of 5 runs.
# usage: bench/stats.sh [N]      (BENCH_DIR chooses where the generated project goes)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
DIR=${BENCH_DIR:-/tmp/ox-bench-stats-$N}
cargo build --release -q -p ox-cli
cargo build --release -q -p ox-analysis --example stats_bench
OX=$PWD/target/release/ox
./target/release/examples/stats_bench

if [ ! -f "$DIR/.generated" ]; then
  rm -rf "$DIR"; mkdir -p "$DIR"
  (cd "$DIR" && "$OX" init >/dev/null)
  python3 - "$DIR" "$N" <<'PY'
import json, math, os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
random.seed(0)
for i in range(n):
    rid = f"01jd3k9x2m{i:016d}"
    cfg, seed = divmod(i, 5)
    lr = [1e-4, 3e-4, 1e-3, 3e-3][cfg % 4]
    params = {"lr": lr, "model": {"layers": 4 + cfg // 4 % 50}, "seed": seed}
    os.makedirs(f"{root}/.ox/runs/{rid}", exist_ok=True)
    with open(f"{root}/.ox/runs/{rid}/run.json", "w") as f:
        json.dump({"id": rid, "name": f"r{i}", "study": "bench", "status": "completed",
                   "params": params, "tags": [], "created": "2026-11-23T10:00:00Z",
                   "started": "2026-11-23T10:00:00Z", "ended": "2026-11-23T10:30:00Z",
                   "exit_code": 0, "command": [], "artifacts": []}, f)
    final = 0.3 + 50 * lr + 0.02 * random.random()
    with open(f"{root}/.ox/metrics/{rid}_metrics.jsonl", "w") as f:
        for s in range(200):
            f.write(json.dumps({"step": s, "loss": final + 2 * math.exp(-s / 20) + 0.01 * random.random()}) + "\n")
PY
  touch "$DIR/.generated"
fi
cd "$DIR"
"$OX" ls --limit 1 >/dev/null   # build the catalog once
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() { for _ in 1 2 3 4 5; do s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); done | median; }
echo "ox stats --metric loss, $N runs (with series diagnostics): $(time_ms "$OX" stats --metric loss) ms"
echo "ox stats --metric loss --no-diagnostics, $N runs: $(time_ms "$OX" stats --metric loss --no-diagnostics) ms"
echo "ox stats --metric loss --no-diagnostics --bootstrap 10000, $N runs: $(time_ms "$OX" stats --metric loss --no-diagnostics --bootstrap 10000) ms"
echo "ox ls --limit 1 (catalog open + refresh alone): $(time_ms "$OX" ls --limit 1) ms"
