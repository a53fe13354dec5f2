"""Open sense leads and NTC lines as the board's front end and firmware see them."""

from __future__ import annotations

import pytest

from simlab.firmware.diagnostics import NTC_INVALID_C, afe_inputs
from tests.simlab.simworld import Rig, make_rig


def settled() -> Rig:
    rig = make_rig()
    rig.world.advance(1.0)
    return rig


def test_a_floating_input_reads_its_neighbours_mean_the_top_one_its_neighbour():
    cells = [3.2, 3.4, 3.3]
    assert afe_inputs(cells, {1}) == [pytest.approx(3.3), pytest.approx(3.3), 3.3]
    assert afe_inputs(cells, {3}) == [3.2, 3.4, 3.4]
    assert afe_inputs(cells, set()) == cells


def test_the_open_wire_check_finds_a_lead_cuts_both_paths_and_reports_its_cells_as_0_v():
    rig = settled()
    w = rig.world
    rig.set_cell(5, 3.2)
    rig.set_cell(6, 3.4)
    rig.faults["cell_5_sense_open"].closed = True
    w.solve()
    w.advance(1.2)
    state = rig.state
    assert state["open_leads_found"] == [5] and state["protections"] == ["sense_wire_open"]
    assert not state["charge_fet"] and not state["discharge_fet"]
    assert w.bms_status().cells_v[3:7] == [3.3, 0.0, 0.0, 3.3]
    rig.faults["cell_5_sense_open"].closed = False
    w.solve()
    w.advance(1.5)
    assert rig.state["protections"] == [] and rig.state["charge_fet"]


def test_without_the_check_an_open_lead_reads_plausible_and_wrong_and_nothing_trips():
    rig = settled()
    w = rig.world
    w.add_defect("open_wire_undetected")
    rig.set_cell(5, 3.2)
    rig.set_cell(6, 3.4)
    rig.faults["cell_5_sense_open"].closed = True
    w.solve()
    w.advance(5.0)
    assert rig.state["protections"] == []
    assert w.bms_status().cells_v[4:6] == [3.3, 3.3]  # both wrong, both plausible


@pytest.mark.parametrize(
    ("defect", "reported", "protections"),
    [
        (None, NTC_INVALID_C, ["temp_sensor_fault"]),
        ("open_ntc_reads_cold", -40.0, ["charge_ut", "discharge_ut"]),
        ("open_ntc_reads_plausible", 25.0, []),
    ],
)
def test_an_open_ntc_line(defect, reported, protections):
    rig = settled()
    w = rig.world
    if defect:
        w.add_defect(defect)
    rig.faults["ntc_2_open"].closed = True
    w.solve()
    w.advance(2.5)
    assert sorted(rig.state["protections"]) == protections
    assert w.bms_status().temps_c == [25.0, reported]


def test_a_shorted_ntc_line_is_a_sensor_fault_not_a_hot_reading():
    rig = settled()
    rig.faults["ntc_1_short"].closed = True
    rig.world.solve()
    rig.world.advance(1.5)
    assert rig.state["protections"] == ["temp_sensor_fault"]
    assert rig.world.bms_status().temps_c[0] == NTC_INVALID_C


def test_cell_imbalance_stops_charging_and_releases_at_its_hysteresis():
    rig = settled()
    w = rig.world
    rig.set_cell(3, 3.3 - 0.51)
    w.advance(4.9)
    assert rig.state["protections"] == []
    w.advance(0.3)
    assert rig.state["protections"] == ["cell_imbalance"]
    assert not rig.state["charge_fet"] and rig.state["discharge_fet"]
    rig.set_cell(3, 3.3 - 0.31)
    w.advance(1.0)
    assert rig.state["protections"] == ["cell_imbalance"]
    rig.set_cell(3, 3.3 - 0.29)
    w.advance(0.2)
    assert rig.state["protections"] == []
