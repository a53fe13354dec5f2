"""Synthetic run folders with every record the store may hold, built through the real
writers (`ResultsStore`, `Measurement.record`, `write_waveform`), so the reports are
tested against the contract without a simulated lab and in milliseconds.

One complete run that fails (failures, a conditional, a did-not-trip, a broken plan, a
skip, waveforms for every trip including a short-circuit capture, transcripts); one
killed run (no run_end, a plan cut off, a torn last line).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reports.build import build_reports
from reports.model import Signatures
from rig.measure import Measurement
from rig.measure.measurement import Stimulus
from rig.measure.uncertainty import Component, rectangular, resolution_component
from rig.results import ResultsStore
from rig.results.waveform import Level, Marker, Series, Waveform, write_waveform

T0 = 1_795_600_000.0  # 2026-11-25, wall clock of the synthetic run
DUT_SERIAL = "JBD2403150042"
FIRMWARE = "1.0.7"
OV = ["IEC 62619 8.2.2", "UL 1973 15", "UL 2271 overcharge"]
UV = ["UL 1973 19", "UL 2271 overdischarge"]
SC = ["UL 1973 17", "IEC 62133-2 7.3.2", "UN 38.3 T.5"]
OC = ["IEC 62619 8.2.3"]
OT = ["IEC 62619 8.2.4", "UL 1973 20"]
SELECTED = [  # what the synthetic run was asked to run, in order
    "test_plans/test_cell_ov.py::test_cell_ov_trip_delay[cell1]",
    "test_plans/test_cell_ov.py::test_cell_ov_threshold_and_release[cell1]",
    "test_plans/test_cell_ov.py::test_cell_ov_trip_delay[cell16]",
    "test_plans/test_cell_uv.py::test_cell_uv_trip_delay[cell16]",
    "test_plans/test_cell_uv.py::test_cell_uv_threshold_and_release[cell16]",
    "test_plans/test_short_circuit.py::test_short_circuit_trip",
    "test_plans/test_charge_oc.py::test_charge_oc_trip",
    "test_plans/test_temperature.py::test_discharge_ot_threshold",
    "test_plans/test_comms.py::test_can_heartbeat",
    "test_plans/test_balancing.py::test_passive_balancing",
]


@dataclass
class Plan:
    test: str
    doc: str
    protection: str
    clause: list[str]
    measurements: list[Measurement] = field(default_factory=list)
    outcome: str = "passed"
    when: str = "call"
    longrepr: str = ""


def trip_waveform(name: str, level: float, delay: float | None, threshold: float) -> Waveform:
    """Cell voltage stepped at t=0, charger current falling at the trip (if any)."""
    x = [round(-0.5 + 0.05 * i, 3) for i in range(81)]  # -0.5 s .. 3.5 s
    cell = [3.30 if t < 0 else level for t in x]
    current = [0.0 if t < 0 else (5.0 if delay is None or t < delay else 0.02) for t in x]
    fet = [1.0 if delay is None or t < delay else 0.0 for t in x]
    markers = [Marker(0.0, "step applied")]
    if delay is not None:
        markers += [Marker(delay - 0.05, "last not tripped"), Marker(delay, "first tripped")]
    return Waveform(
        name=name,
        x_label="time from step",
        x_unit="s",
        x=x,
        series=[
            Series("cell 1 voltage (cellsim_a:1)", "V", cell, "stimulus"),
            Series("charger current (charger:1)", "A", current, "response"),
            Series("charge FET (BMS report)", "flag", fet, "dut"),
        ],
        markers=markers,
        levels=[Level(threshold, "V", "threshold (spec)"), Level(2.5, "A", "trip level")],
        meta={"cell": 1},
    )


def ramp_waveform(name: str, start: float, trip_at: float, step: float) -> Waveform:
    levels, x, current = [], [], []
    v, t = start, 0.0
    while v <= trip_at + 1e-9:
        for k in range(4):
            x.append(round(t + k * 0.875, 3))
            levels.append(round(v, 4))
            current.append(0.0 if abs(v - trip_at) < 1e-9 and k >= 2 else 5.0)
        t += 3.5
        v += step
    return Waveform(
        name=name,
        x_label="time",
        x_unit="s",
        x=x,
        series=[
            Series("cell 1 voltage (cellsim_a:1)", "V", levels, "stimulus"),
            Series("charger current (charger:1)", "A", current, "response"),
        ],
        markers=[Marker(x[-5], "last not tripped"), Marker(x[-2], "first tripped")],
        levels=[Level(3.625, "V", "low limit"), Level(3.675, "V", "high limit")],
    )


def short_circuit_waveform() -> Waveform:
    """A digitizer capture: 4000 samples at 0.5 µs, current spike cut off after 180 µs."""
    dt = 0.5e-6
    x = [round(-200e-6 + i * dt, 9) for i in range(4000)]
    current = []
    for t in x:
        if t < 0:
            current.append(0.0)
        elif t < 180e-6:
            current.append(850.0 * (1 - math.exp(-t / 20e-6)))
        else:
            current.append(850.0 * (1 - math.exp(-180e-6 / 20e-6)) * math.exp(-(t - 180e-6) / 5e-6))
    volts = [52.8 if t < 0 else (41.0 if t < 180e-6 else 53.1) for t in x]
    return Waveform(
        name="short_circuit_trip_time",
        x_label="time from relay close",
        x_unit="s",
        x=x,
        series=[
            Series("pack current (digitizer ch1)", "A", current, "response"),
            Series("pack voltage (digitizer ch2)", "V", volts, "response"),
        ],
        markers=[Marker(0.0, "relay closed (trigger)"), Marker(180e-6, "tripped")],
        levels=[Level(425.0, "A", "half peak")],
    )


def _m(test: str, name: str, value, unit: str, low, high, **kw: Any) -> Measurement:
    if unit == "flag":  # a yes/no the BMS states: exact, as Recorder.flag records it
        kw.setdefault("exact", True)
    return Measurement(test=test, name=name, value=value, unit=unit, low=low, high=high, **kw)


def build_run(run_dir: Path, killed: bool = False) -> dict[str, Any]:
    """Write a synthetic run; returns what the tests compare the reports with."""
    store = ResultsStore(run_dir)
    wf = lambda w: write_waveform(run_dir, w)  # noqa: E731
    store.write(
        {
            "type": "run_start",
            "run_id": run_dir.name,
            "station": "bench-3",
            "station_file": "stations/bench-3.yaml",
            "station_description": "16S LFP bench, 4 x N6705C cell emulation",
            "laboratory": "Example Battery Lab, 1 Test Street, Springfield",
            "location": "Lab 2, bench 3",
            "spec_file": "specs/jbd-16s-lfp.yaml",
            "dut_name": "JBD SP16S020 (16S LiFePO4, 100 A)",
            "simulated": True,
            "seed": 7,
            "sim_sets": ["firmware.cell_uv.delay_s=2.6"],
            "sim_defects": [],
            "started": T0,
            "host": "bench3-pc",
            "tested_by": "A. Tester",
            "selected": [t for t in SELECTED if killed or "ov_trip_delay[cell16]" not in t],
        }
    )
    keysight = "Keysight Technologies"
    instruments = [
        ("charger", "Keysight E36234A", f"{keysight},E36234A,MY59000101,1.0.4", "power_supply",
         "2027-06-30", {}),
        ("load", "Rigol DL3021", "RIGOL TECHNOLOGIES,DL3021,DL3A204800938,00.01.05",
         "electronic_load", "2025-03-31", {"calibration_expired": True}),
        ("cellsim_a", "Keysight N6705C", f"{keysight},N6705C,MY56000201,D.03.04", "cell_emulator",
         "2027-01-15", {}),
        ("scope", "Keysight DSOX1204G", "KEYSIGHT TECHNOLOGIES,DSOX1204G,CN61234567,02.12",
         "digitizer", None, {}),
    ]  # fmt: skip
    for name, model, idn, role, due, extra in instruments:
        store.write(
            {
                "type": "instrument",
                "name": name,
                "model": model,
                "resource": f"TCPIP::192.0.2.{len(name)}::5025::SOCKET",
                "identity": idn,
                "serial_expected": idn.split(",")[2],
                "calibration_due": due,
                "role": role,
                **extra,
            }
        )
    store.write(
        {
            "type": "dut",
            "protocol": "jbd",
            "hardware": "JBD-SP16S020-L16S-100A",
            "firmware": FIRMWARE,
            "serial": DUT_SERIAL,
            "production_date": "2024-03-15",
            "cell_count": 16,
        }
    )
    store.write({"type": "station_check", "check": "wiring", "ok": True, "cells": 16})
    store.write(
        {"type": "station_check", "check": "calibration", "ok": False, "instrument": "load",
         "status": "expired", "calibration_due": "2025-03-31"}
    )  # fmt: skip

    ov = "test_plans/test_cell_ov.py"
    uv = "test_plans/test_cell_uv.py"
    guard = {"decision_rule": "guarded"}
    t_budget = [
        resolution_component(0.05, "poll interval", "s"),
        rectangular("timebase", 0.0005, "Keysight E36234A datasheet"),
    ]
    v_budget = [
        resolution_component(0.002, "ramp step", "V"),
        rectangular("cell emulator accuracy", 0.0015, "N6781A cal. certificate 2026-01"),
    ]
    stim = Stimulus("cell_voltage", "V", 3.725, 3.72491, "cellsim_a:1")
    plans = [
        Plan(
            f"{ov}::test_cell_ov_trip_delay[cell1]",
            "Step cell 1 from nominal to 50 mV above the highest acceptable OV threshold and "
            "time the charge current falling on the charger.",
            "cell_ov",
            OV,
            [
                _m(
                    f"{ov}::test_cell_ov_trip_delay[cell1]",
                    "cell_ov_trip_delay",
                    2.0500000000000114,
                    "s",
                    1.5,
                    2.5,
                    bracket=(2.0, 2.05),
                    resolution=0.05,
                    budget=t_budget,
                    clause=OV,
                    stimulus=stim,
                    instrument="charger:1",
                    waveform=wf(trip_waveform("cell_ov_trip_delay_cell1", 3.725, 2.05, 3.65)),
                    context={"cell": 1, "level_v": 3.7249999999999996, "polls": 41},
                    **guard,
                ),
                _m(
                    f"{ov}::test_cell_ov_trip_delay[cell1]",
                    "cell_ov_reported",
                    1.0,
                    "flag",
                    1.0,
                    1.0,
                    comparison="EQ",
                    evidence="dut",
                    clause=OV,
                    note="protections reported: ['cell_ov']",
                ),
            ],
        ),
        Plan(
            f"{ov}::test_cell_ov_threshold_and_release[cell1]",
            "Ramp cell 1 upward in 2 mV steps, dwelling longer than the slowest acceptable "
            "delay, until the charger current stops; then back down until it flows again.",
            "cell_ov",
            OV,
            [
                _m(
                    f"{ov}::test_cell_ov_threshold_and_release[cell1]",
                    "cell_ov_threshold",
                    3.651,
                    "V",
                    3.625,
                    3.675,
                    bracket=(3.650, 3.652),
                    resolution=0.002,
                    budget=v_budget,
                    clause=OV,
                    instrument="cellsim_a:1",
                    waveform=wf(ramp_waveform("cell_ov_threshold_cell1", 3.605, 3.651, 0.002)),
                    context={"cell": 1, "steps": 24, "dwell_s": 3.5},
                    **guard,
                ),
                _m(
                    f"{ov}::test_cell_ov_threshold_and_release[cell1]",
                    "cell_ov_release",
                    3.4000000000000004,
                    "V",
                    3.35,
                    3.45,
                    bracket=(3.399, 3.401),
                    resolution=0.002,
                    budget=v_budget,
                    clause=OV,
                    **guard,
                ),
            ],
        ),
        Plan(
            f"{uv}::test_cell_uv_trip_delay[cell16]",
            "Step cell 16 to 50 mV below the lowest acceptable UV threshold and time the "
            "load current falling.",
            "cell_uv",
            UV,
            [
                _m(
                    f"{uv}::test_cell_uv_trip_delay[cell16]",
                    "cell_uv_trip_delay",
                    2.65,
                    "s",
                    1.5,
                    2.5,
                    bracket=(2.6, 2.65),
                    resolution=0.05,
                    budget=t_budget,
                    clause=UV,
                    instrument="load:1",
                    waveform=wf(trip_waveform("cell_uv_trip_delay_cell16", 2.425, 2.65, 2.5)),
                    **guard,
                ),
            ],
            outcome="failed",
            longrepr="E   AssertionError: measurement(s) out of specification:\n"
            "E     cell_uv_trip_delay = 2.65 s, limits [1.5, 2.5]: fail",
        ),
        Plan(
            f"{uv}::test_cell_uv_threshold_and_release[cell16]",
            "Ramp cell 16 downward in 2 mV steps until the load current stops.",
            "cell_uv",
            UV,
            [
                _m(
                    f"{uv}::test_cell_uv_threshold_and_release[cell16]",
                    "cell_uv_threshold",
                    2.4764,
                    "V",
                    2.475,
                    2.525,
                    bracket=(2.4754, 2.4774),
                    resolution=0.002,
                    budget=v_budget,
                    clause=UV,
                    **guard,
                ),
                # the layout's widest cells: a long unit beside a one-sided limit, and a
                # bracket converted through a curve (ohms to °C) with float digits
                _m(
                    f"{uv}::test_cell_uv_threshold_and_release[cell16]",
                    "cell_uv_months_of_storage",
                    1368.9,
                    "months",
                    24,
                    None,
                    comparison="GE",
                    budget=[rectangular("draw read-back accuracy", 1.7, "N6781A 1 mA range")],
                    clause=UV,
                    **guard,
                ),
                _m(
                    f"{uv}::test_cell_uv_threshold_and_release[cell16]",
                    "cell_uv_board_temperature_c",
                    0.062,
                    "°C",
                    -2.0,
                    2.0,
                    bracket=(-0.000007272, 0.124962606),
                    budget=[rectangular("thermistor emulator accuracy", 0.036, "5522A")],
                    clause=UV,
                    **guard,
                ),
            ],
        ),
        Plan(
            "test_plans/test_short_circuit.py::test_short_circuit_trip",
            "Close the short-circuit relay (≤ 20 mΩ) with the digitizer armed on the pack "
            "current and find the time to cut-off in the capture.",
            "short_circuit",
            SC,
            [
                _m(
                    "test_plans/test_short_circuit.py::test_short_circuit_trip",
                    "short_circuit_trip_time",
                    0.00018,
                    "s",
                    None,
                    0.0003,
                    comparison="LE",
                    bracket=(0.0001795, 0.00018),
                    resolution=0.5e-6,
                    budget=[Component("sample interval", 0.5e-6 / math.sqrt(12), "digitizer")],
                    clause=SC,
                    instrument="scope:1",
                    waveform=wf(short_circuit_waveform()),
                    **guard,
                ),
            ],
        ),
        Plan(
            "test_plans/test_charge_oc.py::test_charge_oc_trip",
            "Raise the charger current to 120 % of the maximum charge current and wait for "
            "the BMS to cut it.",
            "charge_oc",
            OC,
            [
                _m(
                    "test_plans/test_charge_oc.py::test_charge_oc_trip",
                    "charge_oc_trip_delay",
                    None,
                    "s",
                    0.5,
                    2.0,
                    resolution=0.05,
                    clause=OC,
                    instrument="charger:1",
                    note="no trip within 8 s",
                    waveform=wf(trip_waveform("charge_oc_trip_delay", 3.3, None, 3.65)),
                ),
            ],
            outcome="failed",
            longrepr="E   AssertionError: measurement(s) out of specification:\n"
            "E     charge_oc_trip_delay = None s, limits [0.5, 2.0]: fail (no trip within 8 s)",
        ),
        Plan(
            "test_plans/test_temperature.py::test_discharge_ot_threshold",
            "Raise the emulated NTC temperature in 1 °C steps during discharge.",
            "discharge_ot",
            OT,
            [],
            outcome="error",
            longrepr="instruments/scpi.py:120: in query\n"
            "E   instruments.errors.InstrumentTimeout: thermistors: no reply to "
            "'SOUR:RES? (@1)' within 2000 ms",
        ),
        Plan(
            "test_plans/test_comms.py::test_can_heartbeat",
            "Listen for the BMS heartbeat frame on the CAN bus.",
            "communications",
            [],
            [],
            outcome="failed",
            when="setup",
            longrepr="dut_drivers/base.py:50: in open\n"
            "E   dut_drivers.errors.BmsTimeout: no reply to DD A5 03 00 FF FD 77 within 0.5 s",
        ),
        Plan(
            "test_plans/test_balancing.py::test_passive_balancing",
            "Hold one cell 30 mV above the rest and watch the BMS balance it.",
            "balancing",
            [],
            [],
            outcome="skipped",
            longrepr="('test_plans/test_balancing.py', 12, "
            "'Skipped: spec has no balancing section')",
        ),
    ]
    if killed:
        plans = [
            *plans[:2],
            Plan(
                f"{ov}::test_cell_ov_trip_delay[cell16]",
                "Step cell 16 up and time the trip.",
                "cell_ov",
                OV,
                [],
                outcome="unfinished",
            ),
        ]
    mono = 1000.0
    transcript: list[dict[str, Any]] = []
    dut_transcript: list[dict[str, Any]] = []
    for plan in plans:
        store.write(
            {
                "type": "test_start",
                "test": plan.test,
                "doc": plan.doc,
                "protection": plan.protection,
                "clause": plan.clause,
                "markers": ["clause", "protection", "quick"],
                "mono": mono,
            }
        )
        transcript += [
            {"dir": "tx", "data": f"VOLT 3.725,(@1) ;; {plan.test}", "t": mono + 0.1},
            {"dir": "tx", "data": "MEAS:CURR?", "t": mono + 0.2},
            {"dir": "rx", "data": "+5.00120E+00", "t": mono + 0.21},
        ]
        dut_transcript += [
            {"dir": "tx", "data": "dd a5 03 00 ff fd 77", "t": mono + 0.3},
            {"dir": "rx", "data": "dd 03 00 1b 14 9c 00 00", "t": mono + 0.31},
        ]
        mono += 10.0
        for m in plan.measurements:
            store.write(m.record())
        if plan.outcome in ("unfinished",):
            continue
        if plan.outcome == "skipped":
            store.write({"type": "test_result", "test": plan.test, "when": "setup",
                         "outcome": "skipped", "duration_s": 0.0, "longrepr": plan.longrepr,
                         "reason": "spec has no balancing section"})  # fmt: skip
            continue
        store.write(
            {
                "type": "test_result",
                "test": plan.test,
                "when": plan.when,
                "outcome": plan.outcome,
                "duration_s": 1.25,
                "longrepr": plan.longrepr,
            }
        )
        store.write({"type": "safe_state", "reason": f"end of {plan.test}", "failures": []})
    (run_dir / "transcripts").mkdir(exist_ok=True)
    for name, entries in (("charger", transcript), ("dut", dut_transcript)):
        (run_dir / "transcripts" / f"{name}.jsonl").write_text(
            "".join(json.dumps(e) + "\n" for e in entries)
        )
    if killed:
        store.close()
        with (run_dir / "results.jsonl").open("a") as f:
            f.write('{"at": "2026-11-25T10:00:00.000+00:00", "type": "measurement", "test": "te')
        return {"plans": plans}
    store.write(
        {
            "type": "safe_state",
            "reason": "end of session",
            "failures": [{"action": "load off", "error": "InstrumentTimeout: load: no reply"}],
        }
    )
    store.write({"type": "sim_truth", "truth": {"firmware": {}}, "events": []})
    store.write({"type": "mystery_record", "from": "a newer rig", "value": 1})
    store.write(
        {"type": "not_applicable", "test": "test_plans/test_cell_balance.py::test_balancing_flags",
         "reason": "needs capability 'balancing' the jbd protocol lacks"}
    )  # fmt: skip
    store.write(
        {
            "type": "run_end",
            "ended": T0 + 600,
            "exitstatus": 1,
            "exit_code": 1,
            "verdict": "FAIL",
            "interrupted": False,
            "measurements": sum(len(p.measurements) for p in plans),
        }
    )
    store.close()
    return {"plans": plans}


@dataclass
class Built:
    run_dir: Path
    expected: dict[str, Any]
    result: Any  # reports.build.BuildResult


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory) -> Built:
    run_dir = tmp_path_factory.mktemp("runs") / "20261125T100000-00001"
    expected = build_run(run_dir)
    result = build_reports(run_dir, Signatures(approved_by="B. Manager"))
    return Built(run_dir, expected, result)


@pytest.fixture(scope="session")
def killed_run(tmp_path_factory) -> Built:
    run_dir = tmp_path_factory.mktemp("runs") / "20261125T110000-00002"
    expected = build_run(run_dir, killed=True)
    result = build_reports(run_dir)
    return Built(run_dir, expected, result)


def pdf_text(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(path).pages]


@pytest.fixture(scope="session")
def synthetic_pages(synthetic_run) -> list[str]:
    return pdf_text(synthetic_run.result.pdf)


@pytest.fixture(scope="session")
def killed_pages(killed_run) -> list[str]:
    return pdf_text(killed_run.result.pdf)


@pytest.fixture(scope="session")
def make_run():
    """`make_run(run_dir, killed=False)`: write a synthetic run folder."""
    return build_run
