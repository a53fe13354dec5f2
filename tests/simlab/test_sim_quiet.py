"""Quiet spans: skipping scans that change nothing gives the very run every scan gives.

Each scenario runs twice on the same seed, once with skipping and once with every scan
computed (`QUIET_BLOCK` too small to skip), and compares what anyone could observe: the
event log, the readings after each step, what a ticker saw, the coulomb count.
"""

from __future__ import annotations

import pytest

from simlab import world as world_module
from tests.simlab.simworld import Rig, make_rig


def observe(rig: Rig) -> dict:
    fw = rig.world.firmware
    state = dict(rig.state)
    state["remaining_ah"] = round(state["remaining_ah"], 9)
    state["soc"] = round(state["soc"], 9)
    return {
        "readings": list(fw.readings),
        "current": fw.current_a,
        "balance": fw.balance_bits,
        "state": state,
    }


def scenario_charge_trip_balance(rig: Rig) -> list:
    out = []
    rig.charger.voltage_set, rig.charger.current_limit, rig.charger.output_on = 56.0, 2.5, True
    rig.world.solve()
    for dt in (60.0, 240.0):
        rig.world.advance(dt)
        out.append(observe(rig))
    rig.set_cell(3, 3.70)  # over-voltage: trips after 2 s, inside a long advance
    rig.world.advance(30.0)
    out.append(observe(rig))
    rig.set_cell(3, 3.30)
    rig.world.advance(10.0)
    rig.set_cell(5, 3.50)  # balancing while charging
    rig.world.advance(60.0)
    out.append(observe(rig))
    return out


def scenario_near_threshold(rig: Rig) -> list:
    """A cell a hair below its OV threshold: only the noise decides when it trips."""
    rig.charger.voltage_set, rig.charger.current_limit, rig.charger.output_on = 56.0, 0.5, True
    rig.set_cell(7, 3.6490)
    rig.world.solve()
    rig.world.advance(60.0)
    rig.set_cell(7, 3.4008)  # and a hair above its release
    rig.world.advance(60.0)
    return [observe(rig)]


def scenario_timer_recovery(rig: Rig) -> list:
    """Discharge over-current: tripped, then released by its 32 s timer mid-advance."""
    rig.load.current_set, rig.load.input_on = 25.0, True
    rig.world.solve()
    rig.world.advance(5.0)
    rig.load.input_on = False
    rig.world.solve()
    rig.world.advance(40.0)
    return [observe(rig)]


def scenario_ticker(rig: Rig) -> list:
    """A CAN-style ticker every second sees the readings of the scan before it."""
    seen: list = []
    rig.world.every(lambda: 1.0, lambda t: seen.append((t, list(rig.world.firmware.readings))))
    rig.charger.voltage_set, rig.charger.current_limit, rig.charger.output_on = 56.0, 2.5, True
    rig.world.solve()
    rig.world.advance(30.0)
    return [observe(rig), seen]


def scenario_pending_delays(rig: Rig) -> list:
    """Delay timers counting while the scans around them are skipped: an over-voltage
    seen in one short step and tripping in a later one (a plan polling), a condition that
    goes away before its delay (the timer resets), a level release with its own delay,
    and a charge over-current released once the charger has been gone long enough."""
    out = []
    rig.world.set("firmware.cell_ov.release_delay_s", 1.5)
    rig.world.set("firmware.charge_oc.recovery", "charger_removed")
    rig.world.set("firmware.charge_oc.release_delay_s", 3.0)
    rig.charger.voltage_set, rig.charger.current_limit, rig.charger.output_on = 56.0, 0.5, True
    rig.world.solve()
    rig.set_cell(4, 3.70)
    for _ in range(6):  # 2 s delay, polled every 0.45 s
        rig.world.advance(0.45)
        out.append(observe(rig))
    rig.set_cell(4, 3.30)  # below release: its 1.5 s release delay counts over three steps
    for _ in range(5):
        rig.world.advance(0.4)
        out.append(observe(rig))
    rig.set_cell(9, 3.70)
    rig.world.advance(1.2)  # seen for 1.2 s of the 2 s
    rig.set_cell(9, 3.30)
    rig.world.advance(0.5)  # gone: the timer starts afresh
    rig.set_cell(9, 3.70)
    rig.world.advance(1.5)
    out.append(observe(rig))
    rig.world.advance(1.0)
    out.append(observe(rig))
    rig.set_cell(9, 3.30)
    rig.world.advance(5.0)
    rig.charger.current_limit = 9.0  # over the 8 A charge over-current
    rig.world.solve()
    rig.world.advance(3.0)
    rig.charger.output_on = False
    rig.world.solve()
    for _ in range(4):
        rig.world.advance(1.1)
        out.append(observe(rig))
    return out


@pytest.mark.parametrize(
    "scenario",
    [
        scenario_charge_trip_balance,
        scenario_near_threshold,
        scenario_timer_recovery,
        scenario_ticker,
        scenario_pending_delays,
    ],
)
def test_skipping_quiet_scans_changes_nothing_observable(monkeypatch, scenario):
    def run(block: int) -> tuple[list, list]:
        monkeypatch.setattr(world_module, "QUIET_BLOCK", block)
        rig = make_rig(seed=3, noise=0.0005, phase=0.037)
        result = scenario(rig)
        return result, rig.world.events()[0]

    fast, fast_events = run(world_module.QUIET_BLOCK)
    slow, slow_events = run(2)
    assert fast_events == slow_events
    assert fast == slow


def test_an_hour_of_charging_skips_its_scans():
    rig = make_rig(noise=0.0005)
    rig.charger.voltage_set, rig.charger.current_limit, rig.charger.output_on = 56.0, 2.5, True
    rig.world.solve()
    calls = 0
    scan = rig.world.firmware.scan

    def counted(*args, **kwargs):
        nonlocal calls
        calls += 1
        return scan(*args, **kwargs)

    rig.world.firmware.scan = counted  # type: ignore[method-assign]
    rig.world.advance(3600.0)
    assert calls < 10  # of 36 000
    assert rig.state["remaining_ah"] == pytest.approx(52.5)
