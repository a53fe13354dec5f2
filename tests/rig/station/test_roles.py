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


class Emulator:
    """A one-channel-at-a-time cell emulator whose outputs read back what they were set to
    (or a runaway value)."""

    def __init__(self, runaway: dict[int, float] | None = None):
        self.calls = []
        self.volts: dict[int, float] = {}
        self.on: dict[int, bool] = {}
        self.runaway = runaway or {}

    def set_voltage(self, channel, volts):
        self.calls.append(("set_voltage", channel, volts))
        self.volts[channel] = volts

    def set_current_limit(self, channel, amps):
        self.calls.append(("set_current_limit", channel, amps))

    def set_output(self, channel, on):
        self.calls.append(("set_output", channel, on))
        self.on[channel] = on

    def output_enabled(self, channel):
        return self.on.get(channel, False)

    def measure_voltage(self, channel):
        return self.runaway.get(channel, self.volts.get(channel, 0.0))

    def measure_current(self, channel):
        return 0.0


class ListEmulator(Emulator):
    """An emulator whose channel list takes the whole group in one message (N6705C)."""

    channel_count = 4

    def _unused(self, *args):
        raise AssertionError("not part of the safe state")

    identity = check_identity = raise_errors = close = accuracy = _unused

    def set_voltages(self, channels, volts):
        self.calls.append(("set_voltages", tuple(channels), volts))
        self.volts.update(dict.fromkeys(channels, volts))

    def set_current_limits(self, channels, amps):
        self.calls.append(("set_current_limits", tuple(channels), amps))

    def set_outputs(self, channels, on):
        self.calls.append(("set_outputs", tuple(channels), on))
        self.on.update(dict.fromkeys(channels, on))

    def measure_voltages(self, channels):
        self.calls.append(("measure_voltages", tuple(channels)))
        return [self.measure_voltage(ch) for ch in channels]


def test_cells_safe_state_sets_nominal_and_powers_on():
    driver = Emulator()
    make_cells(driver).make_safe()
    names = [c[0] for c in driver.calls]
    assert names.count("set_voltage") == 4
    assert all(
        c[2] == STATION.safe_state.cell_voltage for c in driver.calls if c[0] == "set_voltage"
    )
    assert names.count("set_output") == 4


def test_an_emulator_taking_a_channel_list_is_made_safe_in_one_message_per_setting():
    driver = ListEmulator()
    make_cells(driver).make_safe()
    safe = STATION.safe_state
    group = (1, 2, 3, 4)
    assert driver.calls == [
        ("set_voltages", group, safe.cell_voltage),
        ("set_current_limits", group, safe.cell_current_limit),
        ("set_outputs", group, True),
        ("measure_voltages", group),  # the read-back that proves it
    ]


def test_a_cell_the_emulator_does_not_hold_is_switched_off_and_named():
    driver = Emulator(runaway={3: 4.6})  # a failed regulator on channel 3
    with pytest.raises(RuntimeError, match=r"cell 3 \(cellsim_a:3\) read 4\.600 V"):
        make_cells(driver).make_safe()
    assert driver.calls[-1] == ("set_output", 3, False)
    listed = ListEmulator(runaway={3: 4.6})
    with pytest.raises(RuntimeError, match=r"cell 3 \(cellsim_a:3\) read 4\.600 V"):
        make_cells(listed).make_safe()
    assert listed.calls[-1] == ("set_output", 3, False)  # that one alone


def test_a_safe_state_step_is_left_out_until_its_instruments_are_commanded():
    """Between plans the safe state runs three times with only the BMS read in between:
    a role's step runs whole only when one of its instruments was commanded since it last
    succeeded (or it failed)."""
    from types import SimpleNamespace

    from rig.station.station import Station

    a, b = SimpleNamespace(commands_sent=0), SimpleNamespace(commands_sent=0)
    bench = SimpleNamespace(drivers={"a": a, "b": b})
    runs: list[str] = []
    fail = [False]

    def make_safe() -> None:
        runs.append("run")
        a.commands_sent += 3  # the step's own commands
        if fail[0]:
            raise RuntimeError("a regulator failed")

    step = Station._kept(bench, make_safe, "a", "b")  # type: ignore[arg-type]
    step()
    step()
    assert runs == ["run"]
    b.commands_sent += 1  # a plan commanded b
    step()
    step()
    assert runs == ["run"] * 2
    b.commands_sent += 1
    fail[0] = True
    with pytest.raises(RuntimeError):
        step()
    fail[0] = False
    step()  # a failed step is never taken as done
    assert runs == ["run"] * 4
    moved = [False]

    def confirm() -> None:
        if moved[0]:
            raise RuntimeError("cell 3 reads 3.1 V")

    checked = Station._kept(bench, make_safe, "a", confirm=confirm)  # type: ignore[arg-type]
    checked()
    checked()
    assert runs == ["run"] * 5  # confirmed by a read: left out
    moved[0] = True  # a hand on the bench, nothing commanded
    checked()
    assert runs == ["run"] * 6


def test_the_cells_confirm_their_safe_state_by_reading_alone():
    driver = ListEmulator()
    cells = make_cells(driver)
    cells.make_safe()
    driver.calls.clear()
    cells.confirm_safe()
    assert driver.calls == [("measure_voltages", (1, 2, 3, 4))]
    driver.runaway[2] = 3.0
    with pytest.raises(RuntimeError, match=r"cell 2 reads 3\.000 V"):
        cells.confirm_safe()
