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


def test_short_relay_and_faults_move_the_sim_relays_and_the_safe_state_opens_them(bench):
    lab, station = bench
    relays = lab.hardware["daq"].relays
    station.short.close()
    station.switch.insert("ntc_1_open")
    assert station.short.is_closed() and relays[101].closed and relays[104].closed
    assert station.make_safe("test") == []
    assert not station.short.is_closed() and not station.switch.inserted("ntc_1_open")
    assert not any(r.closed for r in relays.values())


def test_digitizer_captures_a_load_step_at_the_sample_it_happens(bench):
    lab, station = bench
    station.load.set_current(10.0)
    settings = station.digitizer.arm(5.0, True, 1e-6, 2000, 200, full_scale=20.0)
    assert settings.sample_interval_s <= 1e-6 and station.digitizer.state() == "armed"
    lab.advance(0.003)
    assert station.digitizer.state() == "armed"  # nothing has happened yet
    station.load.on()
    lab.advance(0.02)
    assert station.digitizer.complete()
    trace = station.digitizer.fetch()
    i0 = trace.trigger_index
    assert trace.unit == "A" and trace.quantity == "discharge_current"
    assert np.all(np.abs(trace.values[:i0]) < 0.1)
    assert trace.values[i0] == pytest.approx(10.0, abs=0.1)  # 8-bit at 0.5 V/div: 20 mA steps
    assert trace.times_s[i0] == 0.0
    ascii_trace = station.digitizer.fetch(binary=False)
    assert np.allclose(ascii_trace.values, trace.values)
    station.load.off()
