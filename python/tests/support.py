"""Shared helpers for the client's tests: temporary projects, a clean environment, and
running small scripts in a subprocess with the package on PYTHONPATH."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
from unittest import mock

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PACKAGE_ROOT not in sys.path:
    sys.path.insert(0, PACKAGE_ROOT)

OX_ENV = ("OX_DIR", "OX_RUN_ID", "OX_METRICS_FILE", "OX_STUDY", "OX_RUN_NAME", "OX_PARAMS")


def clean_env(extra=None):
    """os.environ without any OX_* variable (the suite may itself run under `ox run`),
    with PYTHONPATH pointing at this checkout's client, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in OX_ENV}
    env["PYTHONPATH"] = PACKAGE_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


class ProjectTestCase(unittest.TestCase):
    """A temporary directory holding ``.ox/`` (as ``ox init`` makes it), used as the cwd,
    with every OX_* variable removed from the environment."""

    def setUp(self):
        self.root = os.path.realpath(tempfile.mkdtemp(prefix="ox-py-test-"))
        self.addCleanup(shutil.rmtree, self.root, True)
        self.ox_dir = os.path.join(self.root, ".ox")
        os.makedirs(os.path.join(self.ox_dir, "runs"))
        os.makedirs(os.path.join(self.ox_dir, "metrics"))
        old_cwd = os.getcwd()
        os.chdir(self.root)
        self.addCleanup(os.chdir, old_cwd)
        patcher = mock.patch.dict(os.environ)
        patcher.start()
        self.addCleanup(patcher.stop)
        for key in OX_ENV:
            os.environ.pop(key, None)

    def run_ids(self):
        return sorted(os.listdir(os.path.join(self.ox_dir, "runs")))

    def read_run(self, run_id):
        with open(os.path.join(self.ox_dir, "runs", run_id, "run.json")) as f:
            return json.load(f)

    def read_metrics(self, run_id=None, path=None):
        path = path or os.path.join(self.ox_dir, "metrics", f"{run_id}_metrics.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def write_script(self, body, name="script.py"):
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(body))
        return path

    def start_script(self, body, env=None, name="script.py", **kwargs):
        """Starts ``body`` (dedented) as a Python script in the project directory."""
        path = self.write_script(body, name=name)
        proc = subprocess.Popen(
            [sys.executable, path],
            cwd=self.root,
            env=clean_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kwargs,
        )
        self.addCleanup(self._reap, proc)
        return proc

    @staticmethod
    def _reap(proc):
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

    def run_script(self, body, env=None, timeout=20):
        proc = self.start_script(body, env=env)
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err

    def only_run(self):
        ids = self.run_ids()
        self.assertEqual(len(ids), 1, f"expected one run, found {ids}")
        return ids[0]


def wait_for_line(stream, expected, timeout=10.0):
    """Reads lines from ``stream`` until one equals ``expected``; fails on EOF or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            raise AssertionError(f"script ended before printing {expected!r}")
        if line.strip() == expected:
            return
    raise AssertionError(f"timed out waiting for {expected!r}")
