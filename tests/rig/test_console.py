"""The live console of `rig run`: a progress line on a terminal, none in a log."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rig.plugin.console import RunConsole


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _config():
    return SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: None))


M = {"name": "cell_ov_threshold", "value": 3.6506, "unit": "V", "uncertainty": 0.0029,
     "low": 3.625, "high": 3.675, "verdict": "pass"}  # fmt: skip


def test_a_terminal_gets_a_progress_line_that_each_line_clears():
    out = Tty()
    console = RunConsole(_config(), out)
    console.total = 4
    console.pytest_runtest_logstart("test_plans/test_cell_ov.py::test_a[cell1]", None)
    console.measurement(M)
    console.pytest_runtest_logfinish("test_plans/test_cell_ov.py::test_a[cell1]", None)
    text = out.getvalue()
    assert "[1/4 plans · 0:00 elapsed · about 0:00 left]" in text
    assert "\r\x1b[2K" in text  # cleared before the next line is written
    console.pytest_unconfigure(None)
    assert out.getvalue().endswith("\r\x1b[2K")  # nothing of it left behind


def test_a_log_gets_the_measurements_once_and_no_progress():
    out = io.StringIO()
    console = RunConsole(_config(), out)
    console.total = 1
    console.pytest_runtest_logstart("test_plans/test_cell_ov.py::test_a[cell1]", None)
    console.measurement(M)
    console.measurement(dict(M, name="cell_ov_release", value=3.4, verdict="conditional"))
    console.pytest_runtest_logfinish("test_plans/test_cell_ov.py::test_a[cell1]", None)
    lines = out.getvalue().splitlines()
    assert lines[0] == "test_cell_ov.py::test_a[cell1]"
    assert lines[1].split() == ["PASS", "cell_ov_threshold", "3.6506", "±", "0.0029", "V",
                                "3.625…3.675", "V"]  # fmt: skip
    assert lines[2].split()[0] == "COND" and len(lines) == 3
    assert "\x1b" not in out.getvalue() and "plans ·" not in out.getvalue()
