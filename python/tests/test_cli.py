"""End to end through the real `ox` binary (env OX_BIN): the client's files as the
catalog reads them (`ox ls`, `ox show`) and attaching under `ox run`.

Skipped entirely without OX_BIN. Parts needing a command the binary does not have yet
(`ox ls`/`ox show`, `ox run`) are skipped with a message saying which command is missing."""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

from support import ProjectTestCase, clean_env, wait_for_line

OX_BIN = os.environ.get("OX_BIN")


@unittest.skipUnless(OX_BIN, "set OX_BIN to the ox binary to run the end-to-end tests")
class EndToEndTest(ProjectTestCase):
    def setUp(self):
        super().setUp()
        # Start from a directory that `ox init` turns into a project (not a hand-made .ox).
        os.rmdir(os.path.join(self.ox_dir, "runs"))
        os.rmdir(os.path.join(self.ox_dir, "metrics"))
        os.rmdir(self.ox_dir)
        result = self.ox("init")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(os.path.isdir(self.ox_dir))

    def ox(self, *args, timeout=60):
        return subprocess.run([OX_BIN, *args], cwd=self.root, env=clean_env(), capture_output=True,
                              text=True, timeout=timeout, check=False)

    def require(self, command):
        """Skips the current (sub)test when the binary has no `ox <command>` yet."""
        result = self.ox(command, "--help")
        if result.returncode != 0:
            self.skipTest(f"`ox {command}` is not available in this build yet "
                          f"(`ox {command} --help` exited {result.returncode})")

    def show(self, run_id):
        result = self.ox("show", run_id, "--format", "json")
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def test_a_standalone_run_is_listed_and_shown(self):
        code, out, err = self.run_script("""
            import ox
            with ox.init(study="e2e", name="first", config={"lr": 0.1, "model": {"layers": 2}},
                         tags=["smoke"]) as run:
                for step, loss in enumerate([1.0, 0.5, 0.25]):
                    run.log({"loss": loss, "train": {"acc": step / 4}}, step=step)
                print(run.id)
        """)
        self.assertEqual(code, 0, err)
        run_id = out.strip()
        self.require("ls")
        with self.subTest("show"):
            self.require("show")
            shown = self.show(run_id)
            self.assertEqual((shown["id"], shown["name"], shown["study"], shown["status"]),
                             (run_id, "first", "e2e", "completed"))
            self.assertEqual(shown["params"], {"lr": 0.1, "model": {"layers": 2}})
            self.assertEqual(shown["tags"], ["smoke"])
            loss = shown["metrics"]["loss"]
            self.assertEqual((loss["first"], loss["last"], loss["min"], loss["count"], loss["last_step"]),
                             (1.0, 0.25, 0.25, 3, 2))
            self.assertEqual(shown["metrics"]["train/acc"]["last"], 0.5)
            self.assertGreaterEqual(shown["duration_s"], 0.0)
        with self.subTest("ls"):
            listed = self.ox("ls", "--format", "json")
            self.assertEqual(listed.returncode, 0, listed.stderr)
            rows = json.loads(listed.stdout)
            self.assertEqual([r["id"] for r in rows], [run_id])
            self.assertEqual(rows[0]["metrics"]["loss"]["last"], 0.25)

    def test_a_resumed_finished_run_shows_its_new_metrics_in_the_next_ls(self):
        self.require("ls")
        code, out, err = self.run_script("""
            import ox
            with ox.init(study="e2e", name="train", config={"lr": 0.1}) as run:
                for loss in [1.0, 0.5]:
                    run.log({"loss": loss})
                print(run.id)
        """)
        self.assertEqual(code, 0, err)
        run_id = out.strip()
        # The catalog now holds the run as finished.
        self.assertEqual(self.ox("ls").returncode, 0)
        code, out, err = self.run_script(f"""
            import ox
            with ox.init(resume={run_id[:12]!r}, config={{"eval_set": "gsm8k"}}) as run:
                assert (run.id, run.name, run.study) == ({run_id!r}, "train", "e2e"), run
                run.log({{"eval/acc": 0.75}})
        """)
        self.assertEqual(code, 0, err)
        listed = self.ox("ls", "--format", "json")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        rows = json.loads(listed.stdout)
        self.assertEqual([r["id"] for r in rows], [run_id])
        self.assertEqual(rows[0]["status"], "completed")
        self.assertEqual(rows[0]["params"], {"lr": 0.1, "eval_set": "gsm8k"})
        self.assertEqual(rows[0]["metrics"]["eval/acc"]["last"], 0.75)
        self.assertEqual(rows[0]["metrics"]["eval/acc"]["last_step"], 2)  # after training's 0, 1
        self.assertEqual(rows[0]["metrics"]["loss"]["count"], 2)
        record = self.read_run(run_id)
        self.assertEqual(record["resumed"][0]["previous"]["status"], "completed")
        code, out, err = self.run_script("""
            import ox
            try:
                ox.init(resume="zzzz")
            except ValueError as e:
                print(e)
        """)
        self.assertIn("no run 'zzzz' to resume", out)

    def test_ox_run_offers_the_bundled_client_without_shadowing_an_installed_one(self):
        self.require("run")
        script = os.path.join(self.root, "which.py")
        with open(script, "w") as f:
            f.write("import ox\n"
                    "print(ox.__file__, getattr(ox, 'INSTALLED', False))\n"
                    "if not getattr(ox, 'INSTALLED', False):\n"
                    "    with ox.init() as run:\n"
                    "        run.log({'x': 1.5})\n")
        env = clean_env()
        env.pop("PYTHONPATH")  # the client was never installed
        result = subprocess.run([OX_BIN, "run", "-n", "bundled", "--", sys.executable, script], cwd=self.root,
                                env=env, capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        path, installed = result.stdout.split()
        self.assertTrue(path.startswith(os.path.join(self.ox_dir, "python", "ox")), path)
        self.assertEqual(installed, "False")
        self.assertEqual(self.show("bundled")["metrics"]["x"]["last"], 1.5)
        # A client installed in the environment (here: the user site-packages, which comes
        # after PYTHONPATH on sys.path) wins over the bundled one.
        userbase = os.path.join(self.root, "userbase")
        site_dir = subprocess.run([sys.executable, "-m", "site", "--user-site"], env={**env, "PYTHONUSERBASE": userbase},
                                  capture_output=True, text=True, check=True).stdout.strip()
        os.makedirs(os.path.join(site_dir, "ox"))
        with open(os.path.join(site_dir, "ox", "__init__.py"), "w") as f:
            f.write("INSTALLED = True\n")
        result = subprocess.run([OX_BIN, "run", "--", sys.executable, script], cwd=self.root,
                                env={**env, "PYTHONUSERBASE": userbase}, capture_output=True, text=True,
                                timeout=60, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        path, installed = result.stdout.split()
        self.assertEqual((path, installed), (os.path.join(site_dir, "ox", "__init__.py"), "True"))

    def test_a_killed_standalone_run_is_reported_crashed(self):
        self.require("show")
        proc = self.start_script("""
            import time, ox
            run = ox.init(name="doomed")
            run.log({"loss": 2.0})
            print(run.id, flush=True)
            print("ready", flush=True)
            time.sleep(60)
        """)
        run_id = proc.stdout.readline().strip()
        wait_for_line(proc.stdout, "ready")
        time.sleep(1.2)
        running = self.show(run_id)
        self.assertEqual(running["status"], "running")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        shown = self.show(run_id)
        self.assertEqual(shown["status"], "crashed")
        self.assertEqual(shown["metrics"]["loss"]["last"], 2.0)

    def test_a_script_under_ox_run_attaches_and_reads_its_params(self):
        self.require("run")
        script = self.write_script("""
            import json, ox
            with ox.init(config={"lr": 0.001, "seed": 0}) as run:
                for step in range(3):
                    run.log({"loss": 1.0 / (step + 1)})
                with open("attached.json", "w") as f:
                    json.dump({"id": run.id, "attached": run.attached, "config": run.config}, f)
        """)
        result = self.ox("run", "-s", "sweep", "-n", "lr-0.1", "-p", "lr=0.1", "--", sys.executable, script)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(self.root, "attached.json")) as f:
            seen = json.load(f)
        self.assertTrue(seen["attached"])
        self.assertEqual(seen["config"], {"lr": 0.1, "seed": 0})
        run_id = seen["id"]
        self.assertEqual(self.run_ids(), [run_id])  # the client made no run of its own
        lines = self.read_metrics(run_id)
        self.assertEqual(lines[0], {"type": "params", "params": {"lr": 0.1, "seed": 0}})
        self.assertEqual([line["loss"] for line in lines[1:]], [1.0, 0.5, 1.0 / 3])
        record = self.read_run(run_id)
        self.assertEqual((record["status"], record["study"], record["name"]), ("completed", "sweep", "lr-0.1"))
        with self.subTest("show"):
            self.require("show")
            shown = self.show(run_id)
            self.assertEqual(shown["params"], {"lr": 0.1, "seed": 0})
            self.assertEqual(shown["metrics"]["loss"]["count"], 3)

    def test_a_failing_script_under_ox_run_is_failed(self):
        self.require("run")
        script = self.write_script("""
            import ox
            run = ox.init()
            run.log({"loss": 1.0})
            raise RuntimeError("diverged")
        """)
        result = self.ox("run", "--", sys.executable, script)
        self.assertEqual(result.returncode, 1, result.stderr)
        [run_id] = self.run_ids()
        self.assertEqual(self.read_run(run_id)["status"], "failed")
        self.assertEqual(len(self.read_metrics(run_id)), 1)


if __name__ == "__main__":
    unittest.main()
