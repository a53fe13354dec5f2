"""The interlock read on a digital input, and the clock that cuts sleeps to its poll."""

from __future__ import annotations

import pytest

from rig.config.station import InterlockConfig
from rig.interlock import Interlock, InterlockOpen
from rig.watchdog import WatchedClock


class Port:
    """A digital port whose byte the test sets; counts its reads."""

    def __init__(self, value: int = 1):
        self.value, self.reads = value, 0

    def read_digital(self, channel: int) -> int:
        assert channel == 201
        self.reads += 1
        return self.value


class FakeClock:
    virtual = True

    def __init__(self, port: Port | None = None, opens_at: float | None = None):
        self.t, self.steps = 0.0, []
        self.port, self.opens_at = port, opens_at

    def now(self) -> float:
        return self.t

    def sleep(self, dt: float) -> None:
        self.steps.append(dt)
        self.t += dt
        if self.port is not None and self.opens_at is not None and self.t >= self.opens_at:
            self.port.value = 0


def config(**kw) -> InterlockConfig:
    return InterlockConfig(input="daq:201", **kw)


def test_reads_its_line_at_its_safe_level():
    port = Port(0b10)
    lock = Interlock(config(line=1, safe_level=1), port)
    assert lock.read() == (True, 2)
    port.value = 0b01
    assert lock.read() == (False, 1)
    low = Interlock(config(line=0, safe_level=0), Port(0b10))
    assert low.read()[0] is True


def test_open_makes_safe_first_then_raises_with_the_reason():
    said: list[tuple[str, float | None]] = []
    lock = Interlock(config(name="safety cover"), Port(0), lambda r, t: said.append((r, t)))
    lock.arm(0.0)
    with pytest.raises(InterlockOpen, match="safety cover") as exc:
        lock.check(3.0, "during a plan")
    assert isinstance(exc.value, KeyboardInterrupt)  # the session stops as on Ctrl-C
    assert said == [(str(exc.value), 3.0)]
    assert "daq:201 line 0 read 0, safe is 1" in said[0][0]
    assert not lock.armed


def test_an_instrument_without_a_digital_port_is_refused():
    with pytest.raises(TypeError, match="no digital input port"):
        Interlock(config(), object())


def test_a_long_sleep_is_cut_so_the_loop_is_read_every_poll():
    port = Port(1)
    clock = FakeClock(port, opens_at=7.3)
    lock = Interlock(config(poll_s=1.0), port)
    watched = WatchedClock(clock, None, lock)
    lock.arm(0.0)
    with pytest.raises(InterlockOpen):
        watched.sleep(60.0)  # one call from the plan; the loop opens 7.3 s into it
    assert clock.t == pytest.approx(8.0)  # found at the first poll after it opened
    assert max(clock.steps) <= 1.0 + 1e-9
    assert port.reads == 8


def test_without_an_armed_interlock_a_sleep_is_one_step():
    clock = FakeClock()
    lock = Interlock(config(), Port(1))
    WatchedClock(clock, None, lock).sleep(30.0)
    assert clock.steps == [30.0]
