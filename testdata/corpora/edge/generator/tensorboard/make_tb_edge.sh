#!/usr/bin/env bash
# Run from an empty directory with the venv's python (tensorflow-cpu installed).
set -eu
PY=${PY:-python}
HERE=$(dirname "$0")
export TF_CPP_MIN_LOG_LEVEL=3
$PY "$HERE/make_tb_edge.py" tf_summary_write
$PY "$HERE/make_tb_edge.py" torn_first_record
sleep 1  # a later start time in the torn file's name
$PY "$HERE/make_tb_edge.py" torn_tmp
f=$(ls torn_tmp/events.out.tfevents.*)
head -c 10 "$f" > "torn_first_record/$(basename "$f")"
rm -r torn_tmp
ls -la tf_summary_write torn_first_record
