#!/usr/bin/env bash
# The `ox ui` figures of issue 14 (release build; Chromium from Debian's package):
#   GET /api/runs on 10,000 runs (target < 100 ms), the runs page drawn in headless Chromium
#   for 10,000 runs (target < 1 s), and GET /api/series for 100 runs × 100,000 steps at 1,000
#   points per run (target < 300 ms), first (files read) and cached.
# usage: bench/ui.sh      (BENCH_DIR: where the generated projects go; ~600 MB of metrics)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${BENCH_DIR:-/tmp/ox-bench-ui}
cargo build --release -q -p ox-cli --bin ox --example ui_bench
# The 10,000-run project of bench/ls.sh (5 metrics × 100 steps per run).
RUNS_DIR="$ROOT/runs"
if [ ! -f "$RUNS_DIR/.generated" ]; then
  BENCH_DIR="$RUNS_DIR" RUNS=1 bash bench/ls.sh 10000 >/dev/null 2>&1 || true
fi
if [ ! -f "$RUNS_DIR/.generated" ]; then
  echo "bench/ls.sh did not generate $RUNS_DIR (it needs hyperfine for its own figures);" \
       "generating without it" >&2
  mkdir -p "$RUNS_DIR"
  python3 - "$RUNS_DIR" 10000 <<'PY'
import json, math, os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(f"{root}/.ox/metrics", exist_ok=True)
for i in range(n):
    rng = random.Random(i); rid = f"r{i:08d}"; lr = rng.choice([1e-4, 3e-4, 1e-3, 3e-3])
    os.makedirs(f"{root}/.ox/runs/{rid}", exist_ok=True)
    json.dump({"id": rid, "name": f"run-{i}", "study": f"study-{i % 5}", "status": "completed",
               "params": {"lr": lr, "seed": i % 3, "batch_size": rng.choice([32, 64]), "model": {"width": 256}},
               "tags": [], "created": "2026-06-01T00:00:00Z", "started": "2026-06-01T00:00:00Z",
               "ended": "2026-06-01T00:10:00Z", "exit_code": 0}, open(f"{root}/.ox/runs/{rid}/run.json", "w"))
    with open(f"{root}/.ox/metrics/{rid}_metrics.jsonl", "w") as f:
        for step in range(100):
            loss = math.exp(-lr * 100 * step) + rng.random() * 0.05
            f.write(json.dumps({"type": "metrics", "step": step, "time": 1780000000.0 + step,
                                "loss": loss, "acc": 1 - loss / 2}) + "\n")
PY
  touch "$RUNS_DIR/.generated"
fi
# 100 runs × 100,000 steps of loss and acc.
SERIES_DIR="$ROOT/series"
if [ ! -f "$SERIES_DIR/.generated" ]; then
  echo "generating 100 runs × 100,000 steps in $SERIES_DIR ..." >&2
  rm -rf "$SERIES_DIR"; mkdir -p "$SERIES_DIR"
  python3 - "$SERIES_DIR" <<'PY'
import json, math, os, random, sys
root = sys.argv[1]
os.makedirs(f"{root}/.ox/metrics", exist_ok=True)
for i in range(100):
    rng = random.Random(i); rid = f"s{i:08d}"
    os.makedirs(f"{root}/.ox/runs/{rid}", exist_ok=True)
    json.dump({"id": rid, "name": f"long-{i}", "study": "long", "status": "completed",
               "params": {"seed": i}, "created": "2026-06-01T00:00:00Z", "started": "2026-06-01T00:00:00Z",
               "ended": "2026-06-02T00:00:00Z", "exit_code": 0}, open(f"{root}/.ox/runs/{rid}/run.json", "w"))
    with open(f"{root}/.ox/metrics/{rid}_metrics.jsonl", "w") as f:
        f.writelines('{"type": "metrics", "step": %d, "time": %.1f, "loss": %r, "acc": %r}\n'
                     % (s, 1780000000.0 + s, math.exp(-s / 20000) + rng.random() * 0.05, rng.random())
                     for s in range(100000))
PY
  touch "$SERIES_DIR/.generated"
fi
# Build the catalogs before timing.
OX=$PWD/target/release/ox
(cd "$RUNS_DIR" && "$OX" ls --limit 1 >/dev/null)
(cd "$SERIES_DIR" && "$OX" ls --limit 1 >/dev/null)
echo "ox ui, load average $(cut -d' ' -f1 /proc/loadavg):"
"$PWD/target/release/examples/ui_bench" "$OX" "$RUNS_DIR" "$SERIES_DIR"
