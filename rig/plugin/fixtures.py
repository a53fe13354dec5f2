"""Fixtures a test plan asks for: the station's roles, the DUT, the spec, the clock, `record`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dut_drivers.base import BmsLink
from rig.clock import Clock
from rig.config import DutSpec
from rig.measure import Measurement, Verdict
from rig.measure.format import fmt_measured, fmt_number
from rig.plugin.hooks import session_key
from rig.plugin.session import RigSession
from rig.recovery import NO_REPLY, DutUnreachable, recover
from rig.results.waveform import Waveform, write_waveform
from rig.safety import SIGNALS
from rig.station import Station

__all__ = [
    "Ready",
    "Recorder",
    "clock",
    "dut",
    "pytest_runtest_call",
    "ready",
    "record",
    "rig",
    "spec",
    "station",
]


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
        kwargs.setdefault("decision_rule", self.rig.spec.decision_rule)
        m = Measurement(test=self.item.nodeid, name=name, value=value, unit=unit, **kwargs)
        self.rig.record(m.record())
        self.rig.measurements += 1
        if m.verdict is not Verdict.PASS:
            self.rig.failed_measurements += 1
        if m.verdict is Verdict.FAIL:
            self.failed.append(m)
        self._show(m)
        return m

    def flag(self, name: str, ok: bool, **kwargs: Any) -> Measurement:
        """A yes/no the BMS states about itself (evidence `dut`), judged as 1 = 1."""
        kwargs.setdefault("evidence", "dut")
        return self(
            name, 1.0 if ok else 0.0, "flag", low=1.0, high=1.0, comparison="EQ", exact=True,
            **kwargs,
        )  # fmt: skip

    def waveform(self, waveform: Waveform) -> str:
        """Write a trip waveform into the run folder; the path a record names it by."""
        return write_waveform(self.rig.run_dir, waveform)

    def _show(self, m: Measurement) -> None:
        if self.rig.console is not None:  # `rig run`
            self.rig.console.measurement(m.record())
            return
        reporter = self.item.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        step = m.uncertainty or m.resolution
        limits = f"[{fmt_number(m.low, step)}, {fmt_number(m.high, step)}]"
        if m.comparison == "EQ":
            limits = f"= {fmt_number(m.low)}"
        shown = fmt_measured(m.value, m.unit, m.uncertainty, m.resolution)
        line = f"    {m.name}: {shown}  limits {limits} {m.unit}  {m.verdict.upper()}"
        capture = self.item.config.pluginmanager.get_plugin("capturemanager")
        if capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(line)
        else:
            reporter.write_line(line)


_recorder_key = pytest.StashKey[Recorder]()


@pytest.fixture
def record(rig: RigSession, request: pytest.FixtureRequest) -> Iterator[Recorder]:
    recorder = Recorder(rig, request.node)
    request.node.stash[_recorder_key] = recorder
    yield recorder


class Ready:
    """The DUT's recovery procedure, for a plan and for the hooks around it."""

    def __init__(self, rig: RigSession, item: pytest.Item):
        self.rig, self.item = rig, item

    @property
    def stopping(self) -> bool:
        """A signal arrived, the interlock opened or the session is ending: make safe, do
        not start a recovery."""
        return SIGNALS.first is not None or self.rig.finished or bool(self.rig.stopped_by)

    def recover(self, reason: str, *, kept: bool = False) -> bool:
        """Run the spec's recovery procedure, record how it went; True when ready.

        With `kept` (before a plan), a DUT the last recovery found ready is taken as
        ready still where nothing has happened since: no message on any link (an
        instrument, the BMS) and no time passed beyond the spec's settle time. It is
        the plan before this one ending: its procedure ran, the station is safe, and
        running it again would only repeat the same messages to learn the same.
        """
        rig = self.rig
        assert rig.station is not None and rig.dut is not None and rig.clock is not None
        still = rig.still_ready() if kept else None
        if still is not None:
            result, since = still
            extra: dict[str, object] = {"as_of": since}
        else:
            result = recover(
                rig.station, rig.dut, rig.clock, rig.spec, lambda: rig.make_safe(reason)
            )
            extra = {}
        rig.record(
            {
                "type": "recovery",
                "test": self.item.nodeid,
                "reason": reason,
                **result.record(),
                **extra,
            }
        )
        if still is None:
            rig.mark_ready(result, reason)
        self.last = result
        return result.ready


@pytest.fixture
def ready(rig: RigSession, request: pytest.FixtureRequest, record: Recorder) -> Iterator[Ready]:
    """The DUT at ready before the plan (or the plan errors), and brought back after it.

    A DUT the recovery procedure cannot bring back after a plan fails that plan, with a
    measurement saying so; the next plan tries again (its setup errors if it cannot).
    """
    helper = Ready(rig, request.node)
    if not helper.recover(f"before {request.node.name}", kept=True):
        if helper.last.status.startswith(NO_REPLY):
            raise DutUnreachable(f"before the plan the BMS gave {helper.last.status}")
        pytest.fail(
            f"DUT not ready before the plan: {helper.last.status} "
            f"(after {helper.last.waited_s:.3g} s of the spec's recovery procedure)",
            pytrace=False,
        )
    yield helper
    if helper.stopping:
        return  # interrupted: the session's final safe state follows; no recovery wait
    if not helper.recover(f"after {request.node.name}"):
        if helper.last.status.startswith(NO_REPLY):
            # the link to the BMS is broken, not the BMS proven unrecoverable: an error
            raise DutUnreachable(f"after the plan the BMS gave {helper.last.status}")
        record.flag(
            "dut_recovered_after_plan",
            False,
            note=f"the spec's recovery procedure did not bring the DUT back: {helper.last.status}",
        )
        pytest.fail(f"the plan left the DUT unrecoverable: {helper.last.status}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A plan whose recorded verdicts failed fails, even if its code ran to the end."""
    result = yield
    recorder = item.stash.get(_recorder_key, None)
    if recorder is not None and recorder.failed:
        # a measured outcome, not a crash: said in words, with no traceback of this hook
        lines = [_failed_line(m.record()) for m in recorder.failed]
        pytest.fail("measurement(s) out of specification:\n  " + "\n  ".join(lines),
                    pytrace=False)  # fmt: skip
    return result


def _failed_line(m: dict[str, Any]) -> str:
    """`cell_ov_trip_delay = 3.175 ± 0.029 s, limits 1.5…2.5 s: fail (step to 3.725 V)`;
    without a value, the plan's note says what happened (`no trip up to 3.75 V`)."""
    from rig.summary import limits, measured

    value = measured(m)
    shown = (
        f"{m['name']}: {m.get('note') or 'no value'}"
        if m.get("value") is None
        else (f"{m['name']} = {value}")
    )
    note = f" ({m['note']})" if m.get("note") and m.get("value") is not None else ""
    return f"{shown}, limits {limits(m)}: {m.get('verdict', 'fail')}{note}"
