"""Passive balancing in the firmware model and its bleed current on the bench.

A balanced cell's bleed resistor draws V/R from that cell alone, so only its emulator
channel's current moves; the mask the firmware reports is what it decided, and each
balancing defect makes the hardware or the report differ from that decision.
"""

from __future__ import annotations

import pytest

from simlab.servers.jbd_eeprom import JbdEeprom
from tests.simlab.simworld import Rig, make_rig

BLEED_OHM = 68.0


def charging(*defects: str, amps: float = 0.5) -> Rig:
    """16 cells at 3.30 V with a small charge current flowing (balancing needs it)."""
    rig = make_rig()
    for spec in defects:
        rig.world.add_defect(spec)
    rig.charger.voltage_set, rig.charger.current_limit, rig.charger.output_on = 56.0, amps, True
    rig.world.advance(0.5)
    return rig


def bleed_currents(rig: Rig) -> dict[int, float]:
    """Each channel's current beyond the string's (the pack current, and the board's own
    supply current, which every cell sources alike): what its bleed draws (A)."""
    string = -rig.world.bench.state.pack_current_a + rig.world.bench.board_draw_a
    return {
        pos: round(ch.current_meas - string, 9)
        for pos, ch in enumerate(rig.cells, 1)
        if abs(ch.current_meas - string) > 1e-9
    }


def test_a_high_cell_is_balanced_and_only_its_channel_carries_the_bleed():
    rig = charging()
    assert bleed_currents(rig) == {}
    rig.set_cell(5, 3.50)
    rig.world.advance(0.5)
    assert rig.world.firmware.status().balance_bits == 1 << 4
    assert bleed_currents(rig) == {5: pytest.approx(3.50 / BLEED_OHM)}
    assert rig.state["bleeding"] == [5]
    # the string's current is the charger's: the bleed flows inside the pack
    assert rig.world.bench.state.charge_a == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("level", "balanced"),
    [(3.399, False), (3.40, True), (3.330, False)],
    ids=["below-start", "at-start", "inside-window"],
)
def test_start_voltage_and_window(level, balanced):
    rig = charging()
    if level == 3.330:  # every cell above start, the high one 30 mV above the rest
        rig.set_cells(3.45)
        level = 3.48
    rig.set_cell(3, level)
    rig.world.advance(0.5)
    assert bool(rig.world.firmware.balance_bits) is balanced


def test_only_while_charging_unless_told_otherwise():
    rig = make_rig()
    rig.set_cell(2, 3.50)
    rig.world.advance(0.5)
    assert rig.world.firmware.balance_bits == 0
    rig.world.set("firmware.balance.only_charging", False)
    rig.world.advance(0.5)
    assert rig.world.firmware.balance_bits == 1 << 1
    assert bleed_currents(rig) == {2: pytest.approx(3.50 / BLEED_OHM)}
    rig.world.set("firmware.balance.enabled", False)
    rig.world.advance(0.5)
    assert bleed_currents(rig) == {}


def test_an_unpowered_board_bleeds_nothing():
    rig = charging()
    rig.set_cell(1, 3.50)
    rig.world.advance(0.5)
    assert bleed_currents(rig)
    rig.set_cells(0.2)  # brown-out: the pack below the board's supply minimum
    rig.world.advance(0.5)
    assert rig.world.firmware.balance_bits == 0 and rig.state["bleeding"] == []


@pytest.mark.parametrize(
    ("defect", "mask", "bleeds"),
    [
        ("no_balance:cell=5", 0, {}),
        ("open_bleed:cell=5", 1 << 4, {}),
        ("wrong_balance_cell:cell=5,other=6", 1 << 4, {6: 3.30 / BLEED_OHM}),
        ("balance_stuck_on:cell=9", 1 << 4, {5: 3.50 / BLEED_OHM, 9: 3.30 / BLEED_OHM}),
        ("unreported_balance", 0, {5: 3.50 / BLEED_OHM}),
    ],
    ids=["no-balance", "open-bleed", "wrong-cell", "stuck-on", "unreported"],
)
def test_balancing_defects(defect, mask, bleeds):
    healthy, rig = charging(), charging(defect)
    for r in (healthy, rig):
        r.set_cell(5, 3.50)
        r.world.advance(0.5)
    assert healthy.world.firmware.status().balance_bits == 1 << 4
    assert rig.world.firmware.status().balance_bits == mask
    assert bleed_currents(rig) == {k: pytest.approx(v) for k, v in bleeds.items()}


def test_stuck_bleed_flows_with_nothing_to_balance():
    rig = charging("balance_stuck_on:cell=9")
    assert bleed_currents(rig) == {9: pytest.approx(3.30 / BLEED_OHM)}
    assert rig.world.firmware.status().balance_bits == 0


def test_defect_cells_are_checked():
    rig = make_rig()
    with pytest.raises(ValueError, match=r"other must be within 1..16"):
        rig.world.add_defect("wrong_balance_cell:cell=5,other=17")


def test_balance_settings_live_in_the_jbd_eeprom():
    rig = make_rig()
    eeprom = JbdEeprom(rig.world, lambda: "x")
    assert eeprom.read(0x2A) == (3400).to_bytes(2, "big")
    assert eeprom.read(0x2B) == (30).to_bytes(2, "big")
    assert eeprom.read(0x2D)[1] & 0b1100 == 0b1100  # enabled, only while charging
    rig.world.set("firmware.balance.start_v", 3.45)
    rig.world.set("firmware.balance.only_charging", False)
    assert eeprom.read(0x2A) == (3450).to_bytes(2, "big")
    assert eeprom.read(0x2D)[1] & 0b1100 == 0b0100
    eeprom.write(0x2B, (50).to_bytes(2, "big"))
    eeprom.write(0x2D, (0b1000).to_bytes(2, "big"))  # balancing off, only while charging
    assert eeprom.save() == []
    assert rig.world.get("firmware.balance.window_v") == 0.05
    assert rig.world.get("firmware.balance.enabled") is False
    assert rig.world.get("firmware.balance.only_charging") is True
    assert eeprom.live_paths()[(0x2D, "bit2")] == "firmware.balance.enabled"
