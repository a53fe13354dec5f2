"""Virtual time moves only when slept, through simlab's control channel."""

from pathlib import Path

import pytest

from rig.clock import VirtualClock, WallClock
from rig.simlink import SimControl
from simlab.lab import Lab

REPO = Path(__file__).resolve().parents[2]


def test_virtual_clock_advances_the_simulation():
    with Lab.from_station_file(REPO / "stations" / "sim-16s.yaml") as lab:
        control = SimControl(lab.endpoints["control"])
        try:
            clock = VirtualClock(control)
            t0 = clock.now()
            clock.sleep(60.0)
            assert clock.now() - t0 == pytest.approx(60.0)
            assert lab.truth()["t"] == pytest.approx(clock.now())
            assert clock.now() == clock.now()  # reading time costs no time
            with pytest.raises(ValueError, match="negative"):
                clock.sleep(-1)
        finally:
            control.close()


def test_wall_clock_refuses_negative_sleep():
    with pytest.raises(ValueError):
        WallClock().sleep(-0.1)
    assert not WallClock.virtual and VirtualClock.virtual
