"""ox: a zero-dependency Python client for the ox experiment tracker.

Log a training script's config and metrics into the nearest ``.ox/`` project::

    import ox

    with ox.init(study="mnist", config={"lr": 0.1, "seed": 1}, tags=["baseline"]) as run:
        lr = run.config["lr"]              # under `ox run -p lr=0.3`, this is 0.3
        for step in range(100):
            run.log({"loss": 0.5, "train": {"acc": 0.9}}, step=step)  # train/acc

Two modes, chosen automatically:

* **Attached** (the script runs under ``ox run`` / ``ox sweep``, which set ``OX_RUN_ID`` and
  ``OX_METRICS_FILE``): metrics are appended to that run's metrics file and ``config`` is
  declared as a ``{"type": "params", ...}`` line. The supervisor owns ``run.json`` (status,
  exit code), so this client never writes it. Params given with ``ox run -p KEY=VALUE``
  (``OX_PARAMS``) override the same keys of ``config``: ``config`` holds the script's defaults,
  as with W&B sweeps. ``study``/``name``/``tags`` given to :func:`init` are ignored there
  (pass ``-s``/``-n``/``-t`` to ``ox run``) and a warning says so.
* **Standalone**: the client finds ``.ox/`` like git finds ``.git`` (walking up from the
  current directory; ``OX_DIR`` overrides) and creates its own run: ``runs/<id>/run.json``
  (replaced atomically on every change) and ``metrics/<id>_metrics.jsonl``.
* **Resumed** (``ox.init(resume=RUN_ID)``): an existing run is reopened to log more, e.g. an
  evaluation after training (like W&B's ``resume`` or MLflow's ``start_run(run_id=...)``).
  Its run.json says ``running`` until the run finishes again (the previous status, end and
  exit code are kept under ``resumed``), steps continue after its last one, and the empty
  file ``.ox/reopened/<id>`` tells ox to look at the run's files again, so the next
  ``ox ls`` shows the new metrics.

Metric lines are buffered in memory and written at least once a second by a background
thread, on :meth:`Run.finish` and at interpreter exit, so a killed process loses at most
the last second. A run ends ``completed`` when its ``with`` block (or the script) ends
normally, ``failed`` on an uncaught exception, ``killed`` on ``KeyboardInterrupt`` or
``SIGTERM`` (the client then exits with status 143; it installs its SIGTERM handler only
when the script has none of its own, and only from the main thread).

Metric values must be numbers: ``int``, ``float``, anything with a numeric ``.item()``
(NumPy scalars, one-element tensors) or other ``numbers.Real``. Booleans are written as
``1``/``0``. Anything else raises ``TypeError``. ``NaN`` and infinities are written as the
tokens ``NaN``/``Infinity`` (which ox reads). Nested dicts are flattened with ``/``.

A run ended with ``sys.exit(n)`` outside a ``with`` block cannot be told apart from a normal
end at exit time (Python does not expose the exit code to ``atexit``); use ``with`` or
``run.finish(exit_code=n)`` when the exit code matters.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import json
import numbers
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings

__all__ = [
    "Config",
    "ExperimentTracker",
    "NoProjectError",
    "Run",
    "find_ox_dir",
    "finish",
    "init",
    "log",
    "new_run_id",
]

__version__ = "0.1.0"

#: Seconds between flushes of buffered metric lines (the most a killed process loses).
FLUSH_INTERVAL_S = 1.0
#: Seconds of silence after which a standalone run touches its metrics file: the file's
#: mtime is the heartbeat by which ox tells a live run on another host from a crashed one.
HEARTBEAT_INTERVAL_S = 60.0

_RESERVED_KEYS = frozenset({"type", "step", "time"})
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_MAX_EXACT_INT = 2**53
# Metric names whose JSON prefix log() keeps (a bound against names made up per step).
_MAX_CACHED_NAMES = 10_000


class NoProjectError(RuntimeError):
    """No ``.ox`` directory was found (run ``ox init`` in the project's root first)."""


# --------------------------------------------------------------------------------------
# Small helpers: ids, timestamps, project discovery, atomic files, provenance
# --------------------------------------------------------------------------------------

_id_lock = threading.Lock()
_last_id = (-1, 0)  # (ms, random) of the last id, to keep ids monotonic within a millisecond


def new_run_id(now: float | None = None) -> str:
    """A new lowercase ULID: 48-bit milliseconds then 80 random bits, Crockford base32.

    Ids sort by creation time; two ids made in the same millisecond by this process still
    sort in creation order (the random part is incremented, as the ULID spec suggests).
    """
    global _last_id
    ms = int((time.time() if now is None else now) * 1000) & ((1 << 48) - 1)
    with _id_lock:
        last_ms, last_rand = _last_id
        if ms == last_ms and last_rand < (1 << 80) - 1:
            rand = last_rand + 1
        else:
            rand = int.from_bytes(secrets.token_bytes(10), "big")
        _last_id = (ms, rand)
    value = (ms << 80) | rand
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _rfc3339(t: float) -> str:
    """``2026-11-23T10:00:00.123456Z`` for a Unix time."""
    d = _dt.datetime.fromtimestamp(t, tz=_dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def find_ox_dir(start: str | None = None) -> str:
    """The absolute ``.ox`` directory: ``OX_DIR`` when set, else the first ``.ox`` in
    ``start`` (default: the current directory) or one of its parents.

    Raises :class:`NoProjectError` when there is none.
    """
    env = os.environ.get("OX_DIR")
    if env:
        path = os.path.abspath(env)
        if not os.path.isdir(path):
            raise NoProjectError(f"OX_DIR={env!r} is not a directory (run `ox init` to create a project)")
        return path
    cur = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(cur, ".ox")
        if os.path.isdir(candidate):
            return candidate
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
    raise NoProjectError(
        f"no ox project found in {os.path.abspath(start or os.getcwd())!r} or any parent directory; "
        "run `ox init` in your project's root (or set OX_DIR) first"
    )


def _resolve_run_id(ox_dir: str, reference: str) -> str:
    """The id of the run ``reference`` names in ``ox_dir``: a full id or a unique prefix."""
    runs = os.path.join(ox_dir, "runs")
    if reference and os.path.isfile(os.path.join(runs, reference, "run.json")):
        return reference
    try:
        names = os.listdir(runs)
    except FileNotFoundError:
        names = []
    found = sorted(n for n in names if reference and n.startswith(reference)
                   and os.path.isfile(os.path.join(runs, n, "run.json")))
    if len(found) == 1:
        return found[0]
    if not found:
        raise ValueError(f"ox: no run {reference!r} to resume in {ox_dir} (`ox ls` lists the runs)")
    raise ValueError(f"ox: {reference!r} matches {len(found)} runs ({', '.join(found[:5])}); give more of the id")


def _last_step(metrics_path: str) -> int:
    """The last step in a metrics file (-1 when it has none), read from its tail."""
    try:
        with open(metrics_path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 65536))
            tail = f.read()
    except FileNotFoundError:
        return -1
    for line in reversed(tail.splitlines()):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("type", "metrics") == "metrics" and isinstance(obj.get("step"), int):
            return obj["step"]
    return -1


def _json_dumps(obj) -> str:
    # default=str keeps odd config values (paths, enums) instead of failing the run.
    return json.dumps(obj, default=str)


def _write_json_atomic(path: str, obj) -> None:
    """Replaces ``path`` with ``obj`` as JSON so readers see the old or the new file, never
    a torn one: write a temporary file beside it, flush, fsync, rename over."""
    directory = os.path.dirname(path)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    data = (json.dumps(obj, indent=2, default=str) + "\n").encode("utf-8")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable; best effort (not every filesystem allows it)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _git_info(cwd: str):
    """``{"commit", "branch", "dirty"}`` of the repository holding ``cwd``; None when git is
    missing, ``cwd`` is not in a repository, or anything else fails. ``dirty`` counts
    tracked files only (like ``git describe --dirty``), which keeps it fast in big trees."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if out.returncode != 0:
        return None
    commit = branch = None
    dirty = False
    for line in out.stdout.splitlines():
        if line.startswith("# branch.oid "):
            oid = line[len("# branch.oid "):].strip()
            commit = None if oid.startswith("(") else oid
        elif line.startswith("# branch.head "):
            head = line[len("# branch.head "):].strip()
            branch = None if head.startswith("(") else head
        elif line and not line.startswith("#"):
            dirty = True
    return {"commit": commit, "branch": branch, "dirty": dirty}


def _pid_start_ticks():
    """Field 22 of ``/proc/self/stat`` (process start time in clock ticks since boot): with
    the pid it identifies this process even after the pid is reused. None off Linux."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
        # comm (field 2) may hold spaces and parentheses: split after its closing ')'.
        rest = stat[stat.rindex(")") + 2:].split()
        return int(rest[22 - 3])
    except (OSError, ValueError, IndexError):
        return None


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _as_dict(config) -> dict:
    """Accepts a dict, an ``argparse.Namespace`` or anything with ``vars()``."""
    if config is None:
        return {}
    if isinstance(config, dict):
        return dict(config)
    try:
        return dict(vars(config))
    except TypeError:
        raise TypeError(f"config must be a dict (or an argparse.Namespace), not {type(config).__name__}") from None


def _number(key: str, value):
    """The JSON-ready number for a metric value, or TypeError."""
    if isinstance(value, dict):
        raise TypeError(f"metric {key!r} is a {type(value).__name__}; only plain dicts are flattened")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT else float(value)
    if isinstance(value, float):
        return value
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        try:
            inner = item()
        except Exception:  # e.g. a multi-element array: report it as a bad type below
            inner = None
        if isinstance(inner, (bool, int, float)):
            return _number(key, inner)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(
        f"metric {key!r} has a {type(value).__name__} value ({value!r:.60}); metric values must be "
        "numbers (put text into config=... or tags=... instead)"
    )


def _nonfinite(value: float) -> str:
    """The JSON token json.dumps writes for a non-finite float."""
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _flatten_metrics(metrics: dict, prefix: str, out: dict) -> None:
    for key, value in metrics.items():
        if not isinstance(key, str):
            raise TypeError(f"metric names must be strings, not {type(key).__name__} ({key!r})")
        name = f"{prefix}/{key}" if prefix else key
        if name in _RESERVED_KEYS:
            raise ValueError(f"{name!r} is reserved in metrics lines; pass step=... to log() instead")
        kind = type(value)
        if kind is float:  # the common case, checked first: log() is called in training loops
            out[name] = value
        elif kind is dict:
            _flatten_metrics(value, name, out)
        else:
            out[name] = _number(name, value)


class Config(dict):
    """The run's params as a dict that also allows attribute access (``run.config.lr``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None


# --------------------------------------------------------------------------------------
# Buffered metrics writer
# --------------------------------------------------------------------------------------


class _MetricsWriter:
    """Appends lines to a metrics file. Lines wait in memory and are written in one
    ``write`` to an ``O_APPEND`` descriptor (so concurrent writers never interleave inside a
    line) once a second has passed since the last write, by a daemon thread when the
    script is busy elsewhere, and on ``flush``/``close``. A failing write (disk full) is
    reported once on stderr and never raised into the training loop. With ``heartbeat_s``,
    the thread also touches the file after that many seconds without a write."""

    def __init__(self, path: str, interval_s: float = FLUSH_INTERVAL_S, heartbeat_s: float | None = None):
        self.path = path
        self.interval_s = interval_s
        self.heartbeat_s = heartbeat_s
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._buf: list = []
        # Re-entrant: the SIGTERM handler may run while the main thread is inside a flush.
        self._lock = threading.RLock()
        self._last_flush = time.monotonic()
        self._last_write = self._last_flush
        self._reported_error = False
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._flush_periodically, name="ox-metrics-flush", daemon=True)
        self._thread.start()

    def write_line(self, line: str) -> None:
        with self._lock:
            if self._fd is None:
                raise RuntimeError(f"metrics file {self.path} is closed")
            self._buf.append(line)
            if time.monotonic() - self._last_flush >= self.interval_s:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        self._last_flush = time.monotonic()
        if not self._buf or self._fd is None:
            return
        lines, self._buf = self._buf, []
        self._last_write = self._last_flush
        view = memoryview("".join(lines).encode("utf-8"))
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as e:
            if not self._reported_error:
                self._reported_error = True
                print(f"ox: cannot write metrics to {self.path}: {e}", file=sys.stderr)

    def _flush_periodically(self) -> None:
        # Waking twice per interval keeps a line in memory for at most about one interval,
        # even when the script never calls log() again.
        last_beat = time.monotonic()
        while not self._closed.wait(self.interval_s / 2):
            with self._lock:
                if self._buf and time.monotonic() - self._last_flush >= self.interval_s / 2:
                    self._flush_locked()
            now = time.monotonic()
            if self.heartbeat_s is not None and now - max(last_beat, self._last_write) >= self.heartbeat_s:
                last_beat = now
                try:
                    os.utime(self.path)
                except OSError:
                    pass

    def reset_after_fork(self) -> None:
        """In a forked child: new lock, no inherited lines (the parent writes those), and
        no background thread, so every line is written at once."""
        self._lock = threading.RLock()
        self._buf = []
        self.interval_s = 0.0
        self._closed.set()

    def close(self, sync: bool = True) -> None:
        self._closed.set()
        with self._lock:
            if self._fd is None:
                return
            try:
                self._flush_locked()
                if sync:
                    os.fsync(self._fd)
            except OSError:
                pass
            finally:
                os.close(self._fd)
                self._fd = None


# --------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------

_active_runs: list["Run"] = []
_active_lock = threading.Lock()
_uncaught: list[BaseException] = []
_hooks_installed = False
_current: "Run | None" = None
_terminated_by_signal = False  # set by the SIGTERM handler: the SystemExit it raises means killed


class Run:
    """One tracked run. Create it with :func:`init`; log with :meth:`log`; end it with
    :meth:`finish` or by leaving its ``with`` block.

    Attributes: ``id``, ``name``, ``study``, ``tags``, ``config`` (also ``params``: the
    merged params), ``attached`` (True under ``ox run``), ``ox_dir`` (None when attached and
    ``OX_DIR`` is unset), ``metrics_path``, ``run_json_path`` (None when attached).
    """

    def __init__(self, study=None, name=None, config=None, tags=None, *, ox_dir=None,
                 resume=None, _force_standalone=False, _extra=None):
        config = _as_dict(config)
        tags = [str(t) for t in (tags or [])]
        env = os.environ
        self.attached = bool(env.get("OX_RUN_ID") and env.get("OX_METRICS_FILE")) and not _force_standalone
        if resume is not None:
            self.attached = False
        self._finished = False
        self._owner_pid = os.getpid()  # only this process may end the run
        self._finish_lock = threading.Lock()
        self._step = -1
        self._step_lock = threading.Lock()
        self._encoded_names: dict = {}  # metric name -> its JSON '"name": ' prefix
        self.status = "running"

        if self.attached:
            self.id = env["OX_RUN_ID"]
            self.name = env.get("OX_RUN_NAME") or None
            self.study = env.get("OX_STUDY") or "default"
            self.tags = tags
            ignored = [k for k, given, have in (("study", study, self.study), ("name", name, self.name))
                       if given is not None and given != have]
            if tags:
                ignored.append("tags")
            if ignored:
                warnings.warn(
                    f"ox: attached to run {self.id} started by `ox run`; {', '.join(ignored)} given to "
                    "ox.init() are ignored (pass -s/-n/-t to `ox run` instead)",
                    stacklevel=3,
                )
            outer = {}
            raw = env.get("OX_PARAMS")
            if raw:
                try:
                    parsed = json.loads(raw)
                    if isinstance(parsed, dict):
                        outer = parsed
                except ValueError:
                    warnings.warn("ox: OX_PARAMS is not a JSON object; ignoring it", stacklevel=3)
            self.config = Config(_deep_merge(config, outer))
            self.ox_dir = os.path.abspath(env["OX_DIR"]) if env.get("OX_DIR") else None
            self.metrics_path = os.path.abspath(env["OX_METRICS_FILE"])
            self.run_json_path = None
            os.makedirs(os.path.dirname(self.metrics_path), exist_ok=True)
            self._writer = _MetricsWriter(self.metrics_path)
            if config:
                # Declare the merged params so run.json (merged by the supervisor) agrees
                # with what the script reads from run.config. Written at once: cheap, and
                # visible to `ox show` while the run is going.
                self._writer.write_line(_json_dumps({"type": "params", "params": dict(self.config)}) + "\n")
                self._writer.flush()
            self._record = None
        elif resume is not None:
            self._reopen(str(resume), config, ox_dir)
        else:
            self.ox_dir = os.path.abspath(ox_dir) if ox_dir else find_ox_dir()
            self.id = new_run_id()
            self.name = name
            self.study = study or "default"
            self.tags = tags
            self.config = Config(config)
            run_dir = os.path.join(self.ox_dir, "runs", self.id)
            metrics_dir = os.path.join(self.ox_dir, "metrics")
            os.makedirs(run_dir, exist_ok=True)
            os.makedirs(metrics_dir, exist_ok=True)
            self.run_json_path = os.path.join(run_dir, "run.json")
            self.metrics_path = os.path.join(metrics_dir, f"{self.id}_metrics.jsonl")
            now = _rfc3339(time.time())
            cwd = os.getcwd()
            self._record = {
                "id": self.id,
                "name": self.name,
                "study": self.study,
                "status": "running",
                "params": dict(self.config),
                "tags": self.tags,
                "created": now,
                "started": now,
                "ended": None,
                "exit_code": None,
                "command": [sys.executable] + list(sys.argv),
                "cwd": cwd,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "pid_start_ticks": _pid_start_ticks(),
                "git": _git_info(cwd),
                "sweep": None,
                "source": None,
                "artifacts": [],
            }
            if _extra:
                self._record.update(_extra)
            _write_json_atomic(self.run_json_path, self._record)
            # Attached runs need no heartbeat of ours: the supervisor writes system samples.
            self._writer = _MetricsWriter(self.metrics_path, heartbeat_s=HEARTBEAT_INTERVAL_S)
        self.params = self.config
        _register(self)

    def _reopen(self, reference: str, config: dict, ox_dir) -> None:
        """Reopens an existing run to log more (``ox.init(resume=RUN_ID)``): its run.json says
        ``running`` (with this process as its pid) until :meth:`finish`, new metric lines are
        appended after its last step, and ``.ox/reopened/<id>`` tells ox's catalog to look at
        this finished run's files again."""
        if os.environ.get("OX_RUN_ID"):
            warnings.warn(
                f"ox: resume={reference!r} logs to that run, not to the run {os.environ['OX_RUN_ID']} "
                "`ox run` started for this script",
                stacklevel=4,
            )
        self.ox_dir = os.path.abspath(ox_dir) if ox_dir else find_ox_dir()
        self.id = _resolve_run_id(self.ox_dir, reference)
        self.run_json_path = os.path.join(self.ox_dir, "runs", self.id, "run.json")
        self.metrics_path = os.path.join(self.ox_dir, "metrics", f"{self.id}_metrics.jsonl")
        with open(self.run_json_path, encoding="utf-8") as f:
            record = json.load(f)
        if not isinstance(record, dict):
            raise ValueError(f"{self.run_json_path} does not hold a run object")
        self.name = record.get("name")
        self.study = record.get("study") or "default"
        self.tags = list(record.get("tags") or [])
        self.config = Config(_deep_merge(record.get("params") or {}, config))
        self._step = _last_step(self.metrics_path)
        now = _rfc3339(time.time())
        previous = {k: record.get(k) for k in ("status", "ended", "exit_code")}
        record.setdefault("resumed", [])
        if isinstance(record["resumed"], list):
            record["resumed"].append({"at": now, "previous": previous})
        record.update(
            status="running",
            ended=None,
            exit_code=None,
            params=dict(self.config),
            host=socket.gethostname(),
            pid=os.getpid(),
            pid_start_ticks=_pid_start_ticks(),
        )
        self._record = record
        _write_json_atomic(self.run_json_path, record)
        marks = os.path.join(self.ox_dir, "reopened")
        os.makedirs(marks, exist_ok=True)
        with open(os.path.join(marks, self.id), "a", encoding="utf-8"):
            pass
        self._writer = _MetricsWriter(self.metrics_path, heartbeat_s=HEARTBEAT_INTERVAL_S)

    # -- logging ---------------------------------------------------------------------

    def log(self, metrics: dict, step: int | None = None) -> None:
        """Records metric values at ``step`` (default: one more than the previous step,
        starting at 0). Nested dicts are flattened with ``/``."""
        if not isinstance(metrics, dict):
            raise TypeError(f"log() takes a dict of metric values, not {type(metrics).__name__}")
        if self._finished:
            raise RuntimeError(f"run {self.id} is finished; call ox.init() for a new run")
        # Fast path: flat float/int values under names seen before. Each name's JSON
        # prefix is cached, and floats print as json.dumps prints them (float.__repr__,
        # NaN/Infinity tokens), so the line is the same as json.dumps(line) would write.
        fields = self._encoded_names
        parts = []
        try:
            for key, value in metrics.items():
                kind = type(value)
                if kind is float:
                    parts.append(fields[key] + (repr(value) if value - value == 0.0 else _nonfinite(value)))
                elif kind is int and -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT:
                    parts.append(fields[key] + repr(value))
                else:
                    raise KeyError(key)
        except KeyError:
            parts = self._encode_metrics(metrics)
        if step is not None:
            if isinstance(step, bool):
                raise TypeError("step must be an integer, not a bool")
            try:
                step = int(step.__index__())  # ints and NumPy integers, not floats
            except (AttributeError, TypeError):
                raise TypeError(f"step must be an integer, not {type(step).__name__} ({step!r})") from None
        # One lock around numbering and buffering keeps lines from several threads in step order.
        with self._step_lock:
            if step is None:
                step = self._step + 1
            self._step = step
            self._writer.write_line(f'{{"type": "metrics", "step": {step}, "time": {time.time()!r}, {", ".join(parts)}}}\n'
                                    if parts else
                                    f'{{"type": "metrics", "step": {step}, "time": {time.time()!r}}}\n')

    def _encode_metrics(self, metrics: dict) -> list:
        """The general path of :meth:`log`: validates and flattens ``metrics`` and returns
        its ``"name": value`` JSON fields, remembering each valid top-level name."""
        values: dict = {}
        _flatten_metrics(metrics, "", values)
        fields = self._encoded_names
        parts = []
        for name, value in values.items():
            prefix = fields.get(name)
            if prefix is None:
                prefix = json.dumps(name) + ": "
                if name in metrics and len(fields) < _MAX_CACHED_NAMES:
                    fields[name] = prefix
            parts.append(prefix + json.dumps(value))
        return parts

    def flush(self) -> None:
        """Writes buffered metric lines now."""
        self._writer.flush()

    # -- ending ----------------------------------------------------------------------

    def finish(self, status: str | None = None, exit_code: int | None = None) -> None:
        """Flushes metrics and ends the run: ``completed`` (exit code 0) unless ``status``
        or a non-zero ``exit_code`` says otherwise. Calling it again does nothing. Under
        ``ox run`` only the metrics are flushed: the supervisor records the status."""
        if status is None:
            status = "completed" if not exit_code else "failed"
        if status not in ("completed", "failed", "killed", "crashed"):
            raise ValueError(f"unknown final status {status!r}")
        with self._finish_lock:
            if self._finished:
                return
            self._finished = True
        if exit_code is None:
            exit_code = {"completed": 0, "killed": 143}.get(status, 1)
        if os.getpid() != self._owner_pid:
            # A forked child (a data-loader worker, say) ending: the run is the parent's.
            self._writer.flush()
            return
        self.status = status
        try:
            self._writer.close()
        finally:
            _unregister(self)
            if self._record is not None:
                self._record.update(status=status, ended=_rfc3339(time.time()), exit_code=exit_code)
                _write_json_atomic(self.run_json_path, self._record)

    @property
    def finished(self) -> bool:
        """Whether :meth:`finish` has been called."""
        return self._finished

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.finish()
        else:
            self.finish(*_status_for_exception(exc))
        return False

    def __repr__(self) -> str:
        mode = "attached" if self.attached else "standalone"
        return f"<ox.Run {self.id} study={self.study!r} name={self.name!r} {mode} {self.status}>"


def _status_for_exception(exc):
    """(status, exit_code) for a run ended by ``exc``."""
    if isinstance(exc, KeyboardInterrupt):
        return "killed", 130
    if isinstance(exc, SystemExit):
        if _terminated_by_signal:
            return "killed", 128 + signal.SIGTERM
        code = exc.code
        if code is None or code == 0:
            return "completed", 0
        return "failed", code if isinstance(code, int) and not isinstance(code, bool) else 1
    return "failed", 1


# --------------------------------------------------------------------------------------
# Process-wide hooks: uncaught exceptions, SIGTERM, interpreter exit
# --------------------------------------------------------------------------------------


def _register(run: Run) -> None:
    global _current
    with _active_lock:
        _active_runs.append(run)
        _current = run
    _install_hooks()


def _unregister(run: Run) -> None:
    with _active_lock:
        if run in _active_runs:
            _active_runs.remove(run)


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_finish_all_at_exit)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
    previous_hook = sys.excepthook

    def excepthook(exc_type, exc, tb):
        _uncaught.append(exc)
        # Mark runs before the traceback prints, so a hook that never returns still leaves
        # an honest status behind.
        _finish_all(*_status_for_exception(exc))
        previous_hook(exc_type, exc, tb)

    sys.excepthook = excepthook
    if threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                signal.signal(signal.SIGTERM, _on_sigterm)
        except (ValueError, OSError, AttributeError):
            pass


def _on_sigterm(signum, frame):
    # Only raise here: the SystemExit unwinds through `with` blocks (and releases any lock
    # the interrupted code held), then __exit__ or atexit records the run as killed.
    global _terminated_by_signal
    _terminated_by_signal = True
    # Back to the default, so a second SIGTERM during clean-up still ends the process.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.exit(128 + signal.SIGTERM)


def _after_fork_in_child() -> None:
    global _active_lock
    _active_lock = threading.Lock()
    for run in list(_active_runs):
        run._writer.reset_after_fork()
    _active_runs.clear()


def _finish_all(status=None, exit_code=None) -> None:
    with _active_lock:
        runs = list(_active_runs)
    for run in runs:
        try:
            run.finish(status, exit_code)
        except Exception as e:  # never let one run's I/O error hide another's status
            print(f"ox: cannot finish run {run.id}: {e}", file=sys.stderr)


def _finish_all_at_exit() -> None:
    if _terminated_by_signal:
        _finish_all("killed", 128 + signal.SIGTERM)
    elif _uncaught:
        _finish_all(*_status_for_exception(_uncaught[-1]))
    else:
        _finish_all()


# --------------------------------------------------------------------------------------
# Module-level API
# --------------------------------------------------------------------------------------


def init(study: str | None = None, name: str | None = None, config=None, tags=None, *,
         ox_dir: str | None = None, resume: str | None = None) -> Run:
    """Starts (or, under ``ox run``, attaches to) a run and returns it.

    ``config``: the run's params (a dict or an ``argparse.Namespace``); ``tags``: a list of
    strings; ``ox_dir``: the ``.ox`` directory to use instead of searching for one
    (standalone mode). ``resume``: the id (or a unique id prefix) of an existing run to log
    more to, e.g. an evaluation after training; its ``study``/``name``/``tags`` are kept,
    ``config`` is merged into its params, and steps continue after its last one. Raises
    :class:`NoProjectError` when no project is found, ``ValueError`` when ``resume`` names no
    run.
    """
    return Run(study=study, name=name, config=config, tags=tags, ox_dir=ox_dir, resume=resume)


def log(metrics: dict, step: int | None = None) -> None:
    """:meth:`Run.log` on the most recently started run."""
    if _current is None:
        raise RuntimeError("no run: call ox.init() first")
    _current.log(metrics, step=step)


def finish(status: str | None = None, exit_code: int | None = None) -> None:
    """:meth:`Run.finish` on the most recently started run."""
    if _current is not None:
        _current.finish(status, exit_code)


class ExperimentTracker:
    """Records finished experiments as completed runs (the ``results.track_experiments``
    API): ``ExperimentTracker().log_experiment(config, results, metadata)`` returns the new
    run's id. Each call creates its own run in the project, also under ``ox run``."""

    def __init__(self, study: str | None = None, tags=None, ox_dir: str | None = None):
        self.study = study
        self.tags = list(tags or [])
        self.ox_dir = ox_dir

    def log_experiment(self, config, results, metadata=None, name: str | None = None) -> str:
        """Creates a completed run with ``params = config``, numeric ``results`` as one
        metrics line at step 0 (nested dicts flattened with ``/``), non-numeric results in
        run.json's ``results`` field and ``metadata`` in its ``metadata`` field."""
        results = dict(results or {})
        flat: dict = {}
        _flatten_any(results, "", flat)
        numeric = {}
        other = {}
        for key, value in flat.items():
            try:
                if key in _RESERVED_KEYS:
                    raise TypeError
                numeric[key] = _number(key, value)
            except TypeError:
                other[key] = value
        extra = {}
        if other:
            extra["results"] = other
        if metadata is not None:
            extra["metadata"] = metadata
        if name is None and isinstance(metadata, dict) and isinstance(metadata.get("name"), str):
            name = metadata["name"]
        run = Run(study=self.study, name=name, config=config, tags=self.tags, ox_dir=self.ox_dir,
                  _force_standalone=True, _extra=extra)
        try:
            if numeric:
                run.log(numeric, step=0)
        except BaseException as e:
            run.finish(*_status_for_exception(e))
            raise
        run.finish()
        return run.id


def _flatten_any(d: dict, prefix: str, out: dict) -> None:
    for key, value in d.items():
        name = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, dict):
            _flatten_any(value, name, out)
        else:
            out[name] = value
