#!/usr/bin/env bash
# The figures issue 11 asks for, release build:
#   local   a sweep of N=500 members running `true` at --max-parallel 8, against the same
#           500 `ox run -- true` started by `xargs -P 8` (the cost of ox run itself): the
#           difference per member is what the sweep adds (target < 5 ms). Median of ROUNDS.
#   slurm   the time from `ox sweep --executor slurm` to the array queued, for 1,000 members
#           (the command returns once sbatch answered with the job id; target < 1 s). The
#           array is cancelled right after. Needs a cluster (scripts/slurm/start-local-slurm.sh);
#           skipped with a message without one.
# usage: bench/sweep.sh [N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500}
ROUNDS=${2:-3}
cargo build --release -q -p ox-cli
OX=$PWD/target/release/ox
WORK=$(mktemp -d /tmp/ox-bench-sweep.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
seeds=$(seq -s, 1 "$N")
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

sweep_s=() run_s=()
for r in $(seq 1 "$ROUNDS"); do
  d=$WORK/sweep-$r; mkdir -p "$d"; (cd "$d" && "$OX" init >/dev/null 2>&1)
  t0=$(now); (cd "$d" && "$OX" sweep -s b --seeds "$seeds" --max-parallel 8 -- true 2>/dev/null); t1=$(now)
  sweep_s+=("$(echo "$t1 - $t0" | bc -l)")
  d=$WORK/run-$r; mkdir -p "$d"; (cd "$d" && "$OX" init >/dev/null 2>&1)
  t0=$(now); (cd "$d" && seq 1 "$N" | xargs -P 8 -I{} "$OX" run -s b -p seed={} -- true 2>/dev/null); t1=$(now)
  run_s+=("$(echo "$t1 - $t0" | bc -l)")
done
ts=$(printf '%s\n' "${sweep_s[@]}" | median)
tr=$(printf '%s\n' "${run_s[@]}" | median)
printf 'local: %d members of `true`, --max-parallel 8: ox sweep %.2f s, xargs -P 8 ox run %.2f s (medians of %d)\n' "$N" "$ts" "$tr" "$ROUNDS"
printf 'local: sweep overhead per member beyond ox run: %.2f ms (target < 5 ms); ox sweep per member %.2f ms\n' \
  "$(echo "($ts - $tr) * 1000 / $N" | bc -l)" "$(echo "$ts * 1000 / $N" | bc -l)"

if ! sinfo -h >/dev/null 2>&1; then
  echo "slurm: skipped (no cluster: start one with scripts/slurm/start-local-slurm.sh)"
  exit 0
fi
slurm_s=()
for r in $(seq 1 "$ROUNDS"); do
  d=$WORK/slurm-$r; mkdir -p "$d"; (cd "$d" && "$OX" init >/dev/null 2>&1)
  t0=$(now)
  (cd "$d" && "$OX" sweep -s s --executor slurm --seeds "$(seq -s, 1 1000)" --max-parallel 8 -- true 2>/dev/null)
  t1=$(now)
  slurm_s+=("$(echo "$t1 - $t0" | bc -l)")
  job=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['slurm_jobs'][-1])" "$d/.ox/sweeps/s/sweep.json")
  squeue -h -j "$job" -o %i | head -1 | grep -q . && echo "slurm: round $r: array $job is queued"
  scancel "$job"
done
printf 'slurm: 1000 members, ox sweep --executor slurm to array queued: %.3f s (median of %d; target < 1 s)\n' \
  "$(printf '%s\n' "${slurm_s[@]}" | median)" "$ROUNDS"
