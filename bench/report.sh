#!/usr/bin/env bash
# Report and export benchmark (issue 13): `ox report` on a generated study of N runs (default
# 1,000: 200 configurations × 5 seeds, 200 steps of `loss` and a final `val_acc`), then
# `ox export --series` of M runs × 1,000 steps (default 10,000 runs: 10 M points) to Parquet
# and to CSV. Prints medians of 5 (report) and 3 (exports) runs.
# usage: bench/report.sh [N] [M]      (BENCH_DIR chooses where the projects go)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
M=${2:-10000}
BASE=${BENCH_DIR:-/tmp}
cargo build --release -q -p ox-cli
OX=$PWD/target/release/ox

gen() { # gen DIR RUNS STEPS
  local dir=$1
  if [ -f "$dir/.generated" ]; then return; fi
  rm -rf "$dir"; mkdir -p "$dir"
  (cd "$dir" && "$OX" init >/dev/null)
  python3 - "$dir" "$2" "$3" <<'PY'
import math, os, random, sys
root, n, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(0)
for i in range(n):
    rid = f"01jd3k9x2m{i:016d}"
    cfg, seed = divmod(i, 5)
    lr = [1e-4, 3e-4, 1e-3, 3e-3][cfg % 4]
    layers = 4 + cfg // 4 % 50
    os.makedirs(f"{root}/.ox/runs/{rid}", exist_ok=True)
    with open(f"{root}/.ox/runs/{rid}/run.json", "w") as f:
        f.write('{"id": "%s", "name": "r%d", "study": "bench", "status": "completed", '
                '"params": {"lr": %r, "model": {"layers": %d}, "seed": %d}, "tags": [], '
                '"created": "2026-11-23T10:00:00Z", "started": "2026-11-23T10:00:00Z", '
                '"ended": "2026-11-23T10:%02d:00Z", "exit_code": 0, "command": [], "artifacts": []}'
                % (rid, i, lr, layers, seed, 10 + i % 40))
    final = 0.3 + 50 * lr + 0.02 * random.random()
    lines = [f'{{"step": {s}, "loss": {final + 2 * math.exp(-s / 20) + 0.01 * random.random()!r}}}\n'
             for s in range(steps)]
    lines.append(f'{{"step": {steps - 1}, "val_acc": {1 - final!r}}}\n')
    with open(f"{root}/.ox/metrics/{rid}_metrics.jsonl", "w") as f:
        f.writelines(lines)
PY
  (cd "$dir" && "$OX" ls --limit 1 >/dev/null)   # build the catalog once
  touch "$dir/.generated"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() { local k=$1; shift; for _ in $(seq "$k"); do s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); done | median; }

R=$BASE/ox-bench-report-$N
gen "$R" "$N" 200
cd "$R"
echo "ox report -s bench, $N runs (200 steps each): $(time_ms 5 "$OX" report -s bench -o "$R/out") ms"

S=$BASE/ox-bench-series-$M
gen "$S" "$M" 1000
cd "$S"
points=$(( M * 1001 ))
echo "ox export --series --format parquet, $M runs ($points points): $(time_ms 3 "$OX" export -s bench --series --format parquet -o "$S/series.parquet") ms, $(du -m "$S/series.parquet" | cut -f1) MB"
echo "ox export --series --format csv, $M runs ($points points): $(time_ms 3 "$OX" export -s bench --series --format csv -o "$S/series.csv") ms, $(du -m "$S/series.csv" | cut -f1) MB"
if python3 -c "import pyarrow" 2>/dev/null; then
  python3 -c "import pyarrow.parquet as pq, sys; t = pq.read_table(sys.argv[1]); print(f'pyarrow reads it back: {t.num_rows} rows, {t.schema.types}')" "$S/series.parquet"
fi
