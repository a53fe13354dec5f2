"""Numbers as a lab writes them: no more digits than the uncertainty supports.

GUM 7.2.6: state the uncertainty with at most two significant digits and the value to
the same decimal place. A value without an uncertainty is shown to its resolution, or to
four significant digits when neither is known.
"""

from __future__ import annotations

import math


def decimals_for(step: float | None) -> int | None:
    """Decimal places that show `step` with two significant digits (None: unknown)."""
    if step is None or not math.isfinite(step) or step <= 0:
        return None
    return max(0, 1 - math.floor(math.log10(step)))


def fmt_number(value: float | None, step: float | None = None) -> str:
    if value is None:
        return "—"
    places = decimals_for(step)
    if places is None:
        return f"{value:.4g}"
    return f"{value:.{places}f}"


def fmt_measured(
    value: float | None,
    unit: str,
    uncertainty: float | None = None,
    resolution: float | None = None,
) -> str:
    """`3.6512 ± 0.0021 V`, or `3.651 V` without an uncertainty, or `—` without a value."""
    if value is None:
        return "—"
    if uncertainty:
        places = decimals_for(uncertainty)
        return f"{value:.{places}f} ± {uncertainty:.{places}f} {unit}".rstrip()
    return f"{fmt_number(value, resolution)} {unit}".rstrip()
