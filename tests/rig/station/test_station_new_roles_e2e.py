"""The new roles over real transports against simlab: every byte through pyvisa sockets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rig.config import load_station
from rig.safety import SafetyManager
from rig.station import Station
from simlab.lab import Lab

REPO = Path(__file__).resolve().parents[3]
SIM = REPO / "stations" / "sim-16s.yaml"


@pytest.fixture(scope="module")
def bench():
    config = load_station(SIM)
    with Lab.from_station_file(SIM) as lab:
        station = Station.open(config, SafetyManager(), lab.endpoints)
        try:
            assert station.make_safe("start") == []
            yield lab, station
        finally:
            station.make_safe("end")
            station.close()


def test_thermistors_program_the_curve_resistance(bench):
    lab, station = bench
    ohms = station.thermistors.set_temperature(2, 45.0)
    assert station.thermistors.resistance(2) == pytest.approx(ohms, rel=1e-6)
    hw = lab.hardware["ntc_2"].resistors[1]
    assert hw.output_on and hw.resistance_ohm == pytest.approx(ohms, rel=1e-6)
    assert lab.hardware["ntc_1"].resistors[1].resistance_ohm == pytest.approx(10_000, rel=1e-6)


def test_faults_move_the_sim_relays_and_the_safe_state_opens_them(bench):
    lab, station = bench
    relays = lab.hardware["daq"].relays
    station.switch.insert("ntc_1_open")
    station.switch.insert("cell_5_sense_open")
    assert relays[102].closed and relays[104].closed
    assert station.make_safe("test") == []
    assert not station.switch.inserted("ntc_1_open")
    assert not any(r.closed for r in relays.values())


def test_digitizer_captures_a_load_step_at_the_sample_it_happens(bench):
    """The scope triggers on the shunt's sense input (+ charging: a load step falls) and
    records the load lead's current probe in the same acquisition."""
    lab, station = bench
    station.load.set_current(0.8)  # the cells' safe-state limit is 1 A
    settings = station.digitizer.arm(
        -0.4, False, 1e-6, 2000, 200, full_scale=2.0, also={"discharge_current": 2.0}
    )
    assert settings.sample_interval_s <= 1e-6 and station.digitizer.state() == "armed"
    lab.advance(0.003)
    assert station.digitizer.state() == "armed"  # nothing has happened yet
    station.load.on()
    lab.advance(0.02)
    assert station.digitizer.complete()
    trace = station.digitizer.fetch()
    i0 = trace.trigger_index
    assert trace.unit == "A" and trace.quantity == "sense_current"
    assert np.all(np.abs(trace.values[:i0]) < 0.1)
    assert trace.values[i0] == pytest.approx(-0.8, abs=0.03)  # 1 mV/div at 1 mV/A: 40 mA steps
    assert trace.times_s[i0] == 0.0
    ascii_trace = station.digitizer.fetch(binary=False)
    assert np.allclose(ascii_trace.values, trace.values)
    probe = station.digitizer.fetch(quantity="discharge_current")
    assert probe.quantity == "discharge_current" and probe.trigger_index == i0
    assert np.all(np.abs(probe.values[:i0]) < 0.05)
    assert probe.values[i0] == pytest.approx(0.8, abs=0.03)
    station.load.off()


def test_emulated_current_trips_the_firmware_while_the_load_carries_the_test_current(bench):
    """Current-sense emulation: the BMS measures the load's 0.5 A plus 21.5 A from the
    generator; discharge OC level 1 (20 A, 1 s) trips and the load's current stops."""
    lab, station = bench
    station.load.set_current(0.5)
    station.load.on()
    lab.advance(0.5)
    assert station.load.measure_current() == pytest.approx(0.5, abs=0.01)
    station.shunt.set_current_equivalent(21.5, "discharge")
    gen = lab.hardware["awg"].generators[1]
    assert gen.output_on and gen.level_v == pytest.approx(21.5 * 0.001 * 20)
    lab.advance(0.5)
    truth = lab.truth()["state"]
    assert truth["discharge_fet"] and truth["current_a"] == pytest.approx(-0.5)
    lab.advance(1.0)
    assert not lab.truth()["state"]["discharge_fet"]
    assert station.load.measure_current() == pytest.approx(0.0, abs=1e-6)
    assert lab.truth()["state"]["protections"] == ["discharge_oc1"]
    assert station.make_safe("after the trip") == []
    assert not gen.output_on


def test_emulated_short_pulse_trips_the_front_end_at_its_delay(bench):
    """A 300 A pulse with the generator's 8.4 ns edge: the front end's 150 A / 200 µs
    comparator trips 200 µs after the edge crosses 150 A; a 100 A pulse does not."""
    lab, station = bench
    lab.advance(40.0)  # the level-1 trip of the test before recovers
    station.load.set_current(0.5)
    station.load.on()
    lab.advance(0.5)
    assert lab.truth()["state"]["discharge_fet"]
    station.shunt.pulse(100.0, 1e-3)
    lab.advance(0.01)
    assert lab.truth()["state"]["discharge_fet"]
    events = len(lab.events())
    t0 = lab.truth()["t"]
    station.shunt.pulse(300.0, 1e-3)
    lab.advance(0.01)
    trip = [e for e in lab.events()[events:] if e.get("kind") == "trip"]
    assert trip and trip[0]["protection"] == "short_circuit"
    crossing = lab.world.bench.sensed_current().crossing(-150.0, False, t0, t0 + 0.01)
    assert 1e-6 <= crossing - t0 <= 2e-6 + 8.4e-9  # the generator's trigger latency
    assert trip[0]["t"] - crossing == pytest.approx(200e-6, abs=1e-9)
    assert station.load.measure_current() == pytest.approx(0.0, abs=1e-6)
    assert station.make_safe("after the short") == []
