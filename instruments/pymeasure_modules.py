"""A PyMeasure driver module loaded without its maker's package.

`from pymeasure.instruments.agilent.agilent33500 import Agilent33500` first runs
`pymeasure/instruments/agilent/__init__.py`, which imports every Agilent driver PyMeasure
ships; one of them (the E4408B spectrum analyser) imports pandas, and the Keysight
package's does too. That is a quarter to half a second of every `rig run`'s start for
modules no station uses. The driver module itself needs none of its siblings (its
imports are absolute), so it is loaded from its file under its own dotted name: it is
the very module a later import of the package finds (`sys.modules`), so its classes
stay PyMeasure's own.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pymeasure.instruments


def pymeasure_module(name: str) -> ModuleType:
    """The module `name` (`pymeasure.instruments.MAKER.MODULE`), its package not run."""
    prefix = "pymeasure.instruments."
    if not name.startswith(prefix):
        raise ValueError(f"{name!r} is not a PyMeasure instrument module")
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    root = Path(pymeasure.instruments.__file__).parent
    path = root.joinpath(*name.removeprefix(prefix).split(".")).with_suffix(".py")
    spec = importlib.util.spec_from_file_location(name, path) if path.is_file() else None
    if spec is None or spec.loader is None:
        raise ImportError(f"no PyMeasure module {name} at {path}", name=name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
