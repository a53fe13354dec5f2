"""Near the acceptance limits, both ways, for a current and a temperature protection.

The simulated board is set just inside or just outside the spec's band (`--sim-set`), as
test_verdicts.py does for the cell voltages: inside by more than U passes; just outside
is never a plain pass (guarded acceptance: fail, or conditional within U of the limit).
Three runs of a few plans each, two at a time.

U here: charge OC threshold about 0.22 A (the default station emulates the current: the
generator's ±(1 % + 2 mV) through its 20:1 attenuator and the 1 mΩ shunt, the charger's
read-back of the 0.5 A test current, the 0.05 A bracket),
charge UT threshold about 0.07 °C (0.125 °C bracket + the emulator's resistance
accuracy through the NTC curve), delays about 0.03 s (50 ms polls).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.e2e.conftest import run_rig

NEVER_PASS = {"fail", "conditional"}
SELECT = ["-k", "test_charge_oc_threshold or charge_ut and ntc1 or test_charge_oc_delay"]
CASES = {
    # band: charge_oc 7.6..8.4 A, delay 1.5..2.5 s; charge_ut -2..2 °C, delay 1.5..2.5 s
    "inside": (
        [
            "firmware.charge_oc.threshold_a=7.90",
            "firmware.charge_ut.threshold_c=-1.5",
            "firmware.charge_oc.delay_s=1.62",
            "firmware.charge_ut.delay_s=2.35",
        ],
        {"pass"},
    ),
    "just_below": (
        [
            "firmware.charge_oc.threshold_a=7.57",
            "firmware.charge_ut.threshold_c=-2.3",
            "firmware.charge_oc.delay_s=1.35",  # scans of 0.1 s: trips 1.4..1.5 s after
            "firmware.charge_ut.delay_s=1.35",
        ],
        NEVER_PASS,
    ),
    "just_above": (
        [
            "firmware.charge_oc.threshold_a=8.43",
            "firmware.charge_ut.threshold_c=2.3",
            "firmware.charge_oc.delay_s=2.54",
            "firmware.charge_ut.delay_s=2.54",
        ],
        NEVER_PASS,
    ),
}
JUDGED = ("charge_oc_threshold", "charge_ut_threshold", "charge_oc_trip_delay",
          "charge_ut_trip_delay")  # fmt: skip


def test_near_limit_values_are_never_a_plain_pass(tmp_path):
    def run(case):
        sets = [arg for item in CASES[case][0] for arg in ("--sim-set", item)]
        return run_rig(tmp_path / case, *sets, *SELECT)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(CASES, pool.map(run, CASES), strict=True))
    for case, run in runs.items():
        allowed = CASES[case][1]
        for name in JUDGED:
            verdicts = run.verdicts(name)
            assert verdicts and set(verdicts) <= allowed, (case, name, verdicts, run.output[-2000:])
        assert (run.returncode == 0) == (allowed == {"pass"}), (case, run.output[-2000:])
