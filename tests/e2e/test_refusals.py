"""A plan the station cannot serve refuses before anything is sent, naming why.

A 30 A load (SDL1020X) cannot draw the currents that probe a 28.5-31.5 A discharge
over-current level 2; a digitizing DMM (34465A, 20 µs samples) cannot time a short
circuit to the 1 µs the spec asks. Both plans end in error (the bench, not the DUT), with
the station limit or the capture named, and the load never commanded beyond 30 A, the
short relay never closed.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.conftest import run_rig

CASES = {
    "ocd2_beyond_the_load": (
        "stations/sim-16s-sdl1020x.yaml",
        "test_discharge_oc2_threshold",
    ),
    "short_beyond_the_digitizer": ("stations/sim-16s-34465a-m300.yaml", "test_short_circuit"),
}


def test_plans_refuse_what_the_station_cannot_do(tmp_path):
    def run(case):
        station, plan = CASES[case]
        return run_rig(tmp_path / case, "--station", station, "-k", plan)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(CASES, pool.map(run, CASES), strict=True))

    ocd2 = runs["ocd2_beyond_the_load"]
    assert ocd2.returncode != 0
    (result,) = [r for r in ocd2.results() if r["when"] == "call"]
    assert result["outcome"] == "error"
    assert "LimitError" in result["reason"] and "outside the station limit" in result["reason"]
    assert "discharge current 32 A" in result["reason"]  # the search's top level
    assert ocd2.measurements() == []
    sent = [
        json.loads(line)["data"]
        for line in (ocd2.run_dir / "transcripts" / "load.jsonl").read_text().splitlines()
    ]
    levels = [float(c.split()[-1]) for c in sent if c.startswith(":SOUR:CURR:LEV:IMM ")]
    assert max(levels, default=0.0) <= 30.0  # nothing beyond the load's limit was sent

    short = runs["short_beyond_the_digitizer"]
    assert short.returncode != 0
    (result,) = [r for r in short.results() if r["when"] == "call"]
    assert result["outcome"] == "error" and "CaptureRefused" in result["reason"]
    assert "cannot take the capture" in result["reason"] and "not closed" in result["reason"]
    closes = [
        json.loads(line)["data"]
        for line in (short.run_dir / "transcripts" / "daq.jsonl").read_text().splitlines()
        if "CLOS (@101)" in line and "CLOS?" not in line
    ]
    assert closes == []
