#!/usr/bin/env bash
# Catalog benchmark: building and refreshing `.ox/ox.db` for N runs × 20 params × 5 metrics
# (the project bench/query_gen.py writes, shared with bench/query.sh).
#   cold build:  first read command after ox.db was deleted (every file read)
#   reindex:     `ox reindex` (everything re-read into an existing catalog)
#   warm open:   `ox ls --limit 1` with nothing changed (the cost every read command pays)
#   new runs:    warm open after 1,000 new runs were written
# usage: bench/catalog.sh [N]      (BENCH_DIR chooses where the generated project goes)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
DIR=${BENCH_DIR:-/tmp/ox-bench-query-$N}
cargo build --release -q -p ox-cli
OX=$PWD/target/release/ox
if [ ! -f "$DIR/.generated" ]; then
  rm -rf "$DIR"; mkdir -p "$DIR"
  echo "generating $N runs in $DIR (a few minutes) ..." >&2
  python3 bench/query_gen.py "$DIR" "$N"
  touch "$DIR/.generated"
fi
cd "$DIR"
wall() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
median_ms() {
  python3 - "$@" <<'PY'
import statistics, subprocess, sys, time
ts = []
for _ in range(9):
    t = time.perf_counter(); subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); ts.append(time.perf_counter() - t)
print(round(statistics.median(ts) * 1000))
PY
}
rm -f .ox/ox.db .ox/ox.db-wal .ox/ox.db-shm
echo "catalog, $N runs × 20 params × 5 metrics (load average $(cut -d' ' -f1 /proc/loadavg)):"
echo "  cold build (ox ls after deleting ox.db):  $(wall "$OX" ls --limit 1) s"
echo "  ox reindex:                               $(wall "$OX" reindex) s"
echo "  warm open + refresh (ox ls --limit 1):    $(median_ms "$OX" ls --limit 1) ms median of 9"
rm -rf .ox/runs/zz*
python3 - <<'PY'
import json, os
for i in range(1000):
    rid = f"zz{i:08d}"
    os.makedirs(f".ox/runs/{rid}", exist_ok=True)
    run = {"id": rid, "name": f"new-{i}", "study": "new", "status": "completed", "params": {"lr": 0.1},
           "created": "2026-06-01T00:00:00Z", "started": "2026-06-01T00:00:00Z", "ended": "2026-06-01T00:01:00Z"}
    json.dump(run, open(f".ox/runs/{rid}/run.json", "w"))
PY
echo "  refresh after 1,000 new runs:             $(wall "$OX" ls --limit 1) s"
rm -rf .ox/runs/zz*
"$OX" ls --limit 1 >/dev/null
