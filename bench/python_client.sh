#!/usr/bin/env bash
# Cost of the Python client's hot path: run.log() of 3 metrics (the figure issue 2 asks
# for) and of 4, buffered and flushed once a second, in a standalone run. Prints the median
# per-call time of 5 rounds of 100,000 calls each, and the time of ox.init() + finish()
# (run.json twice, git status once).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/.ox"
cd "$tmp"
PYTHONPATH="$here/python" "${PYTHON:-python3}" - <<'PY'
import statistics, sys, time
import ox

N = 100_000


def per_call(log_one):
    times = []
    for _ in range(5):
        run = ox.init(config={"lr": 0.1})
        t0 = time.perf_counter()
        for i in range(N):
            log_one(run, i)
        t1 = time.perf_counter()
        run.finish()
        times.append((t1 - t0) / N)
    return statistics.median(times)


three = per_call(lambda run, i: run.log({"loss": 1.0 / (i + 1), "acc": 0.5, "lr": 0.1}))
four = per_call(lambda run, i: run.log({"loss": 1.0 / (i + 1), "acc": 0.5, "lr": 0.1, "grad_norm": 2.0}))
lifecycle = []
for _ in range(20):
    t0 = time.perf_counter()
    ox.init().finish()
    lifecycle.append(time.perf_counter() - t0)
import json, timeit
line = {"type": "metrics", "step": 1, "time": time.time(), "loss": 0.1, "acc": 0.5, "lr": 0.1, "grad_norm": 2.0}
dumps = min(timeit.repeat(lambda: json.dumps(line), number=N // 10, repeat=5)) / (N // 10)
print(f"python {sys.version.split()[0]}: run.log() of 3 metrics: {three * 1e6:.2f} us/call "
      f"({1 / three:,.0f} lines/s); of 4 metrics: {four * 1e6:.2f} us/call; median of 5 x {N:,} "
      f"(the loop and the dict literal included); json.dumps of a 4-metric line alone: "
      f"{dumps * 1e6:.2f} us")
print(f"ox.init() + finish() (standalone, run.json written twice): "
      f"{statistics.median(lifecycle) * 1e3:.1f} ms median of 20")
PY
