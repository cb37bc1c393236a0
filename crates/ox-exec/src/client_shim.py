"""The ox Python client that ships in the ox binary, offered by `ox run` at the end of the
command's PYTHONPATH (written there as .ox/python/ox/ by ox; do not edit).

An `ox` installed in the environment (pip install ./python, a venv, site-packages) always
wins: when one exists later on sys.path, this package loads it in its place. Otherwise the
bundled client (_bundled.py beside this file) is this package."""

import importlib.machinery as _machinery
import importlib.util as _util
import os as _os
import sys as _sys

_mine = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
_after = []
_seen = False
for _entry in _sys.path:
    if _os.path.abspath(_entry or _os.getcwd()) == _mine:
        _seen = True
    elif _seen:
        _after.append(_entry)
_spec = _machinery.PathFinder.find_spec(__name__, _after)
if _spec is not None and _spec.loader is not None:
    _module = _util.module_from_spec(_spec)
    _sys.modules[__name__] = _module
    _spec.loader.exec_module(_module)
else:
    _path = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "_bundled.py")
    with open(_path, encoding="utf-8") as _f:
        _code = compile(_f.read(), _path, "exec")
    exec(_code)  # noqa: S102 - the client's own source, as shipped in the binary
    del _code, _f, _path
del _machinery, _util, _os, _sys, _mine, _after, _seen, _spec
