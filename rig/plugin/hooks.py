"""pytest hooks: markers, cells, the session's open and finish, each plan's start and outcome.

Every plan leaves two records: `test_start` (its docstring, protection and clauses) when
it begins, and `test_result` for each phase that did not simply pass, plus its call. A
plan cut off by a signal gets `outcome: interrupted`; a plan whose code raised something
other than an assertion or `pytest.fail` is `error` (broken: an instrument, the DUT, the
plan itself), never `failed`, and never passed.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from instruments.errors import InstrumentConnectionError, InstrumentReplyError, InstrumentTimeout
from rig.config import ConfigError
from rig.interlock import InterlockOpen
from rig.plugin.markers import MARKERS, STATION_ROLES, standard_markers
from rig.plugin.options import add_options
from rig.plugin.session import RigSession
from rig.recovery import DutUnreachable
from rig.safety import SIGNALS
from rig.simlink import SimlabError
from rig.watchdog import WatchdogTrip

session_key = pytest.StashKey[RigSession]()
_owns_signals = pytest.StashKey[bool]()

__all__ = [
    "pytest_addoption",
    "pytest_collection_finish",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_runtest_makereport",
    "pytest_runtest_protocol",
    "pytest_runtest_setup",
    "pytest_runtest_teardown",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "pytest_terminal_summary",
    "pytest_unconfigure",
    "session_key",
]

CRASH_FRAMES = 6  # the innermost frames of a plan's crash shown on the console
REASON_LINES = 12  # a reason is the assertion or exception line, not the traceback
# What a driver raises once its retries are spent: the instrument is out of reach.
INSTRUMENT_LOST = (
    InstrumentConnectionError,
    InstrumentTimeout,
    InstrumentReplyError,
    DutUnreachable,  # the BMS silent through its whole recovery, power cycle included
)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(trylast=True)  # after pytest's reporter is configured: it is replaced
def pytest_configure(config: pytest.Config) -> None:
    for marker, doc in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {doc}")
    rig = RigSession(config)
    config.stash[session_key] = rig
    config.stash[_owns_signals] = SIGNALS.install()
    rig.say = lambda text: _say(config, text)
    config.pluginmanager.register(BeforePlan(), "rig-before-plan")
    if rig.forced and not config.option.collectonly:
        _take_the_console(config, rig)
    if rig.forced and not config.option.collectonly and rig.wants_simlab():
        rig.spawn_simlab()  # `rig run`: simlab boots while pytest starts and collects


class BeforePlan:
    """A plain setup hook, inside every wrapper (theirs are set up, so a step that is not
    done fails the setup cleanly) and before pytest sets up the plan's fixtures (nothing
    driven yet): the plan's manual steps, and the interlock read closed."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        item.config.stash[session_key].before_plan(item)


def pytest_unconfigure(config: pytest.Config) -> None:
    config.stash[session_key].abandon()  # pytest skips sessionfinish if sessionstart broke
    if config.stash.get(_owns_signals, False):
        SIGNALS.uninstall()


def _take_the_console(config: pytest.Config, rig: RigSession) -> None:
    """`rig run`: the rig's console in place of pytest's reporter (rig.plugin.console).
    The reporter is unregistered once configured, so its options (-q, -v, --tb, -r) are
    still pytest's to parse, and it says nothing a second time."""
    from rig.plugin.console import RunConsole

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        config.pluginmanager.unregister(reporter)
    rig.console = RunConsole(config)
    config.pluginmanager.register(rig.console, "rig-console")
    rig.say = lambda text: rig.console.line(text, "bold red")


def _say(config: pytest.Config, text: str) -> None:
    """A line on the console now, whatever pytest is capturing."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        print(text)
        return
    if capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(text, red=True, bold=True)
    else:
        reporter.write_line(text, red=True, bold=True)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A plan taking `cell` runs once per cell position the spec puts under test, one
    taking `ntc` once per NTC input."""
    for name, attr in (("cell", "cells_under_test"), ("ntc", "ntcs_under_test")):
        if name in metafunc.fixturenames:
            rig = metafunc.config.stash[session_key]
            try:
                chosen = getattr(rig.spec, attr)
            except ConfigError as exc:
                raise pytest.UsageError(str(exc)) from None
            metafunc.parametrize(name, chosen, ids=[f"{name}{c}" for c in chosen])


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """`rig run`: the configuration checked and simlab started before pytest collects,
    so a usage error is the run's one message, ahead of any banner."""
    rig = session.config.stash[session_key]
    if rig.forced and not session.config.option.collectonly:
        try:
            rig.prepare()
        except SimlabError as exc:  # it crashed as it started: its words, not a traceback
            pytest.exit(f"rig run: {exc}", returncode=pytest.ExitCode.INTERNAL_ERROR)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Selectable markers per protection and standard; plans the DUT cannot serve dropped.

    Runs before pytest's own `-m` selection, so `-m cell_ov` sees the derived markers. A
    plan that `needs` a capability the station's BMS protocol lacks is not applicable to
    this DUT, and one that `needs` a station role the station file does not wire
    (thermistors, digitizer, short) is not applicable to this bench: it is deselected and
    listed as such in the results store, not skipped (a skipped plan would make the run
    incomplete).
    """
    rig = config.stash[session_key]
    capabilities = rig.protocol_capabilities()
    roles = rig.station_roles()
    unstated = rig.unstated_protections()
    keep, dropped = [], []
    for item in items:
        protections = [str(m.args[0]) for m in item.iter_markers("protection")]
        for name in protections:
            item.add_marker(name)
        clauses = [str(ref) for mark in item.iter_markers("clause") for ref in mark.args]
        for name in standard_markers(clauses):
            item.add_marker(name)
        needs = {str(c) for mark in item.iter_markers("needs") for c in mark.args}
        unwired = sorted((needs & STATION_ROLES) - roles) if roles is not None else []
        needs -= STATION_ROLES
        missing = sorted(needs - capabilities) if capabilities is not None else []
        why = ""
        if unwired:
            why = f"the station has no {', '.join(unwired)} wired"
        elif missing:
            why = f"the DUT's protocol does not provide {', '.join(missing)}"
        elif unstated & set(protections):
            why = f"the DUT spec states no {', '.join(sorted(unstated & set(protections)))}"
        elif empty := [p for m in item.iter_markers("spec_states") for p in m.args
                       if not _spec_value(rig.spec, str(p))]:  # fmt: skip
            why = f"the DUT spec states no {', '.join(empty)}"
        else:
            carried = [str(a) for m in item.iter_markers("carries") for a in m.args]
            unfit = rig.unfit(protections + carried)
            if unfit:
                why = f"the bench cannot carry it: {unfit}"
        if why:
            dropped.append(item)
            rig.not_applicable.append((item.nodeid, why))
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def _spec_value(spec: object, path: str) -> object:
    """The spec's setting at a dotted `path` (None where a section is absent)."""
    value = spec
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _check_operator_steps(item: pytest.Item) -> None:
    """`operator_step(id, text, timeout_s=None)` as declared, or a usage error now."""
    import re

    for mark in item.iter_markers("operator_step"):
        args, extra = mark.args, set(mark.kwargs) - {"timeout_s"}
        timeout = mark.kwargs.get("timeout_s")
        ok = (
            len(args) == 2
            and all(isinstance(a, str) and a.strip() for a in args)
            and re.match(r"^[A-Za-z0-9_-]{1,40}$", args[0]) is not None
            and not extra
            and (timeout is None or (isinstance(timeout, int | float) and timeout > 0))
        )
        if not ok:
            raise pytest.UsageError(
                f"{item.nodeid}: operator_step takes (id, text, timeout_s=None): an id of "
                f"letters, digits, '-' or '_', a text, a timeout in seconds > 0; got "
                f"{mark.args!r} {mark.kwargs!r}"
            )


def pytest_collection_finish(session: pytest.Session) -> None:
    """Before any plan runs: the configuration checked, simlab started, the store opened."""
    config = session.config
    if config.option.collectonly:
        return
    rig = config.stash[session_key]
    items = session.items
    if items and rig.wanted(items):
        try:
            for item in items:
                _check_operator_steps(item)
        except pytest.UsageError:
            rig.abandon()  # nothing ran: no run folder, simlab stopped
            raise
        rig.open(items)
        _announce_long(config, rig, items)


def _announce_long(config: pytest.Config, rig: RigSession, items: list[pytest.Item]) -> None:
    """Before the first plan: the selected plans that take hours of bench time (`long`),
    with the duration each one's `estimate` gives from the spec, on the console and in
    the store (`duration_estimate`)."""
    plans: dict[str, float | None] = {}
    for item in items:
        mark = item.get_closest_marker("long")
        if mark is None:
            continue
        estimate = mark.kwargs.get("estimate")
        try:
            plans[item.nodeid] = float(estimate(rig.spec)) if callable(estimate) else None
        except Exception:  # an estimate that cannot be made is said, not fatal
            plans[item.nodeid] = None
    if not plans:
        return
    known = [s for s in plans.values() if s is not None]
    total = sum(known)
    rig.record({"type": "duration_estimate", "plans": plans, "total_s": total})
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None and rig.console is None:
        return
    from rig.summary import hours

    shown = "; ".join(
        f"{test.split('::')[-1]} {hours(s)}" if s is not None else f"{test.split('::')[-1]} ?"
        for test, s in plans.items()
    )
    simulated = " (virtual time here)" if rig.wants_simlab() else ""
    head = f"long plans: {len(plans)}, about {hours(total)} of bench time{simulated}"
    if rig.console is not None:  # `rig run`: its own console, 80 columns
        import textwrap

        items = shown.replace(" ", "\xa0").replace(";\xa0", "; ")  # a plan beside its hours
        for line in textwrap.wrap(f"{head}: {items}", 80, subsequent_indent="  ",
                                  break_on_hyphens=False):  # fmt: skip
            rig.console.line(line.replace("\xa0", " "))
    else:
        reporter.write_line(f"{head}: {shown}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[Any]:
    rig = item.config.stash[session_key]
    rig.test_started(item)
    try:
        result = yield
    except KeyboardInterrupt as exc:
        sig = SIGNALS.first
        if isinstance(exc, InterlockOpen):
            why = str(exc)
        else:
            why = sig.name if sig is not None else "KeyboardInterrupt"
        rig.test_interrupted(item, why)
        raise
    rig.current = None
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """The plan's fixtures set up; from here to its teardown the watchdog looks on."""
    rig = item.config.stash[session_key]
    rig.phase = "setup"
    result = yield
    if rig.started:
        rig.arm_watchdog()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Every test ends with the station safe; a step that failed errors the test.

    After pytest's own teardown of the plan's fixtures (a failure raised before it would
    leave them standing and break the next plan's setup), and whatever that teardown did.
    """
    rig = item.config.stash[session_key]
    rig.phase = "teardown"
    rig.disarm_watchdog()
    try:
        result = yield
    finally:
        failures = rig.make_safe(f"end of {item.nodeid}")
    if failures:
        listed = "; ".join(f"{f.action}: {f.error}" for f in failures)
        raise RuntimeError(f"station not fully safe after {item.nodeid}: {listed}")
    return result


def _outcome(report: pytest.TestReport, call: pytest.CallInfo[None]) -> str:
    if report.passed:
        return "passed"
    if report.skipped:
        return "skipped"
    if report.when != "call":
        return "error"
    excinfo = call.excinfo
    if excinfo is None or excinfo.errisinstance((AssertionError, pytest.fail.Exception)):
        return "failed"
    if excinfo.errisinstance(WatchdogTrip):
        return "aborted"  # the station stopped it at its limits: not measured, not passed
    return "error"  # the plan broke (instrument, DUT, code): not a verdict on the DUT


def _reason(report: pytest.TestReport, call: pytest.CallInfo[None]) -> str:
    """One readable line or a few: the skip reason, the assertion, the exception line."""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    excinfo = call.excinfo
    if excinfo is not None:
        if excinfo.errisinstance(pytest.fail.Exception):
            text = str(excinfo.value.msg if hasattr(excinfo.value, "msg") else excinfo.value)
        else:
            text = excinfo.exconly().strip()
    else:
        text = str(report.longrepr or "")
    lines = text.splitlines()
    if len(lines) > REASON_LINES:
        lines = [*lines[:REASON_LINES], f"... ({len(lines) - REASON_LINES} more lines)"]
    return "\n".join(lines)[:2000]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    """Each test's outcome goes to the store as it is known (setup/teardown only if they failed)."""
    report = yield
    rig = item.config.stash[session_key]
    # the phase that runs next, so a plan cut off by a signal is told in its phase
    rig.phase = {"setup": "call", "call": "teardown"}.get(report.when, rig.phase)
    lost = call.excinfo is not None and call.excinfo.errisinstance(INSTRUMENT_LOST)
    if lost and rig.opened and not rig.lost:
        # The link stayed down through its retries: no further plan is started on a bench
        # the rig cannot fully reach (the safe state runs over the links that remain).
        what = "the BMS" if call.excinfo.errisinstance(DutUnreachable) else "an instrument"
        rig.lost = f"{what} was lost: {call.excinfo.exconly().splitlines()[0]}"
        item.session.shouldfail = rig.lost
    if rig.opened and (report.when == "call" or not report.passed):
        outcome = _outcome(report, call)
        rig.record(
            {
                "type": "test_result",
                "test": report.nodeid,
                "when": report.when,
                "outcome": outcome,
                "duration_s": round(report.duration, 6),
                "reason": "" if outcome == "passed" else _reason(report, call),
                "longrepr": str(report.longrepr) if report.failed else "",
            }
        )
        if rig.console is not None and outcome != "passed":
            reason = _reason(report, call)
            crash = _crash(report, call, outcome)
            rig.console.result(report.nodeid, report.when, outcome, reason, crash)
    return report


def _crash(report: pytest.TestReport, call: pytest.CallInfo[None], outcome: str) -> str:
    """Where the plan's own code broke, for the console: a short traceback, never for a
    measured outcome (a verdict, a skip, the watchdog) nor for an instrument or the BMS
    lost (their typed error says which, and the reason line carries it)."""
    excinfo = call.excinfo
    if outcome not in ("error", "failed") or excinfo is None or not report.failed:
        return ""
    if excinfo.errisinstance(pytest.fail.Exception) or excinfo.errisinstance(INSTRUMENT_LOST):
        return ""
    frames = [
        f
        for f in traceback.extract_tb(excinfo.tb)
        if not any(part in f.filename for part in ("/_pytest/", "/pluggy/", "/rig/plugin/"))
    ]
    lines = traceback.format_list(frames[-CRASH_FRAMES:])
    return "".join(lines) + excinfo.exconly()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Last: pytest's own session finish tears down the fixtures still set up (after an
    interrupt, the plan's), so their records land before the store closes."""
    session.config.stash[session_key].finish(exitstatus)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    rig = config.stash[session_key]
    if rig.opened:
        terminalreporter.write_line(
            f"rig: {rig.measurements} measurements, {rig.failed_measurements} not passed; "
            f"results in {rig.run_dir / 'results.jsonl'}"
        )
        ratio = _simulated_ratio(rig)
        if ratio:
            terminalreporter.write_line(ratio)


def _simulated_ratio(rig: RigSession) -> str:
    """The run's simulated time against its wall time, from its own store."""
    from rig.results import read_records
    from rig.summary import simulated_ratio

    try:
        ratio = simulated_ratio(list(read_records(rig.run_dir)))
    except Exception:
        return ""
    return f"rig: {ratio}" if ratio else ""
