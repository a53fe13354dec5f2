"""Fixtures a test plan asks for: the station's roles, the DUT, the spec, the clock, `record`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dut_drivers.base import BmsLink
from rig.clock import Clock
from rig.config import DutSpec
from rig.measure import Measurement, Verdict
from rig.plugin.hooks import session_key
from rig.plugin.session import RigSession
from rig.station import Station

__all__ = ["clock", "dut", "pytest_runtest_call", "record", "rig", "spec", "station"]


@pytest.fixture(scope="session")
def rig(request: pytest.FixtureRequest) -> RigSession:
    return request.config.stash[session_key].start()


@pytest.fixture(scope="session")
def station(rig: RigSession) -> Station:
    assert rig.station is not None
    return rig.station


@pytest.fixture(scope="session")
def dut(rig: RigSession) -> BmsLink:
    assert rig.dut is not None
    return rig.dut


@pytest.fixture(scope="session")
def spec(request: pytest.FixtureRequest) -> DutSpec:
    return request.config.stash[session_key].spec


@pytest.fixture(scope="session")
def clock(rig: RigSession) -> Clock:
    assert rig.clock is not None
    return rig.clock


class Recorder:
    """Writes each measurement to the store the moment it is taken, and shows it."""

    def __init__(self, rig: RigSession, item: pytest.Item):
        self.rig, self.item = rig, item
        self.failed: list[Measurement] = []
        self.clause: list[str] = [ref for mark in item.iter_markers("clause") for ref in mark.args]

    def __call__(self, name: str, value: float | None, unit: str, **kwargs: Any) -> Measurement:
        kwargs.setdefault("clause", self.clause)
        m = Measurement(test=self.item.nodeid, name=name, value=value, unit=unit, **kwargs)
        self.rig.record(m.record())
        self.rig.measurements += 1
        if m.verdict is not Verdict.PASS:
            self.rig.failed_measurements += 1
            self.failed.append(m)
        reporter = self.item.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            shown = "—" if value is None else f"{value:.4g} {unit}"
            limits = f"[{_fmt(m.low)}, {_fmt(m.high)}] {unit}"
            reporter.write_line(f"    {name}: {shown} within {limits}? {m.verdict.upper()}")
        return m


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


_recorder_key = pytest.StashKey[Recorder]()


@pytest.fixture
def record(rig: RigSession, request: pytest.FixtureRequest) -> Iterator[Recorder]:
    recorder = Recorder(rig, request.node)
    request.node.stash[_recorder_key] = recorder
    yield recorder


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A plan whose recorded verdicts failed fails, even if its code ran to the end."""
    result = yield
    recorder = item.stash.get(_recorder_key, None)
    if recorder is not None and recorder.failed:
        lines = [
            f"{m.name} = {m.value} {m.unit}, limits [{m.low}, {m.high}]: {m.verdict}"
            + (f" ({m.note})" if m.note else "")
            for m in recorder.failed
        ]
        raise AssertionError("measurement(s) out of specification:\n  " + "\n  ".join(lines))
    return result
