#!/usr/bin/env bash
# Run from an empty directory: writes wandb/offline-run-*/ there.
set -u
PY=${PY:-python}
export WANDB_MODE=offline WANDB_SILENT=true
$PY "$(dirname "$0")/make_wandb_edge.py" media
# own process group, so the kill reaches wandb's service process too
setsid $PY "$(dirname "$0")/make_wandb_edge.py" killed
echo "killed run exit: $?"
ls -la wandb/*/
