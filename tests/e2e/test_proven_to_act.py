"""Every protection proven to act, both ways, on the simulated BMS.

Each case sets the firmware just inside or just outside a spec limit (`--sim-set`) or
injects a defect, and runs the plans it concerns; outside is never a plain pass, well
inside passes. The cases are the ways a verdict could lie before: a short-circuit
threshold nobody measured, a pack over-voltage delay timed on the cell protection (on a
BMS whose configuration can be read and on one whose cannot), a long delay carrying its
timer from one level of a search into the next, a configuration judged around the
nominal, a current sense off by a gain. Runs go two at a time; each is a few plans.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from tests.e2e.conftest import REPO, RigRun, run_rig

NEVER_PASS = {"fail", "conditional"}
DALY = "stations/sim-16s-daly.yaml"

# case -> (rig run arguments, measurement -> allowed verdicts)
CASES: dict[str, tuple[list[str], dict[str, set[str]]]] = {
    # spec 120..180 A; U about 2 A: just outside either way, far outside, well inside
    "sc_low": (
        ["-k", "short_circuit_threshold", "--sim-set", "firmware.short_circuit.threshold_a=119"],
        {"short_circuit_threshold": NEVER_PASS},
    ),
    "sc_high": (
        ["-k", "short_circuit_threshold", "--sim-set", "firmware.short_circuit.threshold_a=181"],
        {"short_circuit_threshold": NEVER_PASS},
    ),
    "sc_far": (
        ["-k", "short_circuit", "--sim-set", "firmware.short_circuit.threshold_a=1000"],
        {"short_circuit_threshold": {"fail"}, "short_circuit_trip_time": {"fail"}},
    ),
    "sc_inside": (
        ["-k", "short_circuit_threshold", "--sim-set", "firmware.short_circuit.threshold_a=135"],
        {"short_circuit_threshold": {"pass"}},
    ),
    # pack OV delay 2.6 s (limit 2.5 s), cell OV at its 2.0 s: the step stays below 16 x
    # the lowest cell OV, so the cell protection cannot answer for the pack's
    "pack_ov_delay_jbd": (
        ["-k", "pack_ov_trip_delay", "--sim-set", "firmware.pack_ov.delay_s=2.6"],
        {"pack_ov_trip_delay": {"fail"}, "pack_ov_reported_flag": {"pass"}},
    ),
    "pack_ov_delay_daly": (
        [
            "--station",
            DALY,
            "-k",
            "pack_ov_trip_delay",
            "--sim-set",
            "firmware.pack_ov.delay_s=2.6",
        ],
        {"pack_ov_trip_delay": {"fail"}},
    ),
    # a 20 s delay (limit 2.5 s): the search dwells past the first trip's delay and rests
    # between levels, so the threshold is the firmware's 57.60 V, not a level further on
    "long_delay": (
        ["-k", "pack_ov_threshold", "--sim-set", "firmware.pack_ov.delay_s=20"],
        {"pack_ov_threshold": {"pass"}},
    ),
    # configuration: an in-spec threshold near its limit passes (51.6 in 48..52 °C); a
    # delay of 0 s held in whole seconds fails (never judged around the nominal)
    "config": (
        [
            "-k",
            "protection_configuration",
            "--sim-set",
            "firmware.charge_ot.threshold_c=51.6",
            "--sim-set",
            "firmware.cell_uv.delay_s=0",
        ],
        {"config_charge_ot_threshold_c": {"pass"}, "config_cell_uv_delay_s": {"fail"}},
    ),
    # the current sense 8 % high: every current threshold it sets moves, and its reading
    "current_gain": (
        [
            "-k",
            "current_reporting or charge_oc_threshold",
            "--sim-set",
            "firmware.current_gain=1.08",
        ],
        # judged at +-(2 % of reading + 0.2 A): 0.16 A off at 2 A is inside, 0.48 A at 6 A
        # and 0.8 A at -10 A are not
        {
            "charge_oc_threshold": NEVER_PASS,
            "current_reading_error_at_+2A": {"pass"},
            "current_reading_error_at_+6A": NEVER_PASS,
            "current_reading_error_at_-10A": NEVER_PASS,
        },
    ),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, RigRun]:
    folder = tmp_path_factory.mktemp("proven")

    def run(case: str) -> RigRun:
        return run_rig(folder / case, *CASES[case][0])

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(CASES, pool.map(run, CASES), strict=True))


@pytest.mark.parametrize("case", list(CASES))
def test_verdicts_hold_near_and_beyond_the_limits(runs, case):
    run = runs[case]
    for name, allowed in CASES[case][1].items():
        verdicts = run.verdicts(name)
        assert verdicts and set(verdicts) <= allowed, (case, name, verdicts, run.output[-1500:])


def test_the_long_delay_leaves_the_threshold_where_the_firmware_has_it(runs):
    (m,) = runs["long_delay"].measurements("pack_ov_threshold")
    assert abs(m["value"] - 57.60) <= m["uncertainty"]
    assert m["context"]["dwell_s"] > 2 * 20 and m["context"]["rest_s"] >= 20


def test_the_short_circuit_threshold_brackets_the_firmware(runs):
    (m,) = runs["sc_inside"].measurements("short_circuit_threshold")
    lo, hi = m["bracket"]
    assert lo - 1e-9 <= 135 <= hi + 1e-9
    assert m["evidence"] == "instrument" and m["budget"] and m["uncertainty"] > 0
    # the pulses were checked on the sense input as they were applied
    assert all(abs(seen - level) < 5 for level, seen in m["context"]["sense_plateaus_a"])


def test_a_plan_that_cannot_isolate_its_protection_is_an_error(tmp_path):
    """A pack OV band reaching 16 x the lowest cell OV leaves no step beyond the band
    that the cell protection could not answer: error before anything is applied."""
    spec = yaml.safe_load((REPO / "specs" / "jbd-16s-lfp.yaml").read_text())
    spec["protections"]["pack_ov"]["threshold_v"]["high"] = 58.0
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    run = run_rig(tmp_path / "runs", "--spec", str(path), "-k", "pack_ov_trip_delay")
    (result,) = [r for r in run.results() if r["when"] == "call"]
    assert result["outcome"] == "error"
    assert "NotIsolated" in result["reason"] and "cell_ov" in result["reason"]
    assert not run.measurements("pack_ov_trip_delay")
