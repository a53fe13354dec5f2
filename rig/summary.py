"""The end-of-run table, read back from the results store (what was written is what is shown)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rig.results import read_records


def summarize(run_dir: Path, console: Console) -> dict[str, Any]:
    records = read_records(run_dir)
    measurements = [r for r in records if r.get("type") == "measurement"]
    results = [r for r in records if r.get("type") == "test_result"]
    table = Table(title=f"bms-rig run {run_dir.name}", show_lines=False)
    for col in ("test", "measurement", "value", "limits", "resolution", "verdict"):
        table.add_column(col, no_wrap=True)
    for m in measurements:
        value = "—" if m["value"] is None else f"{m['value']:.4g} {m['unit']}"
        limits = f"[{_f(m['low'])}, {_f(m['high'])}]"
        res = "" if m.get("resolution") is None else f"{m['resolution']:g}"
        style = {"pass": "green", "fail": "bold red"}.get(m["verdict"], "yellow")
        table.add_row(
            escape(m["test"].split("::")[-1].removeprefix("test_")),
            m["name"],
            value,
            escape(limits),
            res,
            f"[{style}]{m['verdict'].upper()}[/{style}]",
        )
    console.print(table)
    failed = [m for m in measurements if m["verdict"] != "pass"]
    broken = [r for r in results if r["outcome"] == "failed"]
    verdict = "PASS" if measurements and not failed and not broken else "FAIL"
    console.print(
        f"{len(measurements)} measurements, {len(failed)} not passed; "
        f"{len(broken)} test phase(s) failed. Overall verdict: "
        f"[{'green' if verdict == 'PASS' else 'bold red'}]{verdict}[/]"
    )
    console.print(f"results: {run_dir / 'results.jsonl'}")
    return {"measurements": len(measurements), "failed": len(failed), "verdict": verdict}


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"
