"""What of a results record a browser may see.

The store is the run's full record, written for the lab's own files; the panel shows it
to whoever opens the page. So each record type the page uses is passed through a list
of the fields it needs, and nothing else: no file system paths (station and spec files,
`argv`, waveform files, serial ports in VISA resources), no simlab endpoints, no
tracebacks. A plan is named by its file and function, without the folders. Strings
that remain (a DUT's name, an instrument's identity, a reason) are still untrusted: the
page puts every one into the document as text, never as markup.
"""

from __future__ import annotations

import re
from typing import Any

FIELDS: dict[str, tuple[str, ...]] = {
    "run_start": (
        "run_id", "station", "location", "station_description", "laboratory", "tested_by",
        "dut_name", "simulated", "seed", "sim_sets", "sim_defects", "selected", "started",
        "interlock",
    ),
    "instrument": ("name", "model", "identity", "serial_expected", "calibration_due", "role",
                   "calibration_expired"),
    "dut": ("protocol", "hardware", "firmware", "serial", "production_date", "cell_count",
            "model", "manufacturer"),
    "station_check": ("check", "subject", "ok", "message", "severity"),
    "test_start": ("test", "doc", "protection", "clause"),
    "measurement": ("test", "name", "value", "unit", "low", "high", "comparison",
                    "uncertainty", "resolution", "verdict", "clause", "note", "evidence"),
    "test_result": ("test", "when", "outcome", "duration_s", "reason"),
    "recovery": ("test", "reason", "ready", "method", "waited_s", "status"),
    "safe_state": ("reason", "failures"),
    "not_applicable": ("test", "reason"),
    "error": ("stage", "error"),
    "prompt": ("prompt", "step", "text", "test", "timeout_s", "choices"),
    "prompt_result": ("prompt", "step", "test", "outcome", "answer", "by", "via",
                      "answered_at", "waited_s"),
    "interlock": ("state", "reason", "t", "test"),
    "run_end": ("ended", "interrupted", "signal", "reason", "measurements",
                "failed_measurements", "verdict", "exit_code", "verdict_reasons", "counts"),
}  # fmt: skip

# An absolute path's folders (POSIX or Windows): shown as its last part only; and the
# plans' folder before a plan's file.
_FOLDERS = re.compile(r"(?<![\w.:/-])(?:[A-Za-z]:)?[/\\](?:[^\s/\\:'\"(),]+[/\\])+")
_PLAN_FOLDERS = re.compile(r"(?<![\w/])(?:[\w.-]+/)+(?=test_\w*\.py\b)")


def scrub(value: Any) -> Any:
    """Folders of absolute paths removed from every string, in any nesting."""
    if isinstance(value, str):
        return _PLAN_FOLDERS.sub("", _FOLDERS.sub("", value))
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {str(k): scrub(v) for k, v in value.items()}
    return value


def plan_name(test: Any) -> Any:
    """`test_plans/test_cell_ov.py::test_x[cell3]` → `test_cell_ov.py::test_x[cell3]`."""
    if not isinstance(test, str):
        return test
    path, sep, rest = test.partition("::")
    return path.replace("\\", "/").rsplit("/", 1)[-1] + sep + rest


def public(record: dict[str, Any]) -> dict[str, Any] | None:
    """The record as the page may see it, or None for a record the page does not show."""
    kind = record.get("type")
    fields = FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        return None
    out: dict[str, Any] = {"type": kind, "at": record.get("at")}
    for name in fields:
        if name in record:
            out[name] = scrub(record[name])
    if "test" in out:
        out["test"] = plan_name(out["test"])
    if kind == "run_start":
        out["selected"] = [plan_name(t) for t in out.get("selected") or []]
    if kind == "measurement":
        from rig.summary import limits, measured  # as the console writes them (GUM 7.2.6)

        out["shown"], out["limits_shown"] = measured(record), limits(record)
        if isinstance(record.get("waveform"), str):
            out["plot"] = plot_name(record["waveform"])
    return out


def plot_name(waveform: str) -> str:
    """The plot's file name in the run's plots folder (reports.plot_files.plot_path)."""
    from reports.plot_files import plot_path

    return plot_path(waveform).rsplit("/", 1)[-1]
