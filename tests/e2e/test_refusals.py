"""A plan the station cannot serve is not applicable there, said up front with the reason;
and the roles still refuse a level beyond the station's limits before a byte is sent.

The SDL1020X station's emulator cells carry ±3 A: its discharge over-current level 2
(28-32 A) is not applicable, because the path's instruments cannot carry it, and there is
no current-sense emulation to stand in. The 34465A station cannot time a short circuit:
its emulators cannot carry the short's current, and its digitizing DMM samples every
20 µs where the spec asks 1 µs. Both are listed before anything runs (a
`not_applicable` record naming the instrument), nothing of theirs is sent to the bench,
and the plans beside them run and pass. A role asked beyond `limits` by a plan that
slipped through refuses with LimitError (tests/rig/station/test_roles.py).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.conftest import run_rig

CASES = {
    "ocd2_beyond_the_path": (
        "stations/sim-16s-sdl1020x.yaml",
        "test_discharge_oc2_threshold or test_identity",
        "test_discharge_oc2_threshold",
        ("the bench cannot carry it", "discharge_oc2 discharge current 32 A", "carries 3 A"),
    ),
    "short_beyond_the_bench": (
        "stations/sim-16s-34465a-m300.yaml",
        "test_short_circuit or test_identity",
        "test_short_circuit",
        ("reaches 3 A", "samples one input every 2e-05 s", "needs 1e-06 s"),
    ),
}


def test_plans_the_station_cannot_serve_are_not_applicable_up_front(tmp_path):
    def run(case):
        station, selection, _plan, _why = CASES[case]
        return run_rig(tmp_path / case, "--no-report", "--station", station, "-k", selection)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(CASES, pool.map(run, CASES), strict=True))

    for case, run in runs.items():
        _station, _selection, plan, words = CASES[case]
        assert run.returncode == 0, run.output[-2000:]  # the rest ran and passed
        (na,) = [
            r
            for r in run.records
            if r["type"] == "not_applicable" and r["test"].endswith(f"::{plan}")
        ]
        for word in words:
            assert word in na["reason"], (case, na["reason"])
        assert not [r for r in run.results() if r["test"].endswith(f"::{plan}")]  # never started
        assert run.measurements("identity_cell_count")  # the plan beside it ran

    sent = [
        json.loads(line)["data"]
        for line in (runs["ocd2_beyond_the_path"].run_dir / "transcripts" / "load.jsonl")
        .read_text()
        .splitlines()
    ]
    assert not [c for c in sent if c.startswith(":SOUR:CURR:LEV:IMM ") and float(c.split()[-1]) > 1]
    closes = [
        json.loads(line)["data"]
        for line in (runs["short_beyond_the_bench"].run_dir / "transcripts" / "daq.jsonl")
        .read_text()
        .splitlines()
        if "CLOS (@101)" in line and "CLOS?" not in line
    ]
    assert closes == []
