"""Two runs side by side, measurement by measurement: what a firmware change moved.

Measurements are matched by plan, name and order within the plan. A difference counts
only when it is larger than the two results' combined expanded uncertainty,
U = √(U_A² + U_B²), since smaller ones are what the method cannot tell apart. A result
recorded without an uncertainty (runs older than budgets) is given the one its
resolution alone implies, a rectangular bracket of that width expanded with k = 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reports import numbers
from reports.load import RunData, load_run


@dataclass
class Row:
    test: str
    name: str
    a: dict[str, Any] | None
    b: dict[str, Any] | None
    delta: float | None = None
    u: float | None = None  # combined expanded uncertainty of the difference
    beyond: bool = False  # the difference exceeds u, or a value appeared or vanished
    verdict_change: str = ""

    @property
    def plan(self) -> str:
        return self.test.split("::")[-1].removeprefix("test_")

    @property
    def status(self) -> str:
        if self.a is None:
            return "only in B"
        if self.b is None:
            return "only in A"
        if self.beyond:
            return "changed beyond U"
        if self.delta:
            return "within U"
        return "same"


@dataclass
class Comparison:
    a: RunData
    b: RunData
    rows: list[Row]
    identity: list[tuple[str, str, str]] = field(default_factory=list)  # what, in A, in B

    @property
    def significant(self) -> list[Row]:
        return [r for r in self.rows if r.beyond or r.verdict_change]

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)


def expanded_u(m: dict[str, Any]) -> float:
    u = m.get("uncertainty")
    if isinstance(u, int | float) and u > 0:
        return float(u)
    res = m.get("resolution")
    if isinstance(res, int | float) and res > 0:
        return 2.0 * res / (2.0 * math.sqrt(3.0))
    return 0.0


def compare_runs(run_a: Path, run_b: Path) -> Comparison:
    a, b = load_run(run_a), load_run(run_b)
    index_a, index_b = _index(a), _index(b)
    rows = []
    for key in list(index_a) + [k for k in index_b if k not in index_a]:
        rows.append(_row(key[0], key[1], index_a.get(key), index_b.get(key)))
    return Comparison(a, b, rows, _identity(a, b))


def _index(run: RunData) -> dict[tuple[str, str, int], dict[str, Any]]:
    out: dict[tuple[str, str, int], dict[str, Any]] = {}
    seen: dict[tuple[str, str], int] = {}
    for m in run.of_type("measurement"):
        base = (str(m.get("test", "")), str(m.get("name", "")))
        seen[base] = seen.get(base, 0) + 1
        out[(*base, seen[base])] = m
    return out


def _row(test: str, name: str, a: dict | None, b: dict | None) -> Row:
    row = Row(test, name, a, b)
    if a is None or b is None:
        row.beyond = True
        return row
    va, vb = a.get("value"), b.get("value")
    if a.get("verdict") != b.get("verdict"):
        row.verdict_change = f"{a.get('verdict')} → {b.get('verdict')}"
    if va is None or vb is None:
        row.beyond = (va is None) != (vb is None)
        return row
    row.delta = vb - va
    row.u = math.hypot(expanded_u(a), expanded_u(b))
    tolerance = row.u if row.u > 0 else 1e-12 * max(abs(va), abs(vb), 1.0)
    row.beyond = abs(row.delta) > tolerance
    return row


def _identity(a: RunData, b: RunData) -> list[tuple[str, str, str]]:
    da, db = a.last("dut") or {}, b.last("dut") or {}
    sa, sb = a.first("run_start") or {}, b.first("run_start") or {}
    return [
        ("run", a.run_id, b.run_id),
        ("verdict", str(a.summary.verdict), str(b.summary.verdict)),
        ("DUT model", str(da.get("hardware", "")), str(db.get("hardware", ""))),
        ("DUT serial", str(da.get("serial", "")), str(db.get("serial", ""))),
        ("DUT firmware", str(da.get("firmware", "")), str(db.get("firmware", ""))),
        ("station", str(sa.get("station", "")), str(sb.get("station", ""))),
        ("spec", str(sa.get("spec_file", "")), str(sb.get("spec_file", ""))),
    ]


def print_comparison(c: Comparison, console: Console, show_all: bool = False) -> int:
    """The table of what changed (every row with `show_all`), then a summary line; 1 if
    anything changed beyond U or changed verdict."""
    ident = Table(show_header=True, box=None, pad_edge=False)
    for col in ("", "A", "B"):
        ident.add_column(col)
    for what, va, vb in c.identity:
        style = "bold yellow" if va != vb and what not in ("run",) else ""
        ident.add_row(what, escape(va or "—"), escape(vb or "—"), style=style)
    console.print(ident)
    table = Table(title="measurements, A → B", show_lines=False)
    table.add_column("plan / measurement", overflow="fold", ratio=3)
    table.add_column("A", justify="right", no_wrap=True)
    table.add_column("B", justify="right", no_wrap=True)
    table.add_column("Δ ± U", justify="right", no_wrap=True)
    table.add_column("change", overflow="fold", ratio=2)
    shown = [r for r in c.rows if show_all or r.status != "same" or r.verdict_change]
    for r in shown:
        ref = r.a or r.b or {}
        m_ref, factor = numbers.scaled(ref)
        unit = m_ref.get("unit", "")
        d = numbers.uncertainty_decimals(r.u * factor) if r.u else None
        change = r.status + (f"; verdict {r.verdict_change}" if r.verdict_change else "")
        style = ""
        if r.verdict_change and r.b is not None and r.b.get("verdict") != "pass":
            style = "bold red"
        elif r.beyond or r.verdict_change:
            style = "bold yellow"
        delta = ""
        if r.delta is not None:
            delta = f"{numbers.fixed(r.delta * factor, d)}"
            delta += f" ± {numbers.fixed(r.u * factor, d)}" if r.u else ""
            delta += f" {unit}"
        table.add_row(
            f"{escape(r.plan)}\n  {escape(r.name)}",
            _side(r.a, factor, unit),
            _side(r.b, factor, unit),
            delta,
            escape(change),
            style=style,
        )
    if shown:
        console.print(table)
    hidden = len(c.rows) - len(shown)
    if hidden:
        console.print(f"{hidden} measurement(s) the same in both runs are not listed "
                      "(--all lists them)")  # fmt: skip
    both = len(c.rows) - c.count("only in A") - c.count("only in B")
    verdicts = sum(1 for r in c.rows if r.verdict_change)
    console.print(
        f"{both} measurement(s) in both runs: {c.count('changed beyond U')} changed beyond "
        f"their combined uncertainty, {c.count('within U')} within it, {c.count('same')} the "
        f"same; {verdicts} verdict(s) changed; {c.count('only in A')} only in A, "
        f"{c.count('only in B')} only in B"
    )
    return 1 if c.significant else 0


VERDICT_WORD = {"pass": "pass", "fail": "FAIL", "conditional": "COND"}


def _side(m: dict[str, Any] | None, factor: float, unit: str) -> str:
    if m is None:
        return "—"
    shown = dict(m)
    for key in numbers.SCALED_KEYS:
        if isinstance(m.get(key), int | float):
            shown[key] = m[key] * factor
    value = numbers.value_text(shown)
    verdict = VERDICT_WORD.get(str(m.get("verdict")), str(m.get("verdict", "?")))
    return f"{value} {unit} {verdict}" if value != numbers.DASH else f"no value {verdict}"
