"""Plans reach the bench as on a real bench: never simlab, never its control channel.

A static check over every module in test_plans/, and the runtime guard the rig session
puts on the control channel for the folders its plans come from.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rig.simlink import PlanReachedControl, forbid_callers_under

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / "test_plans"
FORBIDDEN_MODULES = ("simlab", "rig.simlink")
FORBIDDEN_NAMES = {"SimControl", "SimlabProcess", "_control", "control", "endpoints"}


def offences(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for module in modules:
            if any(module == m or module.startswith(m + ".") for m in FORBIDDEN_MODULES):
                found.append(f"{path.name}:{node.lineno} imports {module}")
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            found.append(f"{path.name}:{node.lineno} uses .{node.attr}")
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            found.append(f"{path.name}:{node.lineno} uses {node.id}")
    return found


def test_no_plan_imports_simlab_or_reaches_the_control_channel():
    modules = sorted(PLANS.rglob("*.py"))
    assert modules
    assert [o for m in modules for o in offences(m)] == []


def test_the_static_check_catches_each_way_in(tmp_path):
    bad = tmp_path / "test_bad.py"
    bad.write_text(
        "import simlab.world\n"
        "from rig.simlink import SimControl\n"
        "from rig import simlink\n"
        "def test_x(clock, rig):\n"
        "    clock._control.set('firmware.cell_ov.delay_s', 9)\n"
        "    rig.control.truth()\n"
    )
    assert len(offences(bad)) >= 5


def test_runtime_guard_refuses_plan_code_and_lets_the_clock_through(tmp_path):
    from rig.clock import VirtualClock
    from rig.simlink import SimControl
    from simlab.lab import Lab  # the test's own lab (tests may talk to simlab; plans not)

    plan = tmp_path / "plans" / "test_sneaky.py"
    plan.parent.mkdir()
    source = (
        "def sneak(control):\n"
        "    return control.set('firmware.cell_ov.delay_s', 9.0)\n"
        "def nap(clock):\n"
        "    clock.sleep(0.5)\n"
    )
    plan_code: dict = {}
    exec(compile(source, str(plan), "exec"), plan_code)
    with Lab.from_station_file(REPO / "stations" / "sim-16s.yaml") as lab:
        control = SimControl(lab.endpoints["control"])
        clock = VirtualClock(control)
        forbid_callers_under(plan.parent)
        try:
            with pytest.raises(PlanReachedControl, match=r"test_sneaky.py:2 asked .* 'set'"):
                plan_code["sneak"](control)
            plan_code["nap"](clock)  # time through the clock: the one way a plan moves it
            assert clock.now() == pytest.approx(0.5)
        finally:
            forbid_callers_under()
        plan_code["sneak"](control)  # outside a run, code may talk to simlab again
        assert lab.get("firmware.cell_ov.delay_s") == 9.0
        control.close()
