#!/usr/bin/env bash
# The figures issue 12 asks for: `ox plot curves` of R = 100 runs × S = 100,000 steps
# (10 M points) to PNG (target < 1 s) and to SVG, release build, warm page cache. To see
# where the time goes, the same selection is also timed as:
#   ox ls --limit 1          catalog open + refresh (no metric files read)
#   --format json            + reading the 100 metric files and downsampling (no drawing)
#   -o curves.png / .svg     + layout, drawing and encoding
#   --group-by lr            + the per-step mean and interval of each group (PNG)
# usage: bench/plot.sh [R] [S]   (BENCH_DIR chooses where the generated project goes;
#                                 uses hyperfine when installed, else 5 timed runs)
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-100}
S=${2:-100000}
DIR=${BENCH_DIR:-/tmp/ox-bench-plot-$R-$S}
cargo build --release -q -p ox-cli
OX=$PWD/target/release/ox
if [ ! -f "$DIR/.generated" ]; then
  rm -rf "$DIR"; mkdir -p "$DIR/.ox/runs" "$DIR/.ox/metrics"
  echo "generating $R runs × $S steps in $DIR ..." >&2
  python3 - "$DIR" "$R" "$S" <<'PY'
import json, math, os, random, sys
root, runs, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(runs):
    rng = random.Random(i)
    rid = f"r{i:08d}"
    lr = [1e-4, 3e-4, 1e-3, 3e-3][i % 4]
    os.makedirs(f"{root}/.ox/runs/{rid}", exist_ok=True)
    run = {"id": rid, "name": f"run-{i}", "study": "bench", "status": "completed",
           "params": {"lr": lr, "seed": i // 4}, "tags": [],
           "created": "2026-06-01T00:00:00Z", "started": "2026-06-01T00:00:00Z",
           "ended": "2026-06-01T10:00:00Z", "exit_code": 0}
    with open(f"{root}/.ox/runs/{rid}/run.json", "w") as f:
        json.dump(run, f)
    rate = lr * 30
    lines = []
    for step in range(steps):
        loss = 2.5 * math.exp(-rate * step / 1000) + 0.3 + rng.random() * 0.05
        lines.append('{"step":%d,"time":%.1f,"loss":%.6f}\n' % (step, 1780000000.0 + step * 0.36, loss))
    with open(f"{root}/.ox/metrics/{rid}_metrics.jsonl", "w") as f:
        f.writelines(lines)
PY
  touch "$DIR/.generated"
fi
cd "$DIR"
"$OX" ls --limit 1 >/dev/null
# Warm the page cache with the metric files.
cat .ox/metrics/*.jsonl >/dev/null
timeit() { # "median wall ms (CPU: user + system ms)" of a command line
  if command -v hyperfine >/dev/null; then
    hyperfine -N -w 1 -r "${RUNS:-5}" --export-json /tmp/ox-bench-plot.json "$1" >/dev/null 2>&1
    python3 -c 'import json; r=json.load(open("/tmp/ox-bench-plot.json"))["results"][0]; print("%5.0f ms wall (CPU %.0f ms)" % (r["median"] * 1000, (r["user"] + r["system"]) * 1000))'
  else
    local ts=()
    for _ in 1 2 3 4 5; do
      local t0 t1; t0=$(date +%s%N); bash -c "$1" >/dev/null; t1=$(date +%s%N)
      ts+=($(( (t1 - t0) / 1000000 )))
    done
    echo "$(printf '%s\n' "${ts[@]}" | sort -n | sed -n 3p) ms wall"
  fi
}
size=$(du -sm .ox/metrics | cut -f1)
echo "ox plot curves, $R runs × $S steps ($size MB of JSONL; $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)), medians:"
echo "  ox ls --limit 1 (catalog):             $(timeit "$OX ls --limit 1")"
echo "  --format json (read + downsample):     $(timeit "$OX plot curves --metric loss --format json -o /tmp/ox-bench-plot-data.json")"
echo "  -o curves.png:                         $(timeit "$OX plot curves --metric loss -o /tmp/ox-bench-curves.png")"
echo "  -o curves.svg:                         $(timeit "$OX plot curves --metric loss -o /tmp/ox-bench-curves.svg")"
echo "  --group-by lr -o curves.png:           $(timeit "$OX plot curves --metric loss --group-by lr -o /tmp/ox-bench-grouped.png")"
echo "  --style paper -o curves.png (300 dpi): $(timeit "$OX plot curves --metric loss --style paper -o /tmp/ox-bench-paper.png")"
echo "  output sizes: PNG $(du -k /tmp/ox-bench-curves.png | cut -f1) KB, SVG $(du -k /tmp/ox-bench-curves.svg | cut -f1) KB"
