"""The end-of-run summary, read back from the results store (what was written is shown).

Laid out for an 80-column terminal: one line per plan with its outcome, one line per
measurement under it (value with its uncertainty, limits, verdict), the reason under a
plan that did not pass, then the overall verdict from `summarize_records`, the same
function that decides the exit code and the reports.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from rig.results.store import read_store
from rig.results.verdict import RunSummary, RunVerdict, exit_code, summarize_records

WIDTH = 80
NAME_W, VALUE_W, LIMITS_W = 26, 20, 19

_VERDICT_STYLE = {"pass": "green", "fail": "bold red", "conditional": "yellow"}
_OUTCOME_STYLE = {
    "passed": "green",
    "failed": "bold red",
    "error": "bold magenta",
    "aborted": "bold magenta",
    "interrupted": "bold yellow",
    "skipped": "yellow",
    "unfinished": "bold yellow",
    "not run": "yellow",
}
_RUN_STYLE = {
    RunVerdict.PASS: "bold green",
    RunVerdict.CONDITIONAL: "bold yellow",
    RunVerdict.INCOMPLETE: "bold yellow",
    RunVerdict.INTERRUPTED: "bold yellow",
    RunVerdict.ERROR: "bold magenta",
    RunVerdict.FAIL: "bold red",
}


def _places(step: float | None) -> int | None:
    """Decimal places that show `step` with two significant digits (GUM 7.2.6)."""
    if step is None or not math.isfinite(step) or step <= 0:
        return None
    return max(0, 1 - math.floor(math.log10(step)))


def number(value: float | None, step: float | None = None) -> str:
    if value is None:
        return "—"
    places = _places(step)
    return f"{value:.4g}" if places is None else f"{value:.{places}f}"


def measured(m: dict[str, Any]) -> str:
    """`3.6512 ± 0.0021 V`, or to the resolution without an uncertainty: never 3.05000001."""
    value, unit = m.get("value"), m.get("unit", "")
    if value is None:
        return "—"
    u = m.get("uncertainty") or 0.0
    if u:
        places = _places(u)
        return f"{value:.{places}f} ± {u:.{places}f} {unit}".rstrip()
    return f"{number(value, m.get('resolution'))} {unit}".rstrip()


def limits(m: dict[str, Any]) -> str:
    step = m.get("uncertainty") or m.get("resolution")
    low, high, unit = m.get("low"), m.get("high"), m.get("unit", "")
    if m.get("comparison") == "EQ":
        return f"= {number(low)} {unit}".rstrip()
    if low is None and high is None:
        return "(recorded)"
    if low is None:
        return f"≤ {number(high, step)} {unit}".rstrip()
    if high is None:
        return f"≥ {number(low, step)} {unit}".rstrip()
    return f"{number(low, step)}…{number(high, step)} {unit}".rstrip()


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render(summary: RunSummary, run_dir: Path, console: Console) -> None:
    start = summary.run_start or {}
    title = f"Run {run_dir.name}"
    if start.get("station"):
        title += f" · station {start['station']}"
    if start.get("dut_name"):
        title += f" · {start['dut_name']}"
    console.print(escape(_fit(title, WIDTH)), style="bold", highlight=False)
    header = (
        f"{'plan / measurement':<{NAME_W + 2}} {'value':<{VALUE_W}} {'limits':<{LIMITS_W}} verdict"
    )
    console.print(header, style="dim", highlight=False)
    for plan in summary.plans:
        name = plan.test.split("::")[-1]
        style = _OUTCOME_STYLE.get(plan.outcome, "bold")
        pad = WIDTH - len(plan.outcome) - 1
        console.print(
            f"{escape(_fit(name, pad)):<{pad}} [{style}]{plan.outcome}[/{style}]", highlight=False
        )
        for m in plan.measurements:
            verdict = str(m.get("verdict", "fail"))
            vstyle = _VERDICT_STYLE.get(verdict, "bold")
            console.print(
                f"  {escape(_fit(str(m.get('name', '?')), NAME_W)):<{NAME_W}} "
                f"{escape(_fit(measured(m), VALUE_W)):<{VALUE_W}} "
                f"{escape(_fit(limits(m), LIMITS_W)):<{LIMITS_W}} "
                f"[{vstyle}]{verdict.upper()}[/{vstyle}]",
                highlight=False,
            )
        if plan.outcome != "passed" and plan.reason:
            first = plan.reason.strip().splitlines()[0] if plan.reason.strip() else ""
            for line in textwrap.wrap(first, WIDTH - 4)[:3]:
                console.print(f"    {escape(line)}", style="dim", highlight=False)
    style = _RUN_STYLE[summary.verdict]
    code = exit_code(summary)
    console.print(
        f"Overall verdict: [{style}]{summary.verdict.value}[/{style}] (exit code {code})",
        highlight=False,
    )
    for reason in summary.reasons:
        for i, line in enumerate(textwrap.wrap(reason, WIDTH - 4)):
            console.print(f"  {'-' if i == 0 else ' '} {escape(line)}", highlight=False)
    counts = summary.counts()
    plans = ", ".join(
        f"{n} {k.removeprefix('plans_').replace('_', ' ')}"
        for k, n in counts.items()
        if k.startswith("plans_")
    )
    verdicts = ", ".join(
        f"{n} {k.removeprefix('measurements_')}"
        for k, n in counts.items()
        if k.startswith("measurements_")
    )
    console.print(
        f"{counts['plans']} plans ({plans or 'none'}); "
        f"{counts['measurements']} measurements ({verdicts or 'none'})",
        highlight=False,
    )
    console.print(f"results: {escape(str(run_dir / 'results.jsonl'))}", highlight=False)


def summarize(run_dir: Path, console: Console) -> RunSummary:
    """Read the run's store, print its summary, and return it (its verdict, exit code)."""
    contents = read_store(run_dir)
    summary = summarize_records(contents.records, torn=contents.torn is not None)
    render(summary, run_dir, console)
    return summary
