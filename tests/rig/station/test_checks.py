"""Station checks: serial, modules, calibration, cell counts and the wiring pin check."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dut_drivers.base import Capability
from instruments.roles import Identity
from rig.config import load_spec, load_station
from rig.config.station import InstrumentConfig
from rig.station.checks import (
    check_calibration,
    check_cell_count,
    check_modules,
    check_serial,
    pin_check,
)

REPO = Path(__file__).resolve().parents[3]
STATION = load_station(REPO / "stations" / "sim-16s.yaml")
SPEC = load_spec(REPO / "specs" / "jbd-16s-lfp.yaml")


def inst(**kw) -> InstrumentConfig:
    return InstrumentConfig(model="Keysight N6705C", resource="sim", **kw)


def test_serial():
    ident = Identity("Keysight Technologies", "N6705C", "MY123", "D.1")
    assert check_serial("a", inst(serial="my123"), ident).ok
    bad = check_serial("a", inst(serial="MY999"), ident)
    assert not bad.ok and "'MY999'" in bad.message and "'MY123'" in bad.message
    assert check_serial("a", inst(), ident).ok


class Mainframe:
    def __init__(self, modules):
        self.modules = modules

    def installed_modules(self, count=None):
        return self.modules[: count or len(self.modules)]


def test_modules():
    cfg = inst(modules=["N6781A", "N6781A"])
    assert check_modules("a", cfg, Mainframe(["N6781A", "N6781A", "N6784A"])).ok
    bad = check_modules("a", cfg, Mainframe(["N6781A", "N6762A"]))
    assert not bad.ok and "N6762A" in bad.message
    assert check_modules("a", inst(), Mainframe([])) is None
    assert not check_modules("a", cfg, object()).ok  # cannot read: not a pass


def test_calibration():
    today = date(2026, 11, 25)
    ok = check_calibration("a", inst(calibration_due=date(2027, 1, 1)), today, enforce=False)
    assert ok.ok and ok.details["expired"] is False
    warn = check_calibration("a", inst(calibration_due=date(2026, 1, 1)), today, enforce=False)
    assert not warn.ok and warn.severity == "warning" and "expired on 2026-01-01" in warn.message
    stop = check_calibration("a", inst(calibration_due=date(2026, 1, 1)), today, enforce=True)
    assert stop.severity == "error"
    assert check_calibration("a", inst(), today, enforce=True).severity == "error"


def test_cell_count():
    assert check_cell_count(STATION, SPEC, 16).ok
    bad = check_cell_count(STATION, SPEC, 15)
    assert not bad.ok and "BMS 15" in bad.message


class FakeClock:
    virtual = True

    def __init__(self):
        self.t = 0.0

    def now(self):
        return self.t

    def sleep(self, dt):
        self.t += dt


class Channel:
    def __init__(self, n):
        self.instrument, self.channel = "cellsim", n


class FakeCells:
    """Four positions; `wiring[p]` is the BMS input position p is really wired to."""

    def __init__(self, wiring):
        self.wiring, self.v = wiring, {}

    @property
    def positions(self):
        return [1, 2, 3, 4]

    def set_all(self, volts):
        self.v = dict.fromkeys(self.positions, volts)

    def set_voltage(self, p, volts):
        self.v[p] = volts

    def channel_of(self, p):
        return Channel(p)


class FakeBms:
    capabilities = frozenset({Capability.cell_voltages})

    def __init__(self, cells, offset=(0.012, -0.008, 0.0, 0.02)):
        self.cells, self.offset = cells, offset

    def read_cell_voltages(self):
        seen = [0.0] * 4
        for p, v in self.cells.v.items():
            q = self.cells.wiring[p]
            seen[q - 1] = v + self.offset[q - 1]  # static reading errors cancel out
        return seen


def test_pin_check_passes_a_straight_bench_despite_reading_errors():
    cells = FakeCells({1: 1, 2: 2, 3: 3, 4: 4})
    check = pin_check(cells, FakeBms(cells), FakeClock(), 3.3, 0.01, 1.0)
    assert check.ok, check.message
    assert set(cells.v.values()) == {3.3}  # left at nominal


def test_pin_check_names_swapped_positions():
    cells = FakeCells({1: 3, 2: 2, 3: 1, 4: 4})
    check = pin_check(cells, FakeBms(cells), FakeClock(), 3.3, 0.01, 1.0)
    assert not check.ok
    assert "position 1 (cellsim:1) is read by the BMS as cell 3" in check.message
    assert "position 3 (cellsim:3) is read by the BMS as cell 1" in check.message


def test_pin_check_without_cell_voltages_is_a_warning():
    class NoCells(FakeBms):
        capabilities = frozenset()

    cells = FakeCells({1: 1, 2: 2, 3: 3, 4: 4})
    check = pin_check(cells, NoCells(cells), FakeClock(), 3.3, 0.01, 1.0)
    assert check.ok and check.severity == "warning" and "not possible" in check.message
