"""A LiFePO4 cell: open-circuit voltage from state of charge, series resistance, capacity.

Used for cell positions that no emulator channel drives, so a station can mix emulated
and "real" cells. The OCV–SoC table has the shape that makes LFP hard for a BMS: a steep
knee near empty, a long flat plateau around 3.2–3.35 V, and a sharp rise near full.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# State of charge (0..1) → open-circuit voltage (V). Strictly increasing in both columns.
OCV_TABLE_SOC = np.array(
    [0.00, 0.02, 0.05, 0.10, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 0.95, 0.98, 1.00]
)
OCV_TABLE_V = np.array(
    [2.50, 2.90, 3.10, 3.20, 3.25, 3.27, 3.28, 3.29, 3.30, 3.31, 3.32, 3.34, 3.37, 3.45, 3.60]
)


def ocv(soc: float) -> float:
    """Open-circuit voltage at `soc` (clamped to 0..1), linearly interpolated."""
    return float(np.interp(min(max(soc, 0.0), 1.0), OCV_TABLE_SOC, OCV_TABLE_V))


@dataclass
class LfpParams:
    """Nominal cell and the spread between cells, as drawn when the pack is built."""

    capacity_ah: float = 100.0
    r_ohm: float = 0.0005
    initial_soc: float = 0.5
    capacity_spread: float = 0.02  # relative standard deviation
    r_spread: float = 0.10  # relative standard deviation
    soc_spread: float = 0.02  # absolute standard deviation

    def validate(self) -> None:
        if self.capacity_ah <= 0:
            raise ValueError("physics.lfp.capacity_ah must be > 0")
        if self.r_ohm < 0:
            raise ValueError("physics.lfp.r_ohm must be >= 0")
        if not 0.0 <= self.initial_soc <= 1.0:
            raise ValueError("physics.lfp.initial_soc must be within 0..1")
        if min(self.capacity_spread, self.r_spread, self.soc_spread) < 0:
            raise ValueError("physics.lfp spreads must be >= 0")


@dataclass
class LfpCell:
    """One cell's state. Current is positive when charging."""

    capacity_ah: float
    r_ohm: float
    soc: float

    def ocv(self) -> float:
        return ocv(self.soc)

    def terminal_v(self, current_a: float) -> float:
        """Terminal voltage while `current_a` flows (IR rise on charge, drop on discharge)."""
        return self.ocv() + current_a * self.r_ohm

    def step(self, current_a: float, dt: float) -> None:
        """Coulomb integration over `dt` seconds, clamped to empty/full."""
        self.soc = min(max(self.soc + current_a * dt / 3600.0 / self.capacity_ah, 0.0), 1.0)


def make_cells(n: int, params: LfpParams, rng: np.random.Generator) -> list[LfpCell]:
    """`n` cells around the nominal, each drawn from `rng` so a seed fixes the pack."""
    cap = params.capacity_ah * (1.0 + params.capacity_spread * rng.standard_normal(n))
    r = params.r_ohm * (1.0 + params.r_spread * rng.standard_normal(n))
    soc = params.initial_soc + params.soc_spread * rng.standard_normal(n)
    return [
        LfpCell(
            capacity_ah=float(max(c, 0.1 * params.capacity_ah)),
            r_ohm=float(max(ri, 0.0)),
            soc=float(min(max(s, 0.0), 1.0)),
        )
        for c, ri, s in zip(cap, r, soc, strict=True)
    ]
