"""Dotted-path access to the tunable parameters of simlab's models.

The control channel, the station file (`simlab.set`) and `--set` on the command line all
name a parameter by a path such as `firmware.cell_ov.delay_s`. Parameters live in plain
dataclasses (nested dataclasses and dicts of them); this module walks them so every model
gets listing, typed get/set and "which paths exist?" errors without writing them by hand.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from typing import Any

Leaf = bool | int | float | str


def _children(node: Any) -> dict[str, Any] | None:
    """A node's named children; an object may present its own via `param_children()`."""
    custom = getattr(node, "param_children", None)
    if custom is not None:
        return custom()
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return {f.name: getattr(node, f.name) for f in dataclasses.fields(node)}
    if isinstance(node, dict):
        return {str(k): v for k, v in node.items()}
    return None


def flatten(node: Any, prefix: str = "") -> dict[str, Leaf]:
    """Every leaf parameter under `node`, keyed by its dotted path."""
    children = _children(node)
    if children is None:
        return {prefix: node}
    out: dict[str, Leaf] = {}
    for name, child in children.items():
        out.update(flatten(child, f"{prefix}.{name}" if prefix else name))
    return out


def coerce(path: str, old: Leaf, value: object) -> Leaf:
    """`value` converted to the type of `old`, or ValueError saying what was expected.

    An int is accepted where a float is expected (JSON writes 2.0 as 2), but a bool is
    never taken for a number: `true` for a delay is a mistake worth reporting.
    """
    if isinstance(old, bool):
        if isinstance(value, bool):
            return value
        raise ValueError(f"{path} expects true/false, got {value!r}")
    if isinstance(old, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"{path} expects an integer, got {value!r}")
    if isinstance(old, float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ValueError(f"{path} expects a number, got {value!r}")
    if isinstance(old, str):
        if isinstance(value, str):
            return value
        raise ValueError(f"{path} expects a string, got {value!r}")
    raise ValueError(f"{path} is not settable")


def _parent(root: Any, parts: list[str]) -> Any:
    node = root
    for name in parts[:-1]:
        children = _children(node)
        if children is None or name not in children:
            raise KeyError(name)
        node = children[name]
    return node


def get_path(root: Any, path: str) -> Leaf:
    """The leaf at `path` (relative to `root`); KeyError if there is none."""
    leaves = flatten(root)
    if path not in leaves:
        raise KeyError(path)
    return leaves[path]


def set_path(root: Any, path: str, value: object) -> Leaf:
    """Set the leaf at `path` to `value` (type-checked); return the old value.

    If `root` has a `validate()` method it is called afterwards, and a ValueError from it
    rolls the change back, so a rejected value never lingers in the model.
    """
    old = get_path(root, path)
    new = coerce(path, old, value)
    parts = path.split(".")
    parent = _parent(root, parts)
    _assign(parent, parts[-1], new)
    validate = getattr(root, "validate", None)
    if validate is not None:
        try:
            validate()
        except ValueError:
            _assign(parent, parts[-1], old)
            raise
    return old


def _assign(parent: Any, name: str, value: Leaf) -> None:
    if isinstance(parent, dict):
        parent[name] = value
    else:
        setattr(parent, name, value)


def program() -> str:
    """How the person reading a message runs simlab: `python -m simlab`, or the name a
    parent gives it (`rig sim`, set by the rig in SIMLAB_PROG), so a message points at a
    command the reader has."""
    return os.environ.get("SIMLAB_PROG") or "python -m simlab"


def unknown_path(path: str, valid: list[str]) -> KeyError:
    """A KeyError naming what could have been meant: every valid path when there are few,
    else the likeliest ones (the full list is `python -m simlab params`)."""
    if len(valid) <= 12:
        return KeyError(f"unknown parameter {path!r}; valid paths: {', '.join(sorted(valid))}")
    near = difflib.get_close_matches(path, valid, n=3, cutoff=0.8)
    hint = f"; did you mean {' or '.join(near)}?" if near else ""
    return KeyError(
        f"unknown parameter {path!r}{hint} ({len(valid)} valid paths; "
        f"`{program()} params` lists them)"
    )


def nest(flat: dict[str, Leaf]) -> dict[str, Any]:
    """{"a.b": 1} → {"a": {"b": 1}}: the parameter tree as plain JSON-able dicts."""
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        *parents, leaf = path.split(".")
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = value
    return out


# Units, by the suffix a parameter's name carries, or by name where it carries none.
UNIT_SUFFIXES = {
    "_v": "V",
    "_s": "s",
    "_a": "A",
    "_ah": "Ah",
    "_ohm": "Ω",
    "_c": "°C",
    "_hz": "Hz",
    "_w": "W",
    "_pct": "%",
    "_bytes": "bytes",
}
UNITS_BY_NAME = {
    "initial_soc": "fraction (0..1)",
    "current_gain": "ratio (measured / true)",
    "soc_spread": "σ, fraction of capacity",
    "capacity_spread": "relative σ",
    "r_spread": "relative σ",
    "current_sign": "+1 | -1",
    "drop_frame": "frame number (0: none)",
    "drop_every": "every Nth notification (0: none)",
    "wrong_reply_every": "every Nth request (0: never)",
    "frame_order": "text",
    "unanswered": "command codes",
    "l_h": "H",
    "beta_k": "K",
    "adc_bits": "bits",
    "count": "inputs",
    "recovery": '"delay" | "charger_removed"',
    "tempco_ppm_k": "ppm/K",
    "rth_k_w": "K/W",
    "ntc": "NTC input (0: none)",
}


def unit_for(path: str, value: object = None) -> str:
    """The unit of a parameter, from its name (see UNIT_SUFFIXES, UNITS_BY_NAME)."""
    name = path.rpartition(".")[2]
    if name in UNITS_BY_NAME:
        return UNITS_BY_NAME[name]
    for suffix in sorted(UNIT_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return UNIT_SUFFIXES[suffix]
    if isinstance(value, bool):
        return "true | false"
    if isinstance(value, str):
        return "text"
    return "-"
