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
CELLS_AND_PACK = {"cell", "pack"}  # cell plans and the power-path (pack) plans ran
CURRENTS = {"charge", "discharge"}  # the over-current plans (and the temperatures) ran
# station file -> (the model that differs from the default station, extra rig run args,
# the measurement prefixes its run must show). The instrument swaps carry no more than
# their emulators do: their over-current and short-circuit plans are not applicable
# (tests/e2e/test_refusals.py). The current-stimulus variants run the plans that stimulate
# current: current-sense emulation with another generator, a battery simulator of either
# model on the power path, a modelled module (its cell plans are not applicable; its
# state-of-charge plans run, but its LFP cells leave no quiet spans to skip: 4 minutes of
# wall time, so not here).
VARIANTS: dict[str, tuple[str, tuple[str, ...], set[str]]] = {
    "stations/sim-16s-sdl1020x.yaml": ("Siglent SDL1020X", ONE_CELL_16S, CELLS_AND_PACK),
    "stations/sim-16s-el34143a.yaml": ("Keysight EL34143A", ONE_CELL_16S, CELLS_AND_PACK),
    "stations/sim-16s-n83624.yaml": ("NGI N83624", ONE_CELL_16S, CELLS_AND_PACK),
    "stations/sim-16s-34465a-m300.yaml": ("Keysight 34465A", ONE_CELL_16S, CELLS_AND_PACK),
    "stations/sim-4s-e36312a.yaml": ("Keysight E36312A", SPEC_4S, CELLS_AND_PACK),
    "stations/sim-4s-dp832.yaml": ("Rigol DP832", SPEC_4S, CELLS_AND_PACK),
    "stations/sim-4s-spd3303x.yaml": ("Siglent SPD3303X", SPEC_4S, CELLS_AND_PACK),
    "stations/sim-16s-dg822.yaml": (
        "Rigol DG822",
        ("-k", "_oc or short_circuit or cell16 and cell_ov"),
        {*CURRENTS, "short", "cell"},
    ),
    "stations/sim-16s-rp7952a.yaml": (
        "Keysight RP7952A",
        ("-k", "pack or _oc or short_circuit or soc or ntc2 and charge_ot"),
        {*CURRENTS, "short", "pack", "soc"},
    ),
    "stations/sim-16s-psb.yaml": (
        "EA PSB 10060-120",
        ("-k", "pack or _oc or short_circuit or ntc2 and charge_ot"),
        {*CURRENTS, "pack"},
    ),
    "stations/sim-16s-module.yaml": (
        "Keysight RP7952A",
        ("-k", "_oc or short_circuit or ntc2 and charge_ot or ntc_open_and_short"),
        {*CURRENTS, "short", "ntc1"},
    ),
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
    assert VARIANTS[station][2] <= paths, paths
    models = {r["model"] for r in run.records if r["type"] == "instrument"}
    assert VARIANTS[station][0] in models  # the variant's instrument was opened and checked


def test_a_battery_simulator_that_cannot_feed_the_short_says_so_up_front(variant_runs):
    """The EA PSB 10060-120's 3 kW give 57 A at 52.8 V: no short through the 180 A band."""
    run = variant_runs["stations/sim-16s-psb.yaml"]
    (na,) = [
        r
        for r in run.records
        if r["type"] == "not_applicable" and r["test"].endswith("::test_short_circuit")
    ]
    assert na["test"].endswith("test_short_circuit")
    assert "reaches 56.8 A" in na["reason"] and "EA PSB 10060-120" in na["reason"]


def test_plans_that_set_the_cells_are_not_applicable_on_a_module(variant_runs):
    """A module's cells are its own: the plans that set them apart (imbalance, the sense
    leads) or read the BMS's draw on an emulator channel (standby) do not run there; its
    NTC lines are still faulted through the switch."""
    run = variant_runs["stations/sim-16s-module.yaml"]
    na = {
        r["test"].split("::")[-1]: r["reason"] for r in run.records if r["type"] == "not_applicable"
    }
    for plan in (
        "test_cell_imbalance_trip_delay",
        "test_standby_and_sleep",
        "test_sense_wire_open",
    ):
        assert na.get(plan) == "the station has no cells wired", (plan, na.get(plan))
    assert "test_ntc_open_and_short" not in na


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


# Seeded defects of the current protections, on every variant that stimulates current
# its own way: each must fail exactly the measurement it bends.
DEFECTS = (
    "threshold_off:protection=charge_oc,offset=0.8",  # 8.8 A, above the 8.4 A band
    "delay_too_long:protection=discharge_oc1,factor=2",  # 2 s, beyond 1.2 s
    "slow_short_circuit:factor=3",  # 600 µs, beyond 400 µs
)
DEFECT_PLANS = ("-k", "test_charge_oc_threshold or test_discharge_oc_delays or short_circuit")
CURRENT_VARIANTS = {
    "stations/sim-16s-dg822.yaml": True,  # stimulates the short too
    "stations/sim-16s-rp7952a.yaml": True,
    "stations/sim-16s-psb.yaml": False,
    "stations/sim-16s-module.yaml": True,
}


@pytest.fixture(scope="module")
def defect_runs(tmp_path_factory) -> dict[str, RigRun]:
    defects = [arg for d in DEFECTS for arg in ("--sim-defect", d)]

    def run(station: str) -> RigRun:
        runs = tmp_path_factory.mktemp(Path(station).stem + "-defects") / "runs"
        return run_rig(runs, "--no-report", "--station", station, *defects, *DEFECT_PLANS)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(CURRENT_VARIANTS, pool.map(run, CURRENT_VARIANTS), strict=True))


@pytest.mark.parametrize("station", sorted(CURRENT_VARIANTS))
def test_current_defects_are_caught_on_each_bench_kind(defect_runs, station):
    run = defect_runs[station]
    assert run.returncode != 0
    failed = {m["name"] for m in run.measurements() if m["verdict"] != "pass"}
    expected = {"charge_oc_threshold", "discharge_oc1_trip_delay"}
    if CURRENT_VARIANTS[station]:
        expected.add("short_circuit_trip_time")
    assert failed == expected, (station, failed)
