"""What `rig run` prints while it runs: each measurement once, as it is taken, under the
plan that took it; a plan that did not pass, with why; a plan's own crash, once, as a
short traceback; and on a terminal a progress line at the bottom (plans done of total,
time elapsed, an estimate of the time left), redrawn whenever a line is printed.

`rig run` unregisters pytest's terminal reporter once it is configured (its options are
parsed by then, so `-q`, `-v`, `--tb` stay valid): its verbose lines, failure sections
and short summary would say everything a second and third time, with the rig's own code
in every traceback of a measured failure. pytest's own words still come through where
they matter: a usage error (`rig.plugin.launch`), a collection error (printed here,
once), an internal error (pytest prints it to stderr).

Plain `pytest test_plans/` keeps pytest's reporter; the plugin then prints measurements
through it (`rig.plugin.fixtures.Recorder`).
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any, TextIO

import pytest
from rich.console import Console
from rich.markup import escape

from rig.summary import measurement_line, plan_name


class RunConsole:
    """A pytest plugin object that owns the console of a `rig run`."""

    def __init__(self, config: pytest.Config, stream: TextIO | None = None):
        self.config = config
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.console = Console(file=self.stream, highlight=False, width=None if self.tty else 80,
                               soft_wrap=True)  # fmt: skip
        self.total = 0
        self.done = 0
        self.started = time.monotonic()  # real time: the progress line's elapsed and estimate
        self.current = ""
        self.headed = False  # the current plan's name is on screen
        self.outcome: dict[str, tuple[str, str]] = {}  # nodeid -> (outcome, reason)
        self._status_shown = False

    # -- writing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _uncaptured(self):
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if capture is None:
            yield
            return
        with capture.global_and_fixture_disabled():
            yield

    def _print(self, markup: str, style: str = "") -> None:
        with self._uncaptured():
            self._clear_status()
            self.console.print(markup, style=style, highlight=False)
            self._draw_status()

    def line(self, text: str, style: str = "") -> None:
        """Plain text (no markup), e.g. a safe-state failure or a station warning."""
        self._print(escape(text), style)

    def _clear_status(self) -> None:
        if self._status_shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._status_shown = False

    def _draw_status(self) -> None:
        if not self.tty or not self.total:
            return
        elapsed = time.monotonic() - self.started
        text = f"[{self.done}/{self.total} plans · {_clock(elapsed)} elapsed"
        if self.done:
            left = elapsed / self.done * (self.total - self.done)
            text += f" · about {_clock(left)} left"
        text += "]"
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()
        self._status_shown = True

    # -- what the rig tells it ---------------------------------------------------------

    def measurement(self, record: dict[str, Any]) -> None:
        self._head()
        self._print(measurement_line(record))

    def result(self, nodeid: str, when: str, outcome: str, reason: str, crash: str) -> None:
        """A plan's outcome as the rig records it; shown at once if it is not a pass."""
        if outcome == "passed":
            return
        self.outcome[nodeid] = (outcome, reason)
        self._head(nodeid)
        style = {"failed": "bold red", "skipped": "yellow"}.get(outcome, "bold magenta")
        word = {"failed": "FAILED", "skipped": "SKIPPED", "error": "ERROR"}.get(
            outcome, outcome.upper()
        )
        phase = "" if when == "call" else f" in {when}"
        lines = [ln for ln in reason.strip().splitlines() if ln.strip()] or [""]
        if lines[0].startswith("measurement(s) out of specification"):
            return  # its FAIL lines above say it all
        if crash:  # the plan's own code broke: where, once (its last line is the error)
            self._print(f"  [{style}]→ {word}{phase}[/{style}], where the plan broke:")
            self._print(escape(crash.rstrip()), "dim")
            return
        self._print(f"  [{style}]→ {word}{phase}[/{style}]: {escape(lines[0])}")
        for extra in lines[1:4]:
            self._print(f"      {escape(extra)}")

    def _head(self, nodeid: str | None = None) -> None:
        nodeid = nodeid or self.current
        if self.headed and nodeid == self.current:
            return
        self.current, self.headed = nodeid, True
        self._print(f"[bold]{escape(plan_name(nodeid))}[/bold]")

    # -- pytest hooks ------------------------------------------------------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)
        self.started = time.monotonic()
        deselected = len(session.config.stash.get(_DESELECTED, []))
        extra = f" ({deselected} not selected)" if deselected else ""
        self._print(f"{self.total} plan(s) to run{extra}")

    def pytest_deselected(self, items) -> None:
        self.config.stash.setdefault(_DESELECTED, []).extend(items)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._print(f"[bold red]could not collect {escape(report.nodeid or 'the plans')}:"
                        "[/bold red]")  # fmt: skip
            self._print(escape(report.longreprtext.rstrip()), "dim")

    def pytest_runtest_logstart(self, nodeid: str, location) -> None:
        self.current, self.headed = nodeid, False

    def pytest_runtest_logfinish(self, nodeid: str, location) -> None:
        self.done += 1
        with self._uncaptured():
            self._draw_status()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        with self._uncaptured():
            self._clear_status()


_DESELECTED = pytest.StashKey[list]()


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
