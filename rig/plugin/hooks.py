"""pytest hooks: register markers, parametrize cells, record outcomes, make safe after each test."""

from __future__ import annotations

import pytest

from rig.config import ConfigError
from rig.plugin.markers import MARKERS
from rig.plugin.options import add_options
from rig.plugin.session import RigSession

session_key = pytest.StashKey[RigSession]()

__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_runtest_makereport",
    "pytest_runtest_teardown",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "session_key",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for marker, doc in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {doc}")
    config.stash[session_key] = RigSession(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A plan taking `cell` runs once per cell position the spec puts under test."""
    if "cell" in metafunc.fixturenames:
        rig = metafunc.config.stash[session_key]
        try:
            cells = rig.spec.test_conditions.cells_under_test
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        metafunc.parametrize("cell", cells, ids=[f"cell{c}" for c in cells])


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Every test ends with the station safe; a step that failed errors the test."""
    rig = item.config.stash[session_key]
    failures = rig.make_safe(f"end of {item.nodeid}")
    if failures:
        listed = "; ".join(f"{f.action}: {f.error}" for f in failures)
        raise RuntimeError(f"station not fully safe after {item.nodeid}: {listed}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """Each test's outcome goes to the store as it is known (setup/teardown only if they failed)."""
    report = yield
    rig = item.config.stash[session_key]
    if rig.started and (report.when == "call" or report.outcome != "passed"):
        rig.record(
            {
                "type": "test_result",
                "test": report.nodeid,
                "when": report.when,
                "outcome": report.outcome,
                "duration_s": round(report.duration, 6),
                "longrepr": str(report.longrepr) if report.failed else "",
            }
        )
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[session_key].finish(exitstatus)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    rig = config.stash[session_key]
    if rig.started:
        terminalreporter.write_line(
            f"rig: {rig.measurements} measurements, {rig.failed_measurements} failed; "
            f"results in {rig.run_dir / 'results.jsonl'}"
        )
