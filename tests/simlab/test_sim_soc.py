"""The firmware's coulomb counter and the defects that make it count wrong."""

from __future__ import annotations

import pytest

from tests.simlab.simworld import Rig, make_rig


def charged(*defects: str, amps: float = 2.5, hours: float = 2.0) -> Rig:
    rig = make_rig()
    for spec in defects:
        rig.world.add_defect(spec)
    rig.charger.voltage_set, rig.charger.current_limit, rig.charger.output_on = 56.0, amps, True
    rig.world.solve()
    rig.world.advance(hours * 3600)
    return rig


def test_the_counter_counts_what_flows():
    rig = charged()
    assert rig.state["remaining_ah"] == pytest.approx(55.0)
    assert rig.world.firmware.status().soc_pct == 55


def test_gain_offset_and_capacity_defects():
    assert charged("coulomb_gain:factor=1.1").state["remaining_ah"] == pytest.approx(55.5)
    assert charged("coulomb_offset:offset_a=0.2").state["remaining_ah"] == pytest.approx(55.4)
    idle = charged("coulomb_offset:offset_a=-0.1", amps=0.0)
    assert idle.state["remaining_ah"] == pytest.approx(49.8)
    rig = charged("wrong_capacity:factor=0.8")
    status = rig.world.firmware.status()
    assert status.full_ah == pytest.approx(80.0) and status.remaining_ah == pytest.approx(55.0)
    assert status.soc_pct == 69  # 55 / 80


def test_counting_stops_at_full():
    rig = charged(hours=30.0)
    assert rig.state["remaining_ah"] == pytest.approx(100.0)
    assert rig.world.firmware.status().soc_pct == 100
