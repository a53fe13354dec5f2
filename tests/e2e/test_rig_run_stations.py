"""`rig run` on every instrument variant of the station: swapping one model for another
of the same role changes no plan, and the default suite passes on each.

Cost: the default suite on 16S, every cell position, is about 70 plans and half a minute
of CPU, too much to repeat for every variant. An instrument swap shows on the plans that drive
that instrument, which is every plan kind at one cell position: the 16S variants run the
pack plans (charger and load on the power path), the reporting plan, the plans of cell 16
(the highest emulator channel), the over-current and short-circuit plans and the
temperature plans of NTC 2; the 4S variants (supplies that cannot charge a
16S pack, with the 4S spec) run their whole default suite, every position. No report is
written (its cost is the report's, tested elsewhere). The runs go two at a time (virtual
time: concurrency changes no result). The default station and the BMS-protocol stations
are run by test_rig_run.py, test_rig_run_protocols.py and test_rig_run_jk.py; the last
test here checks that every file in stations/ is run by one of them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, RigRun, run_rig
from tests.e2e.test_interlock_and_prompts import STATION as INTERLOCK_STATION
from tests.e2e.test_rig_run_jk import ALL_STATIONS as JK_STATIONS
from tests.e2e.test_rig_run_protocols import STATIONS as PROTOCOL_STATIONS

SPEC_4S = ("--spec", "specs/jbd-4s-lfp.yaml")
KINDS = "pack or reporting or cell16 or ntc2 or _oc or short_circuit"
ONE_CELL_16S = ("-k", KINDS)
# station file -> (the model that differs from the default station, extra rig run args);
# a 30 A load cannot reach discharge OC level 2, a 20 µs digitizer cannot time a short
# circuit to 1 µs: those plans refuse there (tests/e2e/test_refusals.py)
VARIANTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "stations/sim-16s-sdl1020x.yaml": ("Siglent SDL1020X", ("-k", f"({KINDS}) and not oc2")),
    "stations/sim-16s-el34143a.yaml": ("Keysight EL34143A", ONE_CELL_16S),
    "stations/sim-16s-n83624.yaml": ("NGI N83624", ONE_CELL_16S),
    "stations/sim-16s-34465a-m300.yaml": (
        "Keysight 34465A",
        ("-k", f"({KINDS}) and not short_circuit"),
    ),
    "stations/sim-4s-e36312a.yaml": ("Keysight E36312A", SPEC_4S),
    "stations/sim-4s-dp832.yaml": ("Rigol DP832", SPEC_4S),
    "stations/sim-4s-spd3303x.yaml": ("Siglent SPD3303X", SPEC_4S),
}
DEFAULT_STATION = "stations/sim-16s.yaml"


@pytest.fixture(scope="module")
def variant_runs(tmp_path_factory) -> dict[str, RigRun]:
    def run(station: str) -> RigRun:
        runs = tmp_path_factory.mktemp(Path(station).stem) / "runs"
        return run_rig(runs, "--no-report", "--station", station, *VARIANTS[station][1])

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(VARIANTS, pool.map(run, VARIANTS), strict=True))


@pytest.mark.parametrize("station", sorted(VARIANTS))
def test_default_suite_passes_on_variant(variant_runs, station):
    run = variant_runs[station]
    assert run.returncode == 0, run.output[-3000:]
    assert "Overall verdict: PASS" in run.output
    measurements = run.measurements()
    assert len(measurements) >= 20 and all(m["verdict"] == "pass" for m in measurements)
    paths = {m["name"].split("_")[0] for m in measurements}
    assert {"cell", "pack"} <= paths  # cell plans and the power-path (pack) plans ran
    models = {r["model"] for r in run.records if r["type"] == "instrument"}
    assert VARIANTS[station][0] in models  # the variant's instrument was opened and checked


def test_every_station_file_is_run_end_to_end():
    covered = {
        DEFAULT_STATION,
        *PROTOCOL_STATIONS.values(),
        *JK_STATIONS.values(),
        *VARIANTS,
        INTERLOCK_STATION,
    }
    present = {f"stations/{p.name}" for p in (REPO / "stations").glob("*.yaml")}
    assert present <= covered, f"station files no end-to-end test runs: {present - covered}"
