#!/usr/bin/env bash
# Generates the inspect-ai edge-case logs. Run from this directory with the venv's inspect.
set -eu
OUT=${1:-out}
INSPECT=${INSPECT:-inspect}
# mock_answers.py (the deterministic mock model) is shared with the main inspect corpus.
export PYTHONPATH=../../../inspect/generator${PYTHONPATH:+:$PYTHONPATH}
rm -rf "$OUT"; mkdir -p "$OUT"
C="--log-dir $OUT --max-samples 1 --display plain"
G="--temperature 0.7 --top-p 0.9 --max-tokens 64 --seed 7 --max-connections 3 --max-retries 2 --timeout 30"
$INSPECT eval tasks_edge.py@nan_scores --log-format json $C $G
$INSPECT eval tasks_edge.py@nan_scores $C $G
ls -la "$OUT"
