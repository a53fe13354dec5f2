"""The prefix a reader is shown a quantity in: 180 µs, not 0.00018 s; 51 mA, not 0.051 A.

One rule for the console (`rig.summary`) and the reports (`reports.numbers`): the
largest of the value and its limits sets the prefix, for the units that take one.
"""

from __future__ import annotations

import math
from typing import Any

PREFIXED_UNITS = {"s", "A", "V", "W", "Ω", "ohm"}


def prefix_scale(m: dict[str, Any]) -> tuple[float, str]:
    """(factor, unit as shown) for a measurement record."""
    unit = str(m.get("unit") or "")
    refs = [
        abs(x)
        for x in (m.get("value"), m.get("low"), m.get("high"))
        if isinstance(x, int | float) and x and math.isfinite(x)
    ]
    if unit not in PREFIXED_UNITS or not refs:
        return 1.0, unit
    ref = max(refs)
    if ref < 1e-3:
        return 1e6, "µ" + unit
    if ref < 0.1:
        return 1e3, "m" + unit
    return 1.0, unit
