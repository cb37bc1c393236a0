"""W&B offline runs for ox's importer edge cases (issue 10).

1. `media`: a run that logs media into its history (an image, a table, a histogram) beside
   scalar metrics, and sets a summary-only value (`best_val_acc`, never logged as a point).
2. `killed`: a run whose processes are all SIGKILLed right after `wandb.init` returns
   (see the shell driver), leaving a `.wandb` file with little or nothing after its header.
"""
import os
import signal
import sys

import numpy as np
import wandb

mode = sys.argv[1]
if mode == "media":
    run = wandb.init(project="edge", name="media-run", mode="offline",
                     config={"lr": 0.01, "layers": [64, 32], "opt": {"name": "adam", "beta": 0.9}})
    rng = np.random.default_rng(0)
    for step in range(5):
        row = {"loss": 1.0 / (step + 1), "acc": 0.5 + 0.1 * step}
        if step % 2 == 0:
            row["sample_image"] = wandb.Image(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8))
            row["preds"] = wandb.Table(columns=["x", "y"], data=[[1, 2], [3, 4]])
            row["weights"] = wandb.Histogram(rng.normal(size=100))
        wandb.log(row, step=step)
    run.summary["best_val_acc"] = 0.93
    run.finish()
elif mode == "killed":
    run = wandb.init(project="edge", name="killed-run", mode="offline")
    print(run.dir, flush=True)
    os.killpg(os.getpgid(0), signal.SIGKILL)
