#!/usr/bin/env bash
# Supervisor overhead of `ox run`: wall time of `ox run -- true` against a bare `true`, and
# the CPU the supervisor spends per resource sample. Prints its figures; never fails on speed.
#
#   bash bench/run.sh            # builds ox in release mode first
#   OX_BIN=path/to/ox bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${OX_BIN:-}" ]]; then
  cargo build --release -q -p ox-cli
  OX_BIN="$PWD/target/release/ox"
fi
export OX_BIN
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$OX_BIN" init >/dev/null 2>&1

python3 - <<'EOF'
import os, resource, statistics, subprocess, time

ox = os.environ["OX_BIN"]
env = dict(os.environ)
for k in ["OX_DIR", "OX_RUN_ID", "OX_METRICS_FILE", "OX_STUDY", "OX_RUN_NAME", "OX_PARAMS"]:
    env.pop(k, None)

def wall(cmd, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)

n = 50
bare, bare_min = wall(["true"], n)
sup, sup_min = wall([ox, "run", "--", "true"], n)
print(f"ox run -- true: median {sup*1e3:.2f} ms (min {sup_min*1e3:.2f}) vs bare true {bare*1e3:.2f} ms "
      f"(min {bare_min*1e3:.2f}); overhead {(sup-bare)*1e3:.2f} ms over {n} runs")

def supervisor_cpu(interval, secs):
    """CPU seconds of the ox process alone (its child `sleep` uses none) and samples written."""
    e = dict(env, OX_SAMPLE_INTERVAL=str(interval))
    p = subprocess.Popen([ox, "run", "--", "sleep", str(secs)], env=e,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    runs = sorted(os.listdir(".ox/runs"))
    rid = max(runs, key=lambda r: os.path.getmtime(f".ox/runs/{r}/run.json"))
    with open(f".ox/metrics/{rid}_system.jsonl") as f:
        samples = sum(1 for _ in f)
    return ru.ru_utime + ru.ru_stime, samples

secs = 5
idle_cpu, _ = supervisor_cpu(1000, secs)
busy_cpu, samples = supervisor_cpu(0.05, secs)
per_sample_ms = (busy_cpu - idle_cpu) / max(samples, 1) * 1e3
procs = sum(1 for d in os.listdir("/proc") if d.isdigit())
print(f"sampling: {per_sample_ms:.3f} ms CPU per sample ({samples} samples in {secs} s, "
      f"{procs} processes in /proc); at the default 2 s interval that is "
      f"{per_sample_ms/2000*100:.4f}% of one core")
print(f"supervisor CPU for a {secs} s run without sampling: {idle_cpu*1e3:.1f} ms")

# End of a run with a big metrics file: ox merges declared params from it.
lines = 1_000_000
with open("big.jsonl", "w") as f:
    f.write('{"type":"params","params":{"lr":0.1}}\n')
    for i in range(lines):
        f.write(f'{{"type":"metrics","step":{i},"time":1700000000.5,"loss":{1/(i+1):.6f},"acc":0.5}}\n')
size_mb = os.path.getsize("big.jsonl") / 1e6
plain, _ = wall(["sh", "-c", "cat big.jsonl > copy.jsonl"], 5)
sup, _ = wall([ox, "run", "--", "sh", "-c", 'cat big.jsonl >> "$OX_METRICS_FILE"'], 5)
print(f"run writing {lines} metrics lines ({size_mb:.0f} MB): ox run median {sup*1e3:.0f} ms vs "
      f"plain copy {plain*1e3:.0f} ms; end-of-run params scan ≈ {(sup-plain)*1e3:.0f} ms")
EOF
