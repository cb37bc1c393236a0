#!/usr/bin/env bash
# The figures issue 2 asks for, on a project of N = 10,000 runs × 5 metrics × 100 steps
# (4 params each, like the demo's), release build:
#   ox --version          process start-up (target < 10 ms)
#   ox ls                 every run as a table, warm catalog (target < 100 ms), and as JSON
#   ox ls --limit 20      a screenful
#   refresh + 10 new      the first `ox ls --limit 1` after 10 new runs (each with its
#                         500-value metrics file) appeared, minus nothing: wall time
# usage: bench/ls.sh [N]      (BENCH_DIR chooses where the generated project goes; needs hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
DIR=${BENCH_DIR:-/tmp/ox-bench-ls-$N}
cargo build --release -q -p ox-cli
OX=$PWD/target/release/ox
gen() { # gen DIR FIRST COUNT PREFIX: runs FIRST..FIRST+COUNT-1 with 5 metrics × 100 steps
  python3 - "$@" <<'PY'
import json, math, os, random, sys
root, first, count, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
os.makedirs(f"{root}/.ox/runs", exist_ok=True)
os.makedirs(f"{root}/.ox/metrics", exist_ok=True)
for i in range(first, first + count):
    rng = random.Random(i)
    rid = f"{prefix}{i:08d}"
    lr = rng.choice([1e-4, 3e-4, 1e-3, 3e-3])
    os.makedirs(f"{root}/.ox/runs/{rid}", exist_ok=True)
    run = {"id": rid, "name": f"run-{i}", "study": f"study-{i % 5}", "status": "completed",
           "params": {"lr": lr, "seed": i % 3, "batch_size": rng.choice([32, 64]), "model": {"width": 256}},
           "tags": [], "created": "2026-06-01T00:00:00Z", "started": "2026-06-01T00:00:00Z",
           "ended": "2026-06-01T00:10:00Z", "exit_code": 0}
    with open(f"{root}/.ox/runs/{rid}/run.json", "w") as f:
        json.dump(run, f)
    with open(f"{root}/.ox/metrics/{rid}_metrics.jsonl", "w") as f:
        for step in range(100):
            loss = math.exp(-lr * 100 * step) + rng.random() * 0.05
            f.write(json.dumps({"type": "metrics", "step": step, "time": 1780000000.0 + step,
                                "loss": loss, "acc": 1 - loss / 2, "lr": lr,
                                "grad_norm": rng.random(), "tokens_per_s": 1000 + rng.random()}) + "\n")
PY
}
if [ ! -f "$DIR/.generated" ]; then
  rm -rf "$DIR"; mkdir -p "$DIR"
  echo "generating $N runs in $DIR ..." >&2
  gen "$DIR" 0 "$N" r
  touch "$DIR/.generated"
fi
cd "$DIR"
rm -rf .ox/runs/new* .ox/metrics/new*
"$OX" ls --limit 1 >/dev/null
median_ms() {
  hyperfine -N -w 3 -r "${RUNS:-20}" --export-json /tmp/ox-bench-ls.json "$@" >/dev/null 2>&1
  python3 -c 'import json; r=json.load(open("/tmp/ox-bench-ls.json"))["results"][0]; print("%.1f" % (r["median"] * 1000))'
}
echo "ox ls, $N runs × 5 metrics × 100 steps (load average $(cut -d' ' -f1 /proc/loadavg)), medians:"
echo "  ox --version:                     $(median_ms "$OX --version") ms"
echo "  ox ls --limit 1 (open + refresh): $(median_ms "$OX ls --limit 1") ms"
echo "  ox ls --limit 20:                 $(median_ms "$OX ls --limit 20") ms"
echo "  ox ls (all $N runs, table):       $(median_ms "$OX ls") ms"
echo "  ox ls --format json (all):        $(median_ms "$OX ls --format json") ms"
# Refresh after 10 new runs: each round adds 10 runs (with their metrics files), then times
# the one `ox ls --limit 1` that picks them up.
ts=()
for round in 0 1 2 3 4 5 6 7 8; do
  gen "$DIR" $((round * 10)) 10 "new$round"
  t0=$(date +%s%N)
  "$OX" ls --limit 1 >/dev/null
  t1=$(date +%s%N)
  ts+=($(( (t1 - t0) / 1000 )))
done
median=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n 5p)
echo "  first ox ls --limit 1 after 10 new runs: $((median / 1000)).$(( (median % 1000) / 100 )) ms (median of 9 rounds)"
rm -rf .ox/runs/new* .ox/metrics/new*
"$OX" ls --limit 1 >/dev/null
