"""Roles refuse setpoints beyond the station limits before the driver sees them."""

from pathlib import Path

import pytest

from rig.config import load_station
from rig.safety import LimitError
from rig.station.roles import CellChannel, Cells, Charger, Load, RoleNotFitted

REPO = Path(__file__).resolve().parents[3]
STATION = load_station(REPO / "stations" / "sim-16s.yaml")


class Recorder:
    """Stands in for any driver: records every call, sends nothing."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args: self.calls.append((name, *args))


def make_cells(driver) -> Cells:
    channels = {pos: CellChannel("cellsim_a", driver, pos) for pos in range(1, 5)}
    return Cells(channels, STATION.limits, STATION.safe_state)


def test_cell_voltage_beyond_limit_sends_nothing():
    driver = Recorder()
    cells = make_cells(driver)
    with pytest.raises(LimitError, match=r"cell 2 .*4\.3 V"):
        cells.set_voltage(2, 4.3)
    with pytest.raises(LimitError):
        cells.set_all(-0.1)
    assert driver.calls == []
    cells.set_voltage(2, 3.65)
    assert driver.calls == [("set_voltage", 2, 3.65)]
    assert cells.setpoint(2) == 3.65


def test_unwired_position():
    with pytest.raises(RoleNotFitted, match="cell position 9 is not wired"):
        make_cells(Recorder()).set_voltage(9, 3.3)


def test_charger_and_load_limits():
    psu, load = Recorder(), Recorder()
    charger = Charger("charger", psu, 1, STATION.limits)
    with pytest.raises(LimitError):
        charger.set_voltage(60.5)
    with pytest.raises(LimitError):
        charger.set_current_limit(10.5)
    electronic_load = Load("load", load, STATION.limits)
    with pytest.raises(LimitError):
        electronic_load.set_current(41.0)
    assert psu.calls == [] and load.calls == []
    charger.set_voltage(58.4)
    assert psu.calls == [("set_voltage", 1, 58.4)]


def test_cells_safe_state_sets_nominal_and_powers_on():
    driver = Recorder()
    make_cells(driver).make_safe()
    names = [c[0] for c in driver.calls]
    assert names.count("set_voltage") == 4
    assert all(
        c[2] == STATION.safe_state.cell_voltage for c in driver.calls if c[0] == "set_voltage"
    )
    assert names.count("set_output") == 4
