"""A simulated run's CPU placement, seen from inside a plan: the rig runs on one CPU while
the plans run (its simlab and live printer are placed with it: tests/rig/test_cpus.py),
and on every CPU again once they are over; `RIG_CPUS=off` leaves it to the kernel."""

from __future__ import annotations

import json
import os

import pytest

from tests.e2e.conftest import run_rig, write_plans

PLAN = '''
    """Notes where the rig's threads may run, while a plan runs."""
    import json
    import os
    import threading

    from rig.measure import rectangular

    B = [rectangular("test value", 0.01, "the test's own stated accuracy")]


    def test_where(station, record):
        """Writes the CPUs of every thread of the rig to the test's file."""
        seen = {}
        for tid in os.listdir("/proc/self/task"):
            for line in open(f"/proc/self/task/{tid}/status"):
                if line.startswith("Cpus_allowed_list:"):
                    seen[tid] = line.split()[1]
        with open(os.environ["RIG_TEST_OUT"], "w") as out:
            json.dump(sorted(set(seen.values())), out)
        record("bench_voltage", 1.0, "V", low=0.0, high=2.0, budget=B)
'''

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs Linux and two CPUs or more",
)


@pytest.mark.parametrize("setting", ["", "off"])
def test_the_rig_runs_on_one_cpu_while_the_plans_run(tmp_path, setting):
    plans = write_plans(tmp_path / "plans", test_where=PLAN)
    out = tmp_path / "cpus.json"
    run = run_rig(
        tmp_path / "runs",
        "--plans",
        str(plans),
        env={"RIG_TEST_OUT": str(out), "RIG_CPUS": setting},
    )
    assert run.returncode == 0, run.output
    (cpus,) = json.loads(out.read_text())  # every thread alike
    allowed = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    if setting == "off":
        assert "," in cpus or "-" in cpus  # the kernel's: more than one
    else:
        assert cpus.isdigit() and int(cpus) in os.sched_getaffinity(0), (cpus, allowed)
