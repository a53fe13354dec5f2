"""JUnit XML for CI systems: one test case per plan, its measurements as properties.

Failed verdicts are `<failure>`, rig faults (an instrument or the DUT link broke, a plan
cut off) are `<error>`, skips are `<skipped>`, with the same split as Allure's failed and
broken. A run that did not end normally adds a failing "run completion" case, so a CI
job never shows green for a run that was killed halfway.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from reports.classify import allure_status
from reports.load import RunData
from reports.model import PlanSection, Report
from reports.numbers import clean


def write_junit(run: RunData, report: Report, path: Path) -> Path:
    plans = {p.test: p for p in run.summary.plans}
    cases = []
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total = 0.0
    for section in report.plans:
        status = allure_status(plans[section.test])
        case = _case(section, status)
        cases.append(case)
        counts["tests"] += 1
        key = {"failed": "failures", "broken": "errors", "skipped": "skipped"}.get(status)
        if key:
            counts[key] += 1
        total += section.duration_s or 0.0
    if not report.complete:
        case = ET.Element("testcase", classname="bms-rig.run", name="run completion", time="0")
        detail = "\n".join(
            report.verdict_reasons + [f"{d.kind}: {d.detail}" for d in report.deviations]
        )
        ET.SubElement(
            case, "error", message="the run did not end normally", type="Incomplete"
        ).text = detail
        cases.append(case)
        counts["tests"] += 1
        counts["errors"] += 1
    total = _session_s(run) or total  # the session's, as the console and the store say
    root = ET.Element(
        "testsuites",
        name=f"bms-rig {report.run_id}",
        time=f"{total:.3f}",
        **{k: str(v) for k, v in counts.items()},
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        name=f"bms-rig {report.station}",
        timestamp=_timestamp(run),
        hostname=report.host or "unknown",
        time=f"{total:.3f}",
        **{k: str(v) for k, v in counts.items()},
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("report_id", report.id),
        ("run_id", report.run_id),
        ("run_verdict", report.verdict),
        ("run_complete", str(report.complete).lower()),
        ("station", report.station),
        ("simulated", str(report.simulated).lower()),
        ("dut_model", report.dut["model"]),
        ("dut_serial", report.dut["serial"]),
        ("dut_firmware", report.dut["firmware"]),
        ("spec_file", report.spec_file),
        ("results_sha256", report.digest),
    ):
        ET.SubElement(props, "property", name=name, value=value)
    suite.extend(cases)
    ET.indent(root)
    tmp = path.with_suffix(".tmp.xml")
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, path)
    return path


def _case(p: PlanSection, status: str) -> ET.Element:
    module, _, name = p.test.rpartition("::")
    classname = module.removesuffix(".py").replace("/", ".") if module else "bms-rig"
    case = ET.Element(
        "testcase", classname=classname, name=name or p.test, time=f"{p.duration_s or 0:.3f}"
    )
    props = ET.SubElement(case, "properties")
    seen: dict[str, int] = {}
    for m in p.measurements:
        seen[m.name] = seen.get(m.name, 0) + 1
        key = m.name if seen[m.name] == 1 else f"{m.name}#{seen[m.name]}"
        rec = m.record
        for field, value in (  # SI units as recorded, float noise cut (7 significant digits)
            ("value", _num(rec.get("value"))),
            ("unit", rec.get("unit", "")),
            ("low", _num(rec.get("low"))),
            ("high", _num(rec.get("high"))),
            ("uncertainty", _num(rec.get("uncertainty"))),
            ("decision_rule", m.rule),
            ("verdict", m.verdict),
        ):
            ET.SubElement(props, "property", name=f"{key}.{field}", value=str(value))
    if not len(props):
        case.remove(props)
    message = p.category or p.outcome_label
    detail = _detail(p)
    if status == "failed":
        ET.SubElement(
            case, "failure", message=_first_line(detail) or message, type=message
        ).text = detail
    elif status == "broken":
        ET.SubElement(
            case, "error", message=_first_line(detail) or message, type=message
        ).text = detail
    elif status == "skipped":
        reason = p.reason or ("not run: the run stopped first" if p.outcome == "not run" else "")
        ET.SubElement(case, "skipped", message=reason or "skipped")
    return case


def _detail(p: PlanSection) -> str:
    lines = [
        f"{m.name} = {m.value} {m.unit}, limits {m.limits}: {m.verdict}"
        + (f" ({m.note})" if m.note else "")
        for m in p.measurements
        if m.verdict != "pass"
    ]
    if p.reason:
        lines.append(p.reason)
    if not lines and p.outcome in ("unfinished", "interrupted"):
        lines.append("the plan was cut off before it recorded a result")
    if not lines and not p.measurements:
        lines.append("the plan recorded no measurement")
    return "\n".join(lines)


def _first_line(text: str) -> str:
    return text.splitlines()[0][:200] if text else ""


def _num(x: object) -> str:
    return "" if x is None else clean(x) if isinstance(x, float) else str(x)


def _session_s(run: RunData) -> float | None:
    """The run's wall time from its store: run_start.started to run_end.ended (the plans'
    own times leave out their setup, teardown and the station's opening)."""
    start, end = run.first("run_start") or {}, run.summary.run_end or {}
    began, ended = start.get("started"), end.get("ended")
    if isinstance(began, int | float) and isinstance(ended, int | float) and ended >= began:
        return float(ended - began)
    return None


def _timestamp(run: RunData) -> str:
    start = run.first("run_start") or {}
    started = start.get("started")
    if isinstance(started, int | float):
        return datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds")
    return str(start.get("at") or "")
