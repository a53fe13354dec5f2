"""The DUT specification: what the BMS promises, and the limits the plans judge it by."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limit(Strict):
    """A datasheet value and its acceptance band."""

    nominal: float
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Limit:
        if not self.low <= self.nominal <= self.high:
            raise ValueError(
                f"expected low <= nominal <= high, got {self.low} / {self.nominal} / {self.high}"
            )
        return self


class VoltageProtection(Strict):
    clause: list[str] = Field(min_length=1)
    threshold_v: Limit
    delay_s: Limit
    release_v: Limit


class Protections(Strict):
    cell_ov: VoltageProtection
    cell_uv: VoltageProtection

    @model_validator(mode="after")
    def _sides(self) -> Protections:
        if self.cell_ov.release_v.high >= self.cell_ov.threshold_v.low:
            raise ValueError("cell_ov.release_v must lie below cell_ov.threshold_v")
        if self.cell_uv.release_v.low <= self.cell_uv.threshold_v.high:
            raise ValueError("cell_uv.release_v must lie above cell_uv.threshold_v")
        return self


class TestConditions(Strict):
    cells_under_test: list[int] = Field(min_length=1)
    nominal_cell_voltage: float = Field(gt=0)
    threshold_step_v: float = Field(gt=0, le=0.05)
    poll_period_s: float = Field(gt=0, le=1.0)
    settle_s: float = Field(ge=0)


class DutInfo(Strict):
    name: str
    manufacturer: str = ""
    chemistry: str
    cell_count: int = Field(gt=0, le=32)
    nominal_cell_voltage: float = Field(gt=0)
    capacity_ah: float = Field(gt=0)
    # The sign this DUT's firmware gives charging current, against its protocol's
    # documentation: -1 for firmware that reports charging as negative.
    current_sign: Literal[1, -1] = 1


class DutSpec(Strict):
    model_config = ConfigDict(extra="forbid", frozen=False)

    dut: DutInfo
    protections: Protections
    test_conditions: TestConditions
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _cells_exist(self) -> DutSpec:
        bad = [
            c for c in self.test_conditions.cells_under_test if not 1 <= c <= self.dut.cell_count
        ]
        if bad:
            raise ValueError(f"test_conditions.cells_under_test: no such cell position(s) {bad}")
        return self
