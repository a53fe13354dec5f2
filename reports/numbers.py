"""Numbers as a report prints them: rounded to what the measurement can tell.

GUM 7.2.6: state the expanded uncertainty to at most two significant digits and the
value to the same decimal place. Without an uncertainty the resolution sets the last
digit; without either, float noise is cut at seven significant digits, so a report never
shows `2.0500000000000114`.
"""

from __future__ import annotations

import math
from decimal import Decimal

from rig.results.units import prefix_scale

MAX_DECIMALS = 9
DASH = "—"
SCALED_KEYS = ("value", "low", "high", "nominal", "uncertainty", "resolution")


def clean(x: float | None, digits: int = 7) -> str:
    """A spec value or a bare number without float noise: 3.625, 2.5, 1e-05."""
    if x is None:
        return DASH
    if not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}"


def decimals_of(step: float) -> int:
    """How many decimals it takes to write `step` (0.05 -> 2, 0.002 -> 3, 0.25 -> 2)."""
    if not step or not math.isfinite(step):
        return 0
    exponent = Decimal(f"{abs(step):.6g}").normalize().as_tuple().exponent
    return min(MAX_DECIMALS, max(0, -int(exponent)))


def uncertainty_decimals(u: float) -> int:
    """Decimals that leave two significant digits of u (0.0289 -> 3: 0.029; 1.3 -> 1; 27 -> 0)."""
    if not u or not math.isfinite(u):
        return 0
    return min(MAX_DECIMALS, max(0, 1 - math.floor(math.log10(abs(u)))))


def decimals_for(uncertainty: float | None, resolution: float | None) -> int | None:
    if uncertainty:
        return uncertainty_decimals(uncertainty)
    if resolution:
        return decimals_of(resolution)
    return None


def fixed(x: float | None, decimals: int | None) -> str:
    if x is None:
        return DASH
    if decimals is None or not math.isfinite(x):
        return clean(x)
    text = f"{x:.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def value_text(m: dict) -> str:
    return fixed(m.get("value"), decimals_for(m.get("uncertainty"), m.get("resolution")))


def uncertainty_text(m: dict) -> str:
    u = m.get("uncertainty")
    if not u:
        return DASH
    return fixed(u, uncertainty_decimals(u))


def bracket_text(m: dict) -> str:
    bracket = m.get("bracket")
    if not bracket or len(bracket) != 2:
        return DASH
    d = decimals_for(m.get("uncertainty"), m.get("resolution"))
    lo, hi = bracket
    if d is not None:  # a bracket from commanded levels may need a digit more than U gives,
        # two at most (a level converted through a curve, ohms to °C, has float digits)
        d = max(d, min(d + 2, MAX_DECIMALS, max(decimals_of(lo or 0), decimals_of(hi or 0))))
    return f"[{fixed(lo, d)}, {fixed(hi, d)}]"


def limits_text(m: dict) -> str:
    low, high, comparison = m.get("low"), m.get("high"), m.get("comparison", "GELE")
    if comparison == "EQ":
        return f"= {clean(low)}"
    if comparison == "GE" or (high is None and low is not None):
        return f"≥ {clean(low)}"
    if comparison == "LE" or (low is None and high is not None):
        return f"≤ {clean(high)}"
    if low is None and high is None:
        return DASH
    return f"{clean(low)} … {clean(high)}"


def scale_of(m: dict) -> tuple[float, str]:
    """A prefix that puts the value and its limits in readable digits: 180 µs, not 0.00018 s."""
    return prefix_scale(m)


def scaled(m: dict) -> tuple[dict, float]:
    """The record in the unit a reader is shown (see `scale_of`), and the factor applied."""
    factor, unit = scale_of(m)
    if factor == 1.0:
        return m, 1.0
    out = dict(m, unit=unit)
    for key in SCALED_KEYS:
        if isinstance(m.get(key), int | float):
            out[key] = m[key] * factor
    if m.get("bracket"):
        out["bracket"] = [b * factor if isinstance(b, int | float) else b for b in m["bracket"]]
    return out, factor


def two_digits(x: float) -> str:
    """Two significant digits without an exponent: 580, 14, 0.36, 0.0029."""
    if not x or not math.isfinite(x):
        return "0" if x == 0 else clean(x)
    return fixed(x, max(0, 1 - math.floor(math.log10(abs(x)))))


def range_text(lo: float, hi: float, unit: str) -> str:
    """`1.36–1.39 mV`, `14 ms`: a range of small values in one readable prefix."""
    factor, shown = scale_of({"value": hi, "unit": unit})
    a, b = two_digits(lo * factor), two_digits(hi * factor)
    return f"{a} {shown}".strip() if a == b else f"{a}–{b} {shown}".strip()
