#!/usr/bin/env python3
"""Writes a synthetic ox project for the query benchmark: N runs, each with 20 params and
5 metrics (3 logged steps each), in the real on-disk format (run.json + metrics JSONL).

usage: query_gen.py DIR N
"""
import json
import os
import random
import sys
from datetime import datetime, timedelta, timezone


def main() -> None:
    root, n = sys.argv[1], int(sys.argv[2])
    ox = os.path.join(root, ".ox")
    runs, metrics = os.path.join(ox, "runs"), os.path.join(ox, "metrics")
    os.makedirs(runs, exist_ok=True)
    os.makedirs(metrics, exist_ok=True)
    rng = random.Random(42)
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    statuses = ["completed"] * 8 + ["failed", "killed"]
    for i in range(n):
        rid = f"b{i:08d}"
        created = base + timedelta(seconds=i * 7)
        ended = created + timedelta(seconds=rng.randint(60, 7200))
        status = statuses[i % len(statuses)]
        params = {
            "lr": rng.choice([1e-4, 3e-4, 1e-3, 3e-3, 1e-2]),
            "seed": i % 5,
            "model": {"layers": rng.choice([6, 12, 24]), "width": rng.choice([256, 512, 1024])},
            "optimizer": rng.choice(["adam", "adamw", "sgd"]),
        }
        for k in range(15):
            params[f"p{k}"] = round(rng.random(), 4)
        run = {
            "id": rid, "name": f"run-{i}", "study": f"study-{i % 10}", "status": status,
            "params": params, "tags": ["baseline"] if i % 7 == 0 else [],
            "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "started": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ended": ended.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "exit_code": 0 if status == "completed" else 1,
            "command": ["python", "train.py"], "host": f"gpu-{i % 4}",
        }
        d = os.path.join(runs, rid)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "run.json"), "w") as f:
            json.dump(run, f)
        lines = []
        for step in range(3):
            point = {"type": "metrics", "step": step, "time": 1.7e9 + step}
            point["loss"] = round(rng.uniform(0.1, 3.0) / (step + 1), 5)
            point["acc"] = round(rng.random(), 5)
            point["val/loss"] = round(rng.uniform(0.1, 3.0), 5)
            point["val/acc"] = round(rng.random(), 5)
            point["grad_norm"] = round(rng.uniform(0, 10), 5)
            lines.append(json.dumps(point))
        with open(os.path.join(metrics, f"{rid}_metrics.jsonl"), "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
