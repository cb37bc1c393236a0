"""The demo training script (examples/demo/train.py) trains for real and logs through the client."""

import os
import unittest

from support import PACKAGE_ROOT, ProjectTestCase

DEMO = os.path.join(os.path.dirname(PACKAGE_ROOT), "examples", "demo", "train.py")


@unittest.skipUnless(os.path.isfile(DEMO), f"{DEMO} not found")
class DemoScriptTest(ProjectTestCase):
    def start(self, name, *args):
        return self.start_script(f"""
            import runpy, sys
            sys.argv = [{DEMO!r}] + {list(args)!r}
            runpy.run_path({DEMO!r}, run_name="__main__")
        """, name=name)

    def test_learning_rate_and_seed_change_the_outcome(self):
        settings = (("0.01", "1"), ("1.0", "1"), ("1.0", "2"))
        procs = {s: self.start(f"train_{s[0]}_{s[1]}.py", "--lr", s[0], "--seed", s[1], "--steps", "300", "--study", "demo") for s in settings}
        finals = {}
        for (lr, seed), proc in procs.items():
            out, err = proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 0, err)
            self.assertIn(f"done: lr={float(lr):g} seed={seed}", out.splitlines()[-1])
        runs = [self.read_run(run_id) for run_id in self.run_ids()]
        self.assertEqual(len(runs), len(settings))
        for record in runs:
            lr, seed = record["params"]["lr"], record["params"]["seed"]
            self.assertEqual((record["status"], record["study"]), ("completed", "demo"))
            lines = self.read_metrics(record["id"])
            self.assertEqual(lines[0]["step"], 0)
            self.assertEqual(lines[-1]["step"], 300)
            for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
                self.assertIn(key, lines[-1])
            finals[(str(lr), str(seed))] = lines[-1]
        self.assertEqual(sorted(finals), sorted(settings))
        # a tiny learning rate barely moves; a good one learns the curved boundary
        self.assertGreater(finals[("0.01", "1")]["loss"], 0.6)
        self.assertGreater(finals[("1.0", "1")]["val_accuracy"], 0.8)
        self.assertNotEqual(finals[("1.0", "1")]["loss"], finals[("1.0", "2")]["loss"])

    def test_params_from_ox_run_override_the_flags(self):
        metrics = os.path.join(self.ox_dir, "metrics", "01demo_metrics.jsonl")
        code, out, err = self.run_script(f"""
            import runpy, sys
            sys.argv = [{DEMO!r}, "--lr", "0.5", "--steps", "40"]
            runpy.run_path({DEMO!r}, run_name="__main__")
        """, env={"OX_RUN_ID": "01demo", "OX_METRICS_FILE": metrics, "OX_DIR": self.ox_dir,
                  "OX_PARAMS": '{"lr": 0.2, "seed": 7}'})
        self.assertEqual(code, 0, err)
        self.assertIn("lr=0.2 seed=7", out)
        lines = self.read_metrics(path=metrics)
        self.assertEqual(lines[0]["type"], "params")
        self.assertEqual((lines[0]["params"]["lr"], lines[0]["params"]["seed"], lines[0]["params"]["steps"]),
                         (0.2, 7, 40))
        self.assertEqual(self.run_ids(), [])


if __name__ == "__main__":
    unittest.main()
