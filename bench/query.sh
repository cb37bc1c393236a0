#!/usr/bin/env bash
# Query benchmark: N runs (default 100,000) × 20 params × 5 metrics. Times `ox query` with
# three predicates and an ORDER BY on a metric, in fresh processes with a warm catalog, next
# to `ox ls --limit 1` (the cost of opening and refreshing the catalog alone), and prints the
# SQL side measured in-process without the refresh (crates/ox-query/examples/query_sql.rs).
# usage: bench/query.sh [N]      (BENCH_DIR chooses where the generated project goes)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
DIR=${BENCH_DIR:-/tmp/ox-bench-query-$N}
cargo build --release -q -p ox-cli
cargo build --release -q -p ox-query --example query_sql
OX=$PWD/target/release/ox
SQL=$PWD/target/release/examples/query_sql

if [ ! -f "$DIR/.generated" ]; then
  rm -rf "$DIR"; mkdir -p "$DIR"
  echo "generating $N runs in $DIR (a few minutes) ..." >&2
  python3 bench/query_gen.py "$DIR" "$N"
  touch "$DIR/.generated"
fi
cd "$DIR"
if [ ! -f .ox/ox.db ]; then
  /usr/bin/time -f "catalog build (first open of $N runs): %e s wall" "$OX" ls --limit 1 >/dev/null
fi

BROAD="study = 'study-3' AND lr >= 1e-3 AND metrics.acc.max > 0.5 ORDER BY metrics.loss"
NARROW="study = 'study-3' AND lr = 1e-3 AND metrics.acc.max > 0.9 ORDER BY metrics.loss"
for q in "$BROAD" "$NARROW"; do
  echo "matches: $("$OX" query "$q" --format csv --columns id | tail -n +2 | wc -l)  for: $q"
done

median_ms() { # command... → median wall ms over 9 fresh processes (hyperfine when present)
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 1 --runs 9 --export-json /tmp/ox-bench-q.json "$(printf '%q ' "$@")" >/dev/null 2>&1
    python3 -c "import json; print(round(json.load(open('/tmp/ox-bench-q.json'))['results'][0]['median']*1000))"
  else
    python3 - "$@" <<'PY'
import statistics, subprocess, sys, time
ts = []
for _ in range(9):
    t = time.perf_counter(); subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); ts.append(time.perf_counter() - t)
print(round(statistics.median(ts) * 1000))
PY
  fi
}

echo "fresh process, warm catalog ($N runs), median wall:"
echo "  ox ls --limit 1 (open + refresh only):        $(median_ms "$OX" ls --limit 1) ms"
echo "  ox query BROAD --format json (all matches):   $(median_ms "$OX" query "$BROAD" --format json) ms"
echo "  ox query BROAD LIMIT 20 (table):              $(median_ms "$OX" query "$BROAD LIMIT 20") ms"
echo "  ox query NARROW (table):                      $(median_ms "$OX" query "$NARROW") ms"
echo "SQL side in-process, no refresh (median of 5):"
for q in "$BROAD" "$BROAD LIMIT 20" "$NARROW"; do
  for _ in 1 2 3 4 5; do "$SQL" .ox/ox.db "$q"; done | sort -t'l' -k1 | awk -F'total ' '{print $2+0, $0}' | sort -n | sed -n 3p | cut -d' ' -f2-
done
