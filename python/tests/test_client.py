"""The client in-process and in small subprocesses (no ox binary needed)."""

import argparse
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import unittest
import warnings
from unittest import mock

from support import ProjectTestCase, wait_for_line

import ox

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
RUN_JSON_FIELDS = {
    "id", "name", "study", "status", "params", "tags", "created", "started", "ended",
    "exit_code", "command", "cwd", "host", "pid", "git", "sweep", "source", "artifacts",
    "pid_start_ticks",
}


def decode_ulid_ms(run_id):
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    value = 0
    for c in run_id:
        value = value * 32 + alphabet.index(c)
    return value >> 80


class RunIdTest(unittest.TestCase):
    def test_ids_are_lowercase_ulids_carrying_the_creation_time(self):
        before = int(time.time() * 1000)
        run_id = ox.new_run_id()
        after = int(time.time() * 1000)
        self.assertRegex(run_id, r"^[0-9a-hjkmnp-tv-z]{26}$")
        self.assertTrue(before <= decode_ulid_ms(run_id) <= after)
        self.assertEqual(decode_ulid_ms(ox.new_run_id(now=1.5)), 1500)

    def test_ids_sort_in_creation_order_even_within_one_millisecond(self):
        ids = [ox.new_run_id() for _ in range(2000)]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(set(ids)), len(ids))


class FindProjectTest(ProjectTestCase):
    def test_walks_up_from_a_subdirectory(self):
        sub = os.path.join(self.root, "a", "b")
        os.makedirs(sub)
        self.assertEqual(ox.find_ox_dir(sub), self.ox_dir)
        os.chdir(sub)
        self.assertEqual(ox.find_ox_dir(), self.ox_dir)

    def test_ox_dir_env_overrides_the_search(self):
        other = os.path.join(self.root, "elsewhere", ".ox")
        os.makedirs(other)
        os.environ["OX_DIR"] = other
        self.assertEqual(ox.find_ox_dir(), other)
        run = ox.init()
        run.finish()
        self.assertTrue(os.path.isfile(os.path.join(other, "runs", run.id, "run.json")))

    def test_no_project_says_to_run_ox_init(self):
        bare = os.path.join(self.root, "bare")
        os.makedirs(bare)
        with mock.patch.object(os.path, "isdir", side_effect=lambda p: False):
            with self.assertRaises(ox.NoProjectError) as cm:
                ox.find_ox_dir(bare)
        self.assertIn("ox init", str(cm.exception))
        os.environ["OX_DIR"] = os.path.join(self.root, "missing")
        with self.assertRaises(ox.NoProjectError) as cm:
            ox.init()
        self.assertIn("ox init", str(cm.exception))


class StandaloneRunTest(ProjectTestCase):
    def test_run_json_has_every_contract_field(self):
        run = ox.init(study="sparse", name="lr-3e4", config={"lr": 3e-4, "model": {"layers": 12}},
                      tags=["baseline"])
        record = self.read_run(run.id)
        self.assertEqual(set(record), RUN_JSON_FIELDS)
        self.assertEqual(record["id"], run.id)
        self.assertEqual(self.run_ids(), [run.id])
        self.assertEqual((record["name"], record["study"], record["status"]), ("lr-3e4", "sparse", "running"))
        self.assertEqual(record["params"], {"lr": 3e-4, "model": {"layers": 12}})
        self.assertEqual(record["tags"], ["baseline"])
        self.assertRegex(record["created"], RFC3339_UTC)
        self.assertEqual(record["started"], record["created"])
        self.assertIsNone(record["ended"])
        self.assertIsNone(record["exit_code"])
        self.assertEqual(record["command"][0], sys.executable)
        self.assertEqual(record["command"][1:], sys.argv)
        self.assertEqual(record["cwd"], self.root)
        self.assertEqual(record["pid"], os.getpid())
        self.assertIsNone(record["sweep"])
        self.assertIsNone(record["source"])
        self.assertEqual(record["artifacts"], [])
        if os.path.exists("/proc/self/stat"):
            with open("/proc/self/stat") as f:
                expected_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
            self.assertEqual(record["pid_start_ticks"], expected_ticks)

        run.finish()
        record = self.read_run(run.id)
        self.assertEqual((record["status"], record["exit_code"]), ("completed", 0))
        self.assertRegex(record["ended"], RFC3339_UTC)
        self.assertGreaterEqual(record["ended"], record["started"])

    def test_defaults(self):
        run = ox.init()
        record = self.read_run(run.id)
        self.assertEqual((record["study"], record["name"], record["params"], record["tags"]),
                         ("default", None, {}, []))
        run.finish()

    def test_config_may_be_an_argparse_namespace(self):
        run = ox.init(config=argparse.Namespace(lr=0.1, seed=2))
        self.assertEqual(self.read_run(run.id)["params"], {"lr": 0.1, "seed": 2})
        self.assertEqual(run.config.lr, 0.1)
        run.finish()

    def test_git_state_is_recorded_inside_a_repository_and_null_outside(self):
        run = ox.init()
        self.assertIsNone(self.read_run(run.id)["git"])
        run.finish()
        try:
            git = lambda *a: subprocess.run(["git", *a], cwd=self.root, check=True, capture_output=True)  # noqa: E731
            git("init", "-q", "-b", "trunk")
            with open(os.path.join(self.root, "f.txt"), "w") as f:
                f.write("x")
            git("add", "f.txt")
            git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "c")
            commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=self.root, capture_output=True,
                                    text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError) as e:
            self.skipTest(f"git unavailable: {e}")
        run = ox.init()
        self.assertEqual(self.read_run(run.id)["git"], {"commit": commit, "branch": "trunk", "dirty": False})
        run.finish()
        with open(os.path.join(self.root, "f.txt"), "w") as f:
            f.write("changed")
        run = ox.init()
        self.assertTrue(self.read_run(run.id)["git"]["dirty"])
        run.finish()

    def test_metric_lines_follow_the_contract(self):
        class Scalar:  # what a NumPy scalar or a one-element tensor looks like
            def item(self):
                return 2.5

        run = ox.init()
        run.log({"loss": 0.5, "lr": 3e-4}, step=10)
        run.log({"loss": 0.4})  # step 11
        run.log({"train": {"loss": 1, "acc": {"top1": 0.25}}, "done": True, "gpu": Scalar()})
        run.log({"loss": math.nan, "grad": math.inf, "neg": -math.inf}, step=20)
        run.log({"loss": 0.1})  # step 21
        run.finish()
        lines = self.read_metrics(run.id)
        self.assertEqual([line["step"] for line in lines], [10, 11, 12, 20, 21])
        self.assertTrue(all(line["type"] == "metrics" for line in lines))
        self.assertTrue(all(abs(line["time"] - time.time()) < 60 for line in lines))
        self.assertEqual(lines[0]["loss"], 0.5)
        self.assertEqual(lines[2]["train/loss"], 1)
        self.assertEqual(lines[2]["train/acc/top1"], 0.25)
        self.assertEqual(lines[2]["done"], 1)
        self.assertEqual(lines[2]["gpu"], 2.5)
        self.assertTrue(math.isnan(lines[3]["loss"]))
        self.assertEqual((lines[3]["grad"], lines[3]["neg"]), (math.inf, -math.inf))
        with open(os.path.join(self.ox_dir, "metrics", f"{run.id}_metrics.jsonl")) as f:
            text = f.read()
        self.assertIn('"loss": NaN', text)
        self.assertIn('"grad": Infinity', text)
        self.assertTrue(text.startswith('{"type": "metrics", "step": 10, "time": '))
        self.assertTrue(text.endswith("}\n"))

    def test_lines_are_what_json_dumps_writes_on_first_and_repeated_names(self):
        # log() encodes names it has seen before itself (its fast path); the bytes must be
        # those json.dumps would write, whatever the values.
        import random

        rng = random.Random(7)
        specials = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-310, 1.7976931348623157e308, 0.1]
        ints = [0, -1, 2**53, -(2**53), 2**53 + 1, 2**63, True, False]
        names = ["loss", "acc", 'we"ird\\name\n', "ünï/cödé", "x y"]
        run = ox.init()
        expected = []
        for step in range(300):
            metrics = {}
            for name in rng.sample(names, rng.randint(0, len(names))):
                pick = rng.random()
                if pick < 0.4:
                    metrics[name] = rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-300, 300)
                elif pick < 0.6:
                    metrics[name] = rng.choice(specials)
                elif pick < 0.8:
                    metrics[name] = rng.choice(ints)
                else:
                    metrics[name] = {"inner": rng.random()}
            run.log(metrics, step=step)
            flat = {}
            for name, value in metrics.items():
                if isinstance(value, dict):
                    flat[f"{name}/inner"] = value["inner"]
                elif isinstance(value, bool):
                    flat[name] = int(value)
                elif isinstance(value, int) and abs(value) > 2**53:
                    flat[name] = float(value)
                else:
                    flat[name] = value
            expected.append((step, flat))
        run.finish()
        with open(os.path.join(self.ox_dir, "metrics", f"{run.id}_metrics.jsonl")) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), len(expected))
        for text, (step, flat) in zip(lines, expected):
            written_time = json.loads(text)["time"]
            line = {"type": "metrics", "step": step, "time": written_time}
            line.update(flat)
            self.assertEqual(text, json.dumps(line))

    def test_first_step_is_zero(self):
        run = ox.init()
        run.log({"a": 1})
        run.log({"a": 2})
        run.finish()
        self.assertEqual([line["step"] for line in self.read_metrics(run.id)], [0, 1])

    def test_bad_values_are_rejected_clearly_and_nothing_is_written(self):
        run = ox.init()
        with self.assertRaisesRegex(TypeError, r"metric 'name' has a str value"):
            run.log({"loss": 1.0, "name": "resnet"})
        with self.assertRaisesRegex(TypeError, r"metric 'x/y' has a list value"):
            run.log({"x": {"y": [1, 2]}})
        with self.assertRaisesRegex(TypeError, "metric 'n' has a NoneType"):
            run.log({"n": None})
        with self.assertRaisesRegex(ValueError, "'step' is reserved"):
            run.log({"step": 3})
        with self.assertRaisesRegex(TypeError, "step must be an integer"):
            run.log({"a": 1}, step=1.5)
        with self.assertRaisesRegex(TypeError, "dict"):
            run.log([("a", 1)])
        run.finish()
        self.assertEqual(self.read_metrics(run.id), [])
        with self.assertRaisesRegex(RuntimeError, "finished"):
            run.log({"a": 1})

    def test_module_level_log_uses_the_latest_run(self):
        run = ox.init()
        ox.log({"a": 1}, step=5)
        ox.finish()
        self.assertTrue(run.finished)
        self.assertEqual(self.read_metrics(run.id)[0]["step"], 5)

    def test_finish_is_idempotent_and_takes_a_status(self):
        run = ox.init()
        run.finish(status="failed", exit_code=3)
        run.finish()
        record = self.read_run(run.id)
        self.assertEqual((record["status"], record["exit_code"]), ("failed", 3))
        run = ox.init()
        run.finish(exit_code=2)
        self.assertEqual(self.read_run(run.id)["status"], "failed")
        run = ox.init()
        with self.assertRaises(ValueError):
            run.finish(status="done")
        self.assertFalse(run.finished)  # a bad call leaves the run open for a good one
        run.finish(status="killed")
        self.assertEqual(self.read_run(run.id)["exit_code"], 143)


class AtomicWriteTest(ProjectTestCase):
    def test_readers_never_see_a_partial_run_json(self):
        path = os.path.join(self.root, "run.json")
        big = {"params": {f"p{i}": "x" * 50 for i in range(400)}}
        ox._write_json_atomic(path, dict(big, n=0))
        stop = threading.Event()
        seen = []
        errors = []

        def reader():
            while not stop.is_set():
                try:
                    with open(path) as f:
                        seen.append(json.load(f)["n"])
                except ValueError as e:
                    errors.append(e)

        t = threading.Thread(target=reader)
        t.start()
        for n in range(1, 60):
            ox._write_json_atomic(path, dict(big, n=n))
        stop.set()
        t.join()
        self.assertEqual(errors, [])
        self.assertGreater(len(seen), 0)
        self.assertEqual(sorted(os.listdir(self.root)), [".ox", "run.json"])  # no temporary files left

    def test_a_failed_replace_keeps_the_old_file_and_leaves_no_temporary(self):
        path = os.path.join(self.root, "run.json")
        ox._write_json_atomic(path, {"n": 1})
        with mock.patch.object(os, "replace", side_effect=OSError("disk on fire")):
            with self.assertRaises(OSError):
                ox._write_json_atomic(path, {"n": 2})
        with open(path) as f:
            self.assertEqual(json.load(f), {"n": 1})
        self.assertEqual(sorted(os.listdir(self.root)), [".ox", "run.json"])


class ContextManagerTest(ProjectTestCase):
    def test_success_completes(self):
        with ox.init(config={"a": 1}) as run:
            run.log({"loss": 1.0})
        record = self.read_run(run.id)
        self.assertEqual((record["status"], record["exit_code"]), ("completed", 0))
        self.assertEqual(len(self.read_metrics(run.id)), 1)

    def test_exception_fails_and_propagates(self):
        with self.assertRaises(ZeroDivisionError):
            with ox.init() as run:
                run.log({"loss": 1.0})
                raise ZeroDivisionError
        record = self.read_run(run.id)
        self.assertEqual((record["status"], record["exit_code"]), ("failed", 1))
        self.assertEqual(len(self.read_metrics(run.id)), 1)  # flushed on the way out

    def test_keyboard_interrupt_kills(self):
        with self.assertRaises(KeyboardInterrupt):
            with ox.init() as run:
                raise KeyboardInterrupt
        record = self.read_run(run.id)
        self.assertEqual((record["status"], record["exit_code"]), ("killed", 130))

    def test_system_exit_keeps_its_code(self):
        for code, expected in ((0, ("completed", 0)), (None, ("completed", 0)), (3, ("failed", 3)),
                               ("message", ("failed", 1))):
            with self.assertRaises(SystemExit):
                with ox.init() as run:
                    sys.exit(code)
            record = self.read_run(run.id)
            self.assertEqual((record["status"], record["exit_code"]), expected, code)


class FlushTimingTest(ProjectTestCase):
    def test_lines_wait_in_memory_then_reach_disk_within_a_second(self):
        run = ox.init()
        self.addCleanup(run.finish)
        path = run.metrics_path
        run._writer.flush()  # start a fresh interval
        run.log({"loss": 1.0})
        self.assertEqual(os.path.getsize(path), 0, "a line was written at once: not buffered")
        logged = time.monotonic()
        while os.path.getsize(path) == 0:
            self.assertLess(time.monotonic() - logged, 1.5, "the line stayed in memory for well over a second")
            time.sleep(0.02)

    def test_logging_flushes_when_the_last_write_is_over_a_second_old(self):
        run = ox.init()
        self.addCleanup(run.finish)
        run._writer._closed.set()  # stop the background thread: only log() may flush now
        time.sleep(0.05)
        run._writer._last_flush -= 2.0
        run.log({"loss": 1.0})
        self.assertGreater(os.path.getsize(run.metrics_path), 0)
        run.log({"loss": 2.0})  # within the second: stays buffered
        self.assertEqual(len(self.read_metrics(path=run.metrics_path)), 1)
        run.flush()
        self.assertEqual(len(self.read_metrics(path=run.metrics_path)), 2)

    def test_an_idle_standalone_run_touches_its_metrics_file_as_a_heartbeat(self):
        writer = ox._MetricsWriter(os.path.join(self.root, "m.jsonl"), interval_s=0.1, heartbeat_s=0.2)
        self.addCleanup(writer.close)
        os.utime(writer.path, (1000, 1000))
        deadline = time.monotonic() + 5
        while os.path.getmtime(writer.path) == 1000:
            self.assertLess(time.monotonic(), deadline, "no heartbeat within 5 s")
            time.sleep(0.05)
        self.assertEqual(os.path.getsize(writer.path), 0)
        run = ox.init()
        run.finish()
        self.assertEqual(run._writer.heartbeat_s, ox.HEARTBEAT_INTERVAL_S)


class ProcessLifecycleTest(ProjectTestCase):
    """Whole scripts in subprocesses: exit paths without `with`, signals, durability."""

    def test_sigkill_loses_at_most_the_last_second(self):
        proc = self.start_script("""
            import time, ox
            run = ox.init(config={"lr": 0.1})
            for i in range(3):
                run.log({"loss": 1.0 / (i + 1)})
            print("logged", flush=True)
            time.sleep(60)
        """)
        wait_for_line(proc.stdout, "logged")
        time.sleep(1.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        run_id = self.only_run()
        self.assertEqual([line["loss"] for line in self.read_metrics(run_id)], [1.0, 0.5, 1.0 / 3])
        record = self.read_run(run_id)
        self.assertEqual(record["status"], "running")  # the catalog turns this into crashed
        self.assertEqual(record["pid"], proc.pid)

    def test_normal_end_without_with_completes_and_flushes_at_exit(self):
        code, out, err = self.run_script("""
            import ox
            run = ox.init()
            for i in range(5):
                run.log({"loss": float(i)})
        """)
        self.assertEqual(code, 0, err)
        run_id = self.only_run()
        record = self.read_run(run_id)
        self.assertEqual((record["status"], record["exit_code"]), ("completed", 0))
        self.assertEqual(len(self.read_metrics(run_id)), 5)

    def test_uncaught_exception_without_with_fails(self):
        code, out, err = self.run_script("""
            import ox
            run = ox.init()
            run.log({"loss": 1.0})
            raise ValueError("boom")
        """)
        self.assertEqual(code, 1)
        self.assertIn("ValueError: boom", err)
        run_id = self.only_run()
        record = self.read_run(run_id)
        self.assertEqual((record["status"], record["exit_code"]), ("failed", 1))
        self.assertEqual(len(self.read_metrics(run_id)), 1)

    def test_keyboard_interrupt_without_with_kills(self):
        code, out, err = self.run_script("""
            import ox
            run = ox.init()
            raise KeyboardInterrupt
        """)
        self.assertNotEqual(code, 0)
        record = self.read_run(self.only_run())
        self.assertEqual(record["status"], "killed")

    def test_sigterm_marks_killed_flushes_and_exits_143(self):
        for use_with in (False, True):
            with self.subTest(use_with=use_with):
                for run_id in self.run_ids():
                    os.rename(os.path.join(self.ox_dir, "runs", run_id), os.path.join(self.root, run_id))
                proc = self.start_script(f"""
                    import time, ox
                    def work(run):
                        run.log({{"loss": 1.0}})
                        print("ready", flush=True)
                        time.sleep(60)
                    if {use_with}:
                        with ox.init() as run:
                            work(run)
                    else:
                        work(ox.init())
                """)
                wait_for_line(proc.stdout, "ready")
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=10), 143)
                run_id = self.only_run()
                record = self.read_run(run_id)
                self.assertEqual((record["status"], record["exit_code"]), ("killed", 143))
                self.assertEqual(len(self.read_metrics(run_id)), 1)

    def test_a_sigterm_handler_of_the_script_is_left_alone(self):
        proc = self.start_script("""
            import signal, sys, time
            signal.signal(signal.SIGTERM, lambda *a: sys.exit(7))
            import ox
            run = ox.init()
            print("ready", flush=True)
            time.sleep(60)
        """)
        wait_for_line(proc.stdout, "ready")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=10), 7)
        # The script's handler ran (status 7, not ox's 143). Its sys.exit(7) outside a `with`
        # block cannot be seen at exit (documented), so only a final status is checked.
        record = self.read_run(self.only_run())
        self.assertIn(record["status"], ("completed", "failed"))

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_a_forked_child_neither_ends_the_run_nor_repeats_its_lines(self):
        code, out, err = self.run_script("""
            import os, ox
            run = ox.init()
            run.log({"parent": 1.0})
            pid = os.fork()
            if pid == 0:
                run.log({"child": 2.0})
                run.finish()
                os._exit(0)
            os.waitpid(pid, 0)
            with open("status.txt", "w") as f:
                f.write(open(run.run_json_path).read())
            run.finish()
        """)
        self.assertEqual(code, 0, err)
        with open(os.path.join(self.root, "status.txt")) as f:
            self.assertEqual(json.load(f)["status"], "running")
        run_id = self.only_run()
        lines = self.read_metrics(run_id)
        self.assertEqual(sorted(k for line in lines for k in line if k not in ("type", "step", "time")),
                         ["child", "parent"])
        self.assertEqual(self.read_run(run_id)["status"], "completed")


class AttachedModeTest(ProjectTestCase):
    def attach_env(self, params=None):
        metrics = os.path.join(self.ox_dir, "metrics", "01attached_metrics.jsonl")
        os.environ.update({
            "OX_DIR": self.ox_dir,
            "OX_RUN_ID": "01attached",
            "OX_METRICS_FILE": metrics,
            "OX_STUDY": "sweep-study",
            "OX_RUN_NAME": "lr-0.1",
        })
        if params is not None:
            os.environ["OX_PARAMS"] = json.dumps(params)
        return metrics

    def test_appends_to_the_supervisors_files_and_never_writes_run_json(self):
        metrics = self.attach_env({"lr": 0.1, "model": {"layers": 12}})
        with ox.init(config={"lr": 0.001, "seed": 1, "model": {"dim": 64}}) as run:
            self.assertTrue(run.attached)
            self.assertEqual((run.id, run.study, run.name), ("01attached", "sweep-study", "lr-0.1"))
            # -p values override the script's defaults; nested keys merge.
            expected = {"lr": 0.1, "seed": 1, "model": {"dim": 64, "layers": 12}}
            self.assertEqual(run.config, expected)
            self.assertEqual(run.params["lr"], 0.1)
            self.assertIsNone(run._writer.heartbeat_s)  # the supervisor's samples are the heartbeat
            run.log({"loss": 0.5}, step=1)
        self.assertEqual(self.run_ids(), [])
        lines = self.read_metrics(path=metrics)
        self.assertEqual(lines[0], {"type": "params", "params": expected})
        self.assertEqual((lines[1]["type"], lines[1]["step"], lines[1]["loss"]), ("metrics", 1, 0.5))

    def test_appends_after_existing_lines_and_skips_an_empty_config(self):
        metrics = self.attach_env()
        with open(metrics, "w") as f:
            f.write('{"type": "metrics", "step": 0, "loss": 9}\n')
        with ox.init() as run:
            self.assertEqual(run.config, {})
            run.log({"loss": 1.0})
        lines = self.read_metrics(path=metrics)
        self.assertEqual([line["loss"] for line in lines], [9, 1.0])

    def test_an_exception_only_flushes(self):
        metrics = self.attach_env()
        with self.assertRaises(RuntimeError):
            with ox.init() as run:
                run.log({"loss": 1.0})
                raise RuntimeError("x")
        self.assertEqual(len(self.read_metrics(path=metrics)), 1)
        self.assertEqual(self.run_ids(), [])

    def test_study_name_and_tags_given_to_init_are_ignored_with_a_warning(self):
        self.attach_env()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = ox.init(study="other", tags=["t"])
        run.finish()
        self.assertEqual(run.study, "sweep-study")
        self.assertEqual(len(caught), 1)
        self.assertIn("study, tags", str(caught[0].message))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ox.init(study="sweep-study").finish()
        self.assertEqual(caught, [])

    def test_attached_script_killed_by_sigterm_keeps_its_lines(self):
        metrics = os.path.join(self.ox_dir, "metrics", "01attached_metrics.jsonl")
        proc = self.start_script("""
            import time, ox
            run = ox.init()
            run.log({"loss": 1.0})
            print("ready", flush=True)
            time.sleep(60)
        """, env={"OX_RUN_ID": "01attached", "OX_METRICS_FILE": metrics, "OX_DIR": self.ox_dir})
        wait_for_line(proc.stdout, "ready")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=10), 143)
        self.assertEqual(len(self.read_metrics(path=metrics)), 1)
        self.assertEqual(self.run_ids(), [])


class ExperimentTrackerTest(ProjectTestCase):
    def test_log_experiment_records_a_completed_run(self):
        tracker = ox.ExperimentTracker(study="results")
        run_id = tracker.log_experiment(
            {"method": "sparse", "lr": 3e-4},
            {"final_ppl": 12.5, "mrr": 0.4, "hit": {"at1": 0.3}, "notes": "ok", "curve": [1, 2]},
            {"gpu_hours": 3, "dataset": "wiki"},
        )
        self.assertEqual(self.run_ids(), [run_id])
        record = self.read_run(run_id)
        self.assertEqual((record["status"], record["exit_code"], record["study"]), ("completed", 0, "results"))
        self.assertEqual(record["params"], {"method": "sparse", "lr": 3e-4})
        self.assertEqual(record["metadata"], {"gpu_hours": 3, "dataset": "wiki"})
        self.assertEqual(record["results"], {"notes": "ok", "curve": [1, 2]})
        [line] = self.read_metrics(run_id)
        self.assertEqual(line["step"], 0)
        self.assertEqual({k: line[k] for k in ("final_ppl", "mrr", "hit/at1")},
                         {"final_ppl": 12.5, "mrr": 0.4, "hit/at1": 0.3})

    def test_each_call_is_its_own_run_even_under_ox_run(self):
        os.environ.update({"OX_RUN_ID": "01x", "OX_METRICS_FILE": os.path.join(self.root, "m.jsonl")})
        tracker = ox.ExperimentTracker()
        ids = [tracker.log_experiment({"seed": s}, {"acc": 0.5 + s / 10}) for s in range(3)]
        self.assertEqual(self.run_ids(), sorted(ids))
        self.assertEqual(len(set(ids)), 3)
        self.assertNotIn("metadata", self.read_run(ids[0]))
        self.assertEqual(self.read_run(ids[0])["study"], "default")


if __name__ == "__main__":
    unittest.main()
