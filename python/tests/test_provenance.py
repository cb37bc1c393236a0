"""run.log_dataset / run.log_artifact: files hashed into the run, in both modes."""

import hashlib
import json
import os

from support import ProjectTestCase

import ox


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class ProvenanceTest(ProjectTestCase):
    def write(self, name, text):
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_standalone_run_records_datasets_and_artifacts(self):
        data = self.write("train.csv", "x,y\n1,2\n3,4\n5,6")
        model = self.write("model.bin", "weights")
        with ox.init(study="s") as run:
            d = run.log_dataset(data)
            a = run.log_artifact(model)
        self.assertEqual(d, {"path": data, "sha256": sha256(data), "bytes": 15, "rows": 3, "name": "train.csv"})
        self.assertEqual(a, {"path": "artifacts/model.bin", "sha256": sha256(model), "bytes": 7})
        copied = os.path.join(self.ox_dir, "runs", run.id, "artifacts", "model.bin")
        self.assertEqual(sha256(copied), sha256(model))
        record = self.read_run(run.id)
        self.assertEqual(record["datasets"], [d])
        self.assertEqual(record["artifacts"], [a])
        kinds = [line.get("type") for line in self.read_metrics(run.id)]
        self.assertEqual(kinds, ["dataset", "artifact"])

    def test_attached_run_writes_only_its_metrics_file(self):
        metrics = os.path.join(self.ox_dir, "metrics", "r1_metrics.jsonl")
        os.environ.update(OX_RUN_ID="r1", OX_METRICS_FILE=metrics, OX_DIR=self.ox_dir)
        data = self.write("eval.jsonl", '{"q": 1}\n{"q": 2}\n')
        run = ox.init()
        entry = run.log_dataset(data, name="eval")
        run.log_artifact(data)
        run.finish()
        self.assertEqual(entry["rows"], 2)
        self.assertEqual(entry["name"], "eval")
        lines = self.read_metrics(path=metrics)
        self.assertEqual(lines[0], {"type": "dataset", "dataset": entry})
        self.assertEqual(lines[1]["artifact"]["path"], "artifacts/eval.jsonl")
        self.assertFalse(os.path.exists(os.path.join(self.ox_dir, "runs", "r1", "run.json")))

    def test_binary_files_have_no_row_count(self):
        blob = self.write("data.bin", "abc\n")
        with ox.init() as run:
            entry = run.log_dataset(blob)
        self.assertNotIn("rows", entry)
        self.assertEqual(entry["bytes"], 4)
