"""The end-of-run summary, read back from the results store (what was written is shown).

What a person reads when a run ends, laid out for an 80-column terminal: the overall
verdict (from `summarize_records`, the same function that decides the exit code and the
reports) and why, the counts of plans and measurements, and every finding: each plan
that did not pass with the measurements that did not pass in it. The passing
measurements were printed as they were taken; `rig run --table` prints them all again
in one table (`render_table`).
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from rig.results.store import read_store
from rig.results.units import prefix_scale
from rig.results.verdict import RunSummary, RunVerdict, exit_code, summarize_records

WIDTH = 80
NAME_W = 34
FINDINGS_SHOWN = 12  # plans listed under "Findings"; the rest are counted, the report has all

_VERDICT_STYLE = {"pass": "green", "fail": "bold red", "conditional": "yellow"}
_VERDICT_WORD = {"pass": "PASS", "fail": "FAIL", "conditional": "COND"}
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
_OUTCOME_WORD = {
    "passed": "PASSED",
    "failed": "FAILED",
    "error": "ERROR",
    "aborted": "ABORTED",
    "interrupted": "INTERRUPTED",
    "skipped": "SKIPPED",
    "unfinished": "NOT FINISHED",
    "not run": "NOT RUN",
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
    text = f"{value:.4g}" if places is None else f"{value:.{places}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def _times(x: Any, k: float) -> float | None:
    return x * k if isinstance(x, int | float) else None


def measured(m: dict[str, Any]) -> str:
    """`3.6512 ± 0.0021 V`, or to the resolution without an uncertainty: never 3.05000001.
    A measurement without a value says why, in the plan's words (its note), if it can."""
    k, unit = prefix_scale(m)
    value = _times(m.get("value"), k)
    if value is None:
        return "no value"
    u = _times(m.get("uncertainty"), k) or 0.0
    if u:
        places = _places(u)
        return f"{number(value, u)} ± {u:.{places}f} {unit}".rstrip()
    return f"{number(value, _times(m.get('resolution'), k))} {unit}".rstrip()


def limits(m: dict[str, Any]) -> str:
    """The acceptance limits as the spec states them (3.625…3.675 V, ≤ 400 µs)."""
    k, unit = prefix_scale(m)
    low, high = _times(m.get("low"), k), _times(m.get("high"), k)

    def clean(x: float | None) -> str:
        return "—" if x is None else f"{x:.6g}".replace("-", "−")

    if m.get("comparison") == "EQ":
        return f"= {clean(low)} {unit}".rstrip()
    if low is None and high is None:
        return "(recorded)"
    if low is None:
        return f"≤ {clean(high)} {unit}".rstrip()
    if high is None:
        return f"≥ {clean(low)} {unit}".rstrip()
    return f"{clean(low)}…{clean(high)} {unit}".rstrip()


def verdict_word(m: dict[str, Any]) -> tuple[str, str]:
    verdict = str(m.get("verdict", "fail"))
    return _VERDICT_WORD.get(verdict, verdict.upper()), _VERDICT_STYLE.get(verdict, "bold")


def measurement_line(m: dict[str, Any], indent: int = 4) -> str:
    """One measurement as console markup: verdict first, so a column of them scans."""
    word, style = verdict_word(m)
    name = str(m.get("name", "?"))
    # the value in its column, the limits flush with the 80th: a long name or a two-sided
    # band to four places (3.6245…3.6755 V) takes the space between, never the margin
    head = f"{name:<{NAME_W}} {measured(m)}"
    bounds = limits(m)
    gap = max(1, WIDTH - indent - 5 - len(head) - len(bounds))
    text = f"{head}{' ' * gap}{bounds}"
    if m.get("value") is None and m.get("note"):
        text += f"  ({m['note']})"
    return f"{' ' * indent}[{style}]{word:<4}[/{style}] {escape(text)}"


def plan_name(test: str) -> str:
    """A plan as the console names it: its module and function, without the plans folder."""
    return test.split("/")[-1]


def _wrapped(console: Console, text: str, indent: str, style: str = "") -> None:
    lines = textwrap.wrap(text, WIDTH - len(indent), subsequent_indent="  ") or [""]
    for line in lines:
        console.print(f"{indent}{escape(line)}", style=style, highlight=False)


def render(summary: RunSummary, run_dir: Path, console: Console) -> None:
    """The verdict, the counts and the findings, in at most 80 columns."""
    start = summary.run_start or {}
    title = f"Run {run_dir.name}"
    if start.get("station"):
        title += f" · station {start['station']}"
    if start.get("dut_name"):
        title += f" · {start['dut_name']}"
    console.print()
    _wrapped(console, title, "", "bold")
    style = _RUN_STYLE[summary.verdict]
    code = exit_code(summary)
    console.print(
        f"Overall verdict: [{style}]{summary.verdict.value}[/{style}] (exit code {code})",
        highlight=False,
    )
    for reason in summary.reasons:
        _wrapped(console, f"- {reason}", "  ")
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
    console.print(f"Plans: {counts['plans']} ({plans or 'none'})", highlight=False)
    console.print(f"Measurements: {counts['measurements']} ({verdicts or 'none'})", highlight=False)
    findings = [
        p for p in summary.plans if p.outcome != "passed" or any(v != "pass" for v in p.verdicts)
    ]
    if findings:
        console.print(f"Findings ({len(findings)} plan(s) not PASS):", style="bold",
                      highlight=False)  # fmt: skip
        for plan in findings[:FINDINGS_SHOWN]:
            _finding(plan, console)
        if len(findings) > FINDINGS_SHOWN:
            console.print(
                f"  … and {len(findings) - FINDINGS_SHOWN} more (the report's §1 lists all; "
                "rig run --table prints every measurement)",
                highlight=False,
            )
    console.print(f"results: {escape(str(run_dir / 'results.jsonl'))}", highlight=False)


def _finding(plan, console: Console) -> None:
    ostyle = _OUTCOME_STYLE.get(plan.outcome, "bold")
    word = _OUTCOME_WORD.get(plan.outcome, plan.outcome.upper())
    name = plan_name(plan.test)
    pad = max(1, WIDTH - 2 - len(word) - 1 - len(name))
    if pad == 1 and len(name) + len(word) + 3 > WIDTH:
        name = name.split("::", 1)[-1]
        pad = max(1, WIDTH - 2 - len(word) - 1 - len(name))
    console.print(f"  {escape(name)}{' ' * pad}[{ostyle}]{word}[/{ostyle}]", highlight=False)
    for m in plan.measurements:
        if m.get("verdict") != "pass":
            console.print(measurement_line(m, indent=4), highlight=False, soft_wrap=True)
    if plan.outcome != "passed" and plan.reason.strip():
        first = plan.reason.strip().splitlines()[0]
        if not first.startswith("measurement(s) out of specification"):
            _wrapped(console, first, "    ", "dim")


def render_table(summary: RunSummary, console: Console) -> None:
    """Every plan and every measurement, one line each (`rig run --table`)."""
    head = f"{'plan / measurement':<{NAME_W + 8}}value"
    console.print(f"{head}{'limits':>{WIDTH - len(head)}}", style="dim", highlight=False)
    for plan in summary.plans:
        ostyle = _OUTCOME_STYLE.get(plan.outcome, "bold")
        word = _OUTCOME_WORD.get(plan.outcome, plan.outcome.upper())
        name = plan_name(plan.test)
        pad = max(1, WIDTH - len(word) - len(name))
        console.print(f"{escape(name)}{' ' * pad}[{ostyle}]{word}[/{ostyle}]", highlight=False)
        for m in plan.measurements:
            console.print(measurement_line(m, indent=2), highlight=False, soft_wrap=True)


def folder_size(folder: Path) -> tuple[int, int]:
    """Bytes and files under `folder`, a file linked twice (a plot in Allure's results)
    counted once."""
    seen: set[tuple[int, int]] = set()
    total = files = 0
    for path in folder.rglob("*"):
        try:
            st = path.lstat()
        except OSError:
            continue
        if not path.is_file() or (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        total += st.st_size
        files += 1
    return total, files


def say_size(run_dir: Path, console: Console) -> None:
    size, files = folder_size(run_dir)
    console.print(f"run folder: {size / 1e6:.1f} MB in {files} files", highlight=False)


def summarize(run_dir: Path, console: Console, *, table: bool = False) -> RunSummary:
    """Read the run's store, print its summary, and return it (its verdict, exit code)."""
    contents = read_store(run_dir)
    summary = summarize_records(contents.records, torn=contents.torn is not None)
    if table:
        render_table(summary, console)
    render(summary, run_dir, console)
    ratio = simulated_ratio(contents.records)
    if ratio:
        console.print(ratio, highlight=False)
    return summary


def simulated_ratio(records: list[dict[str, Any]]) -> str:
    """The run's simulated time against its wall time (simlab's time at the end, in
    `sim_truth`; the wall time from `run_start` to `run_end`); "" on a real bench."""
    start = end = simulated = None
    for rec in records:
        kind = rec.get("type")
        if kind == "run_start":
            start = rec.get("started")
        elif kind == "run_end":
            end = rec.get("ended")
        elif kind == "sim_truth":
            simulated = (rec.get("truth") or {}).get("t")
    if not isinstance(simulated, int | float) or start is None or end is None or end <= start:
        return ""
    wall = end - start
    return (
        f"simulated {hours(simulated)} in {wall:.1f} s of wall time "
        f"({simulated / wall:,.0f} x real time)"
    )


def hours(seconds: float) -> str:
    """A bench duration as a person reads it: 2.2 h, 45 min."""
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"
