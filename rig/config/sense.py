"""Physical sense of a loaded spec: magnitudes that cannot be negative, steps that must move.

A schema checks types; this checks what the numbers mean, by the unit each field's name
carries (`threshold_v`, `delay_s`, `poll_period_s`, `test_current_a`, ...), so a field
added to the spec tomorrow is covered without a line here:

- a voltage, time, current, charge, resistance or power (`_v`, `_s`, `_a`, `_ah`, `_ohm`,
  `_w`), or a band of one (low / nominal / high), is never negative (temperatures, `_c`,
  may be);
- a step, period or poll interval is greater than zero (a zero step never ends a ramp);
- a difference (`_error_`, `_offset_`, `_delta_` in the name) may take either sign.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

NON_NEGATIVE_SUFFIXES = ("_v", "_s", "_a", "_ah", "_ohm", "_w")
POSITIVE_WORDS = ("step", "period", "poll")
# A difference between two readings is signed whatever its unit (`cell_voltage_error_v`).
SIGNED_WORDS = ("error", "offset", "delta")
_QUANTITY = {
    "_v": "a voltage",
    "_s": "a time",
    "_a": "a current",
    "_ah": "a charge",
    "_ohm": "a resistance",
    "_w": "a power",
}


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _quantity(name: str) -> str | None:
    if any(word in name for word in SIGNED_WORDS):
        return None
    for suffix in sorted(NON_NEGATIVE_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _QUANTITY[suffix]
    return None


def problems(model: BaseModel, prefix: str = "") -> list[tuple[str, str]]:
    """(dotted field, message) for each value that makes no physical sense."""
    found: list[tuple[str, str]] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = f"{prefix}.{name}" if prefix else name
        quantity = _quantity(name)
        positive = any(word in name for word in POSITIVE_WORDS)
        if isinstance(value, BaseModel):
            band = {k: getattr(value, k, None) for k in ("low", "nominal", "high")}
            if quantity and all(_number(v) for v in band.values()):
                for key, v in band.items():
                    if v < 0:
                        found.append((f"{path}.{key}", f"{v:g} is negative; {quantity} cannot be"))
            found += problems(value, path)
        elif _number(value):
            if positive and quantity and value <= 0:
                found.append((path, f"must be > 0 (a step or period of {value:g} never moves)"))
            elif quantity and value < 0:
                found.append((path, f"{value:g} is negative; {quantity} cannot be"))
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, BaseModel):
                    found += problems(item, f"{path}.{key}")
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += problems(item, f"{path}.{index}")
    return found
