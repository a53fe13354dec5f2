"""Who moves a served lab's time: the wall clock until a client drives it, then the client."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rig.simlink import SimControl, SimlabError
from simlab.lab import Lab

STATION = Path(__file__).resolve().parents[2] / "stations" / "sim-16s.yaml"


def wait_until(predicate, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@pytest.fixture
def free_lab():
    lab = Lab.from_station_file(STATION)
    lab.start(speed=50.0)
    yield lab
    lab.stop()


def test_left_to_itself_time_runs_with_the_outputs_safe(free_lab):
    assert free_lab.endpoints["clock"] == "wall x50"
    assert free_lab.outputs()["at_safe_state"]  # cells powered at the safe voltage
    t0 = free_lab.world.t
    wait_until(lambda: free_lab.world.t > t0 + 1.0)  # fifty times the wall clock
    status = free_lab.world.bms_status()
    assert status.charge_fet and status.discharge_fet  # a live pack, not a dead one


def test_the_first_advance_hands_time_to_the_client_and_mode_hands_it_back(free_lab):
    control = SimControl(free_lab.endpoints["control"])
    try:
        t = control.advance(0.25)
        assert control.call("mode")["mode"] == "driven"
        time.sleep(0.1)  # several wall-clock ticks: driven time does not move by itself
        assert control.time() == t
        assert control.advance(1.0) == pytest.approx(t + 1.0)
        assert control.call("mode", mode="wall", speed=20)["mode"] == "wall"
        wait_until(lambda: control.time() > t + 1.0 + 0.5)
        assert control.call("mode", mode="driven")["mode"] == "driven"
        with pytest.raises(SimlabError, match="mode must be"):
            control.call("mode", mode="sideways")
    finally:
        control.close()


def test_an_in_process_lab_is_driven_by_default():
    with Lab.from_station_file(STATION) as lab:
        assert lab.endpoints["clock"] == "driven"
        time.sleep(0.05)
        assert lab.world.t == 0.0
