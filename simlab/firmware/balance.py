"""Passive balancing as a JBD-class board does it: which cells to bleed, and through what.

At every scan the firmware looks at its cell readings. A cell is balanced (its bleed
switch closed, a resistor across it) when balancing is enabled (EEPROM 0x2D bit 2),
when the board is charging if it balances only while charging (0x2D bit 3), when the
cell reads at least the balance start voltage (0x2A) and more than the balance window
(0x2B) above the lowest cell. The bleed current is the cell's voltage over the board's
bleed resistor; it flows inside the pack (the shunt does not see it), so a bench sees
it only in the cell's own emulator channel.

What the firmware decides is its balance mask (reported in JBD basic info and Daly
0x97); what bleeds is the hardware, which defects can make differ from the mask.
"""

from __future__ import annotations

from dataclasses import dataclass

from simlab.firmware.defects import DefectSet

EPS = 1e-9


@dataclass
class BalanceParams:
    """`firmware.balance.*`: the EEPROM settings and the board's bleed resistors."""

    enabled: bool = True  # 0x2D bit 2
    only_charging: bool = True  # 0x2D bit 3: balance only while charging
    start_v: float = 3.40  # 0x2A: a cell must read at least this
    window_v: float = 0.030  # 0x2B: ... and more than this above the lowest cell
    bleed_ohm: float = 68.0  # the resistor across each cell (3.5 V: 51 mA)
    # Charging, for `only_charging`: the shunt reads at least this much charge current.
    charge_detect_a: float = 0.1

    def validate(self) -> None:
        if self.start_v < 0 or self.window_v < 0:
            raise ValueError("firmware.balance start_v and window_v must be >= 0")
        if self.bleed_ohm <= 0:
            raise ValueError("firmware.balance.bleed_ohm must be > 0")
        if self.charge_detect_a < 0:
            raise ValueError("firmware.balance.charge_detect_a must be >= 0")


def balance_mask(
    params: BalanceParams, readings: list[float], current_a: float, defects: DefectSet
) -> int:
    """The cells the firmware decides to balance, bit 0 = cell 1."""
    if not params.enabled or not readings:
        return 0
    if params.only_charging and current_a < params.charge_detect_a - EPS:
        return 0
    lowest = min(readings)
    skipped = defects.never_balanced()
    mask = 0
    for i, reading in enumerate(readings):
        if i + 1 in skipped:
            continue
        if reading >= params.start_v - EPS and reading - lowest > params.window_v + EPS:
            mask |= 1 << i
    return mask


def bleeding(mask: int, cell_count: int, defects: DefectSet) -> set[int]:
    """The positions (1-based) whose bleed resistor conducts, for the firmware's `mask`:
    an open resistor bleeds nothing, a miswired switch bleeds another cell, a shorted
    switch bleeds always."""
    on = {i + 1 for i in range(cell_count) if mask >> i & 1}
    if not defects.active:
        return on
    for cell, other in defects.balance_redirects():
        if cell in on:
            on.discard(cell)
            on.add(other)
    on -= defects.open_bleeds()
    on |= defects.stuck_bleeds()
    return on
