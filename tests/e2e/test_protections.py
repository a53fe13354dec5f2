"""Current, short-circuit and temperature plans in the default run, against simlab's truth.

The same session run as test_rig_run.py (`default_run`). The truth of a current threshold
is the edge of the BMS's first 10 mA code past its setting (the front end's level 2: the
setting itself); of a temperature threshold, the emulated temperature at which the
board's reading (divider, 12-bit ADC, its own curve, 0.1 °C) first reaches its setting;
of a delay or a recovery, the trip and release simlab logged; of the short-circuit trip
time, the front end's delay plus the part of the FET's fall spent above the level.
"""

from __future__ import annotations

import math

import pytest

from rig.results import read_waveform
from simlab.firmware.model import NtcParams

CURRENTS = ("charge_oc", "discharge_oc1", "discharge_oc2")
TEMPERATURES = ("charge_ot", "charge_ut", "discharge_ot", "discharge_ut")
OVER = {"charge_ot": True, "charge_ut": False, "discharge_ot": True, "discharge_ut": False}
CODE_A = 0.01  # simlab's firmware.current_resolution_a


def _sim(run):
    sim = run.one("sim_truth")
    return sim["truth"], sim["events"]


def current_edge(name: str, threshold: float) -> float:
    """The stimulus current at which the protection starts to see its threshold."""
    if name == "discharge_oc2":
        return threshold  # the front end compares the current itself
    return (math.ceil(threshold / CODE_A - 1e-6) - 0.5) * CODE_A


def ntc_edge(fw_ntc: dict, setting: float, over: bool, releasing: bool) -> float:
    """Emulated temperature where the reading crosses `setting` (NTC 10 kΩ, B 3435 K on
    the station side, as sim-16s.yaml wires both)."""
    ntc = NtcParams(
        **{k: fw_ntc[k] for k in ("count", "r25_ohm", "beta_k", "pullup_ohm", "adc_bits")}
    )
    station = NtcParams(r25_ohm=10_000.0, beta_k=3435.0)

    def reading(t: float) -> float:
        return ntc.read(station.ohms_at(t))

    # tripping over: reading >= setting; releasing over: reading < setting (and mirrored)
    def past(t: float) -> bool:
        r = reading(t)
        if over:
            return r < setting - 1e-9 if releasing else r >= setting - 1e-9
        return r > setting + 1e-9 if releasing else r <= setting + 1e-9

    lo, hi = setting - 5, setting + 5  # `past` flips once in here
    going_up = past(hi)
    for _ in range(60):
        mid = (lo + hi) / 2
        if past(mid) == going_up:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def test_every_new_protection_is_measured_and_passes(default_run):
    names = {m["name"] for m in default_run.measurements()}
    expected = {
        *(f"{p}_{k}" for p in CURRENTS for k in ("threshold", "trip_delay", "recovery_time")),
        *(f"{p}_{k}" for p in TEMPERATURES for k in ("threshold", "release", "trip_delay")),
        "short_circuit_trip_time",
        "short_circuit_recovery_time",
        "discharge_oc2_faster_than_oc1",
        "charge_ut_discharge_continues",
        "charge_ot_discharge_continues",
    }
    assert expected <= names, expected - names
    for ntc_name in ("charge_ot_threshold", "discharge_ut_trip_delay"):
        ntcs = sorted(m["context"]["ntc"] for m in default_run.measurements(ntc_name))
        assert ntcs == [1, 2]
    ms = [
        m
        for m in default_run.measurements()
        if m["name"].split("_")[0] in ("charge", "discharge", "short")
    ]
    assert ms and all(m["verdict"] == "pass" for m in ms)


def test_current_thresholds_bracket_the_truth(default_run):
    truth, _ = _sim(default_run)
    for name in CURRENTS:
        (m,) = default_run.measurements(f"{name}_threshold")
        edge = current_edge(name, truth["firmware"][name]["threshold_a"])
        lo, hi = m["bracket"]
        assert lo - 1e-6 <= edge <= hi + 1e-6, (name, m["bracket"], edge)
        assert hi - lo <= 0.05 + 1e-9
        assert m["instrument"] == ("charger" if name == "charge_oc" else "load")
        assert m["stimulus"]["quantity"].endswith("_current")


def test_temperature_thresholds_and_releases_bracket_the_truth(default_run):
    truth, _ = _sim(default_run)
    fw = truth["firmware"]
    checked = 0
    for name in TEMPERATURES:
        for kind, field in (("threshold", "threshold_c"), ("release", "release_c")):
            edge = ntc_edge(fw["ntc"], fw[name][field], OVER[name], kind == "release")
            for m in default_run.measurements(f"{name}_{kind}"):
                lo, hi = m["bracket"]
                assert lo - 1e-6 <= edge <= hi + 1e-6, (name, kind, m["bracket"], edge)
                assert hi - lo <= 0.2 + 1e-9 and m["unit"] == "°C"
                checked += 1
    assert checked == 4 * 2 * 2


def test_delays_and_recoveries_bracket_the_logged_events(default_run):
    truth, events = _sim(default_run)
    trips = [e for e in events if e["kind"] == "trip"]
    releases = [e for e in events if e["kind"] == "release"]
    checked = 0
    for name in (*CURRENTS, *TEMPERATURES):
        for m in default_run.measurements(f"{name}_trip_delay"):
            t_step = m["context"]["t_step"]
            event = next(e for e in trips if e["protection"] == name and e["t"] >= t_step)
            lo, hi = m["bracket"]
            assert lo - 1e-9 <= event["t"] - t_step <= hi + 1e-9, (name, m["bracket"])
            checked += 1
    for name in (*CURRENTS, "short_circuit"):
        (m,) = default_run.measurements(f"{name}_recovery_time")
        t0 = m["context"]["trip_instant"][0]
        trip = next(e for e in trips if e["protection"] == name and e["t"] >= t0)
        back = next(e for e in releases if e["protection"] == name and e["t"] > trip["t"])
        lo, hi = m["bracket"]
        assert lo - 1e-9 <= back["t"] - trip["t"] <= hi + 1e-9, (name, m["bracket"])
        configured = truth["firmware"][name]["release_delay_s"]
        assert (
            configured - 1e-9  # event times are floats in seconds from the run's start
            <= back["t"] - trip["t"]
            <= configured + truth["firmware"]["scan_period_s"] + 1e-9
        )
        checked += 1
    assert checked == 3 + 4 * 2 + 4


def test_short_circuit_is_timed_from_the_capture(default_run):
    """The default station emulates the short on the shunt's sense input: the trip time
    runs from the sense input crossing the level to the load's test current stopping,
    both in one capture (no real peak: the FETs carry 0.5 A)."""
    truth, events = _sim(default_run)
    (m,) = default_run.measurements("short_circuit_trip_time")
    assert not default_run.measurements("short_circuit_peak_current")
    assert m["instrument"] == "scope" and m["evidence"] == "instrument"
    assert m["context"]["stimulus"] == "current-sense emulation"
    assert m["resolution"] == pytest.approx(1e-6)  # the scope's sample interval, read back
    assert [c["name"] for c in m["budget"]][:3] == [
        "start crossing: one sample interval",
        "end crossing: one sample interval",
        "digitizer timebase",
    ]
    fw = truth["firmware"]["short_circuit"]
    lo, hi = m["bracket"]
    assert lo <= fw["delay_s"] <= hi and hi - lo == pytest.approx(2e-6)
    assert abs(m["value"] - fw["delay_s"]) <= 1e-6
    # the step as the scope read it on the sense input, beside the one commanded
    assert m["stimulus"]["readback"] == pytest.approx(m["stimulus"]["commanded"], rel=0.05)
    wf = read_waveform(default_run.run_dir, m["waveform"])
    assert wf.meta["kind"] == "capture" and wf.meta["sample_interval_s"] == pytest.approx(1e-6)
    assert len(wf.x) >= 2000 and all(len(s.values) == len(wf.x) for s in wf.series)
    labels = {mk.label for mk in wf.markers}
    assert labels >= {"sense input crossed the level", "load current stopped (trip)"}
    assert any(e["kind"] == "trip" and e["protection"] == "short_circuit" for e in events)


def test_lfp_charge_cut_off_below_zero_leaves_discharge_on(default_run):
    for m in default_run.measurements("charge_ut_discharge_continues"):
        assert m["instrument"] == "load" and m["value"] == pytest.approx(0.5, abs=0.01)
        assert m["verdict"] == "pass"
    fets = [m for m in default_run.measurements("charge_ut_reported_fet_off")]
    assert fets and all(m["verdict"] == "pass" for m in fets)


def test_level_two_is_faster_than_level_one(default_run):
    (m,) = default_run.measurements("discharge_oc2_faster_than_oc1")
    (d1,) = default_run.measurements("discharge_oc1_trip_delay")
    (d2,) = default_run.measurements("discharge_oc2_trip_delay")
    assert m["value"] == pytest.approx(d1["value"] - d2["value"])
    assert m["uncertainty"] == pytest.approx(math.hypot(d1["uncertainty"], d2["uncertainty"]))
    assert m["value"] > m["uncertainty"] and m["verdict"] == "pass"
