"""A served simlab is a bench: the wall clock runs it, and the rig opens it as a real one.

`rig sim serve --write-station FILE` serves the lab in its own process and writes a
station file with its addresses and `simulated: false`. The rig then runs a plan on that
file exactly as on a lab's bench: wall clock, no control channel, real transports. The
lab's own state, asked over its control channel from this test (a test may; a plan may
not), shows the pack live before the run and the bench safe after it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import yaml

from rig.simlink import SimControl
from tests.e2e.conftest import REPO, run_rig, write_plans

WALL_CLOCK_PLAN = '''
    """An over-voltage trip seen under the wall clock, on a bench the rig believes real."""
    from rig.measure import rectangular

    B = [rectangular("test value", 0.01, "the test's own stated accuracy")]


    def test_ov_trips_under_the_wall_clock(station, dut, clock, record):
        """Cell 1 above the OV threshold: the BMS opens its charge FET after its delay."""
        assert not clock.virtual
        station.cells.set_all(3.30)
        station.cells.on()
        t0 = clock.now()
        while not (dut.read_status().charge_fet and clock.now() - t0 > 0.3):
            assert clock.now() - t0 < 30, "BMS not ready"
            clock.sleep(0.05)
        station.cells.set_voltage(1, 3.75)
        t_step = clock.now()
        while dut.read_status().charge_fet:
            assert clock.now() - t_step < 30, "no trip"
            clock.sleep(0.02)
        record("cell_ov_trip_delay_wall", clock.now() - t_step, "s", low=0.0, high=30.0, budget=B)
'''


def wait_until(predicate, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_a_served_lab_runs_a_plan_under_the_wall_clock(tmp_path):
    station_file = tmp_path / "served-bench.yaml"
    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rig",
            "sim",
            "serve",
            "--write-station",
            str(station_file),
            "--sim-set",
            "firmware.cell_ov.delay_s=0.3",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        endpoints = json.loads(lab.stdout.readline())
        assert endpoints["clock"] == "wall x1"
        bench = yaml.safe_load(station_file.read_text())
        assert bench["simulated"] is False and "simlab" not in bench
        assert bench["instruments"]["load"]["resource"] == endpoints["instruments"]["load"]
        assert bench["dut"]["port"] == endpoints["dut"]["port"]

        control = SimControl(endpoints["control"])
        # left to itself the lab is live: time runs, the cells sit at the safe state
        assert control.call("outputs")["at_safe_state"]
        t0 = control.time()
        wait_until(lambda: control.time() > t0)

        plans = write_plans(tmp_path / "plans", test_wall_clock=WALL_CLOCK_PLAN)
        run = run_rig(
            tmp_path / "runs", "--station", str(station_file), "--plans", str(plans), timeout=120
        )
        assert run.returncode == 0, run.output[-3000:]
        assert run.one("run_start")["simulated"] is False
        assert not [r for r in run.records if r["type"] in ("simlab", "sim_truth")]
        (delay,) = run.measurements("cell_ov_trip_delay_wall")
        assert delay["value"] >= 0.3 - 0.05  # the firmware's delay, less one poll
        # the bench as the lab itself sees it, after the rig's run: safe
        outputs = control.call("outputs")
        assert outputs["safe"] and outputs["at_safe_state"], outputs["not_at_safe_state"]
        assert control.call("mode")["mode"] == "wall"  # the run never drove its time
        control.close()
    finally:
        lab.send_signal(signal.SIGTERM)
        lab.wait(timeout=30)
    assert lab.returncode == 0


def test_the_outboard_watchdog_makes_a_forgotten_bench_safe(tmp_path):
    """A served lab with --outboard-watchdog: a client turns the charger on and goes
    quiet (a host that died); the lab, as an instrument's own watchdog timer would,
    puts its outputs in the safe state once nobody has spoken to it for that long."""
    import pyvisa

    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simlab",
            "serve",
            "--station",
            str(REPO / "stations" / "sim-16s.yaml"),
            "--outboard-watchdog",
            "1",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        endpoints = json.loads(lab.stdout.readline())
        rm = pyvisa.ResourceManager("@py")
        charger = rm.open_resource(
            endpoints["instruments"]["charger"], read_termination="\n", write_termination="\n"
        )
        charger.write("VOLT 50,(@1);CURR 1,(@1);OUTP 1,(@1)")
        assert charger.query("OUTP? (@1)") == "1"
        control = SimControl(endpoints["control"])
        assert not control.call("outputs")["safe"]  # the charger is live
        wait_until(lambda: control.call("outputs")["safe"])  # then nobody speaks for 1 s
        assert control.call("outputs")["at_safe_state"]
        control.close()
        charger.close()
        rm.close()
    finally:
        lab.send_signal(signal.SIGTERM)
        _, err = lab.communicate(timeout=30)
    assert "outboard watchdog made the bench safe" in err
