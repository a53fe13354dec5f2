"""NTC thermistor curves: temperature ↔ resistance, as a thermistor emulator needs them.

Plans speak °C; the emulator programs ohms. A curve is either the B-value equation
R(T) = R25 · exp(B · (1/T − 1/T25)) (T in kelvin, T25 = 298.15 K), or a manufacturer's
R–T table, interpolated linearly in ln R against 1/T, which is exact for a B-value
curve and close for real parts between table points. Outside the table the curve is
not extrapolated: a temperature it cannot place is a ValueError.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

KELVIN = 273.15
T25_K = 298.15


@dataclass(frozen=True)
class NtcCurve:
    r25_ohm: float | None = None
    beta_k: float | None = None
    table: tuple[tuple[float, float], ...] | None = None

    def __post_init__(self) -> None:
        if self.table is None and (self.r25_ohm is None or self.beta_k is None):
            raise ValueError("an NTC curve needs r25_ohm and beta_k, or a table")

    @property
    def span_c(self) -> tuple[float, float]:
        """The temperatures this curve covers (°C)."""
        if self.table is None:
            return (-KELVIN + 1.0, 1000.0)
        return (self.table[0][0], self.table[-1][0])

    def ohms(self, celsius: float) -> float:
        """Resistance at `celsius`."""
        if not math.isfinite(celsius):
            raise ValueError(f"temperature must be finite, got {celsius!r}")
        low, high = self.span_c
        if not low <= celsius <= high:
            raise ValueError(f"{celsius:g} °C is outside the NTC curve's {low:g}..{high:g} °C")
        inv_t = 1.0 / (celsius + KELVIN)
        if self.table is None:
            assert self.r25_ohm is not None and self.beta_k is not None
            return self.r25_ohm * math.exp(self.beta_k * (inv_t - 1.0 / T25_K))
        inv = np.array([1.0 / (t + KELVIN) for t, _ in self.table])[::-1]
        ln_r = np.array([math.log(r) for _, r in self.table])[::-1]
        return float(math.exp(np.interp(inv_t, inv, ln_r)))

    def celsius(self, ohms: float) -> float:
        """Temperature at which the NTC has `ohms`."""
        if not ohms > 0 or not math.isfinite(ohms):
            raise ValueError(f"resistance must be a finite value > 0, got {ohms!r}")
        if self.table is None:
            assert self.r25_ohm is not None and self.beta_k is not None
            inv_t = 1.0 / T25_K + math.log(ohms / self.r25_ohm) / self.beta_k
            return 1.0 / inv_t - KELVIN
        ln_r = np.array([math.log(r) for _, r in self.table])[::-1]
        inv = np.array([1.0 / (t + KELVIN) for t, _ in self.table])[::-1]
        if not ln_r[0] <= math.log(ohms) <= ln_r[-1]:
            low, high = self.span_c
            raise ValueError(f"{ohms:g} Ω is outside the NTC curve's {low:g}..{high:g} °C")
        return float(1.0 / np.interp(math.log(ohms), ln_r, inv) - KELVIN)

    def slope_ohm_per_c(self, celsius: float) -> float:
        """dR/dT at `celsius` (negative for an NTC), for turning Ω bands into °C."""
        h = 0.01
        low, high = self.span_c
        a, b = max(celsius - h, low), min(celsius + h, high)
        return (self.ohms(b) - self.ohms(a)) / (b - a)
