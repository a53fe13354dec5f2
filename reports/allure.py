"""Allure results rebuilt from the results store, in allure-pytest's own format.

The objects are `allure_commons` model objects written by its `AllureFileLogger`, so the
folder is what allure-pytest itself would write and the Allure command-line tool renders
it (`allure generate runs/<id>/allure-results`). Each plan is one test result with
labels epic = standard, feature = protection, story = plan; each measurement is a step
with stimulus / measure / verdict sub-steps, the trip plot and the measurement record
attached; the SCPI and BMS transcripts of the plan's time window are attached to it.
Only verdict and assertion failures are "failed"; rig faults are "broken".
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import (
    ATTACHMENT_PATTERN,
    Attachment,
    Label,
    Parameter,
    StatusDetails,
    TestAfterResult,
    TestBeforeResult,
    TestResult,
    TestResultContainer,
    TestStepResult,
)
from allure_commons.types import AttachmentType, LabelType

from reports import classify
from reports.load import RunData
from reports.model import MeasurementRow, PlanSection, Report, standard_of

NAMESPACE = uuid.UUID("5b0f7d3e-8f7e-4d2a-9a57-2b1c6f1e0b10")  # bms-rig's uuid5 namespace
CATEGORIES = [
    (classify.DID_NOT_TRIP, ["failed"]),
    (classify.OUT_OF_TOLERANCE, ["failed"]),
    (classify.CONDITIONAL, ["failed"]),
    (classify.ASSERTION_FAILED, ["failed"]),
    (classify.INSTRUMENT_FAULT, ["broken"]),
    (classify.DUT_COMMUNICATION_FAULT, ["broken"]),
    (classify.INTERRUPTED, ["broken"]),
    (classify.ABORTED, ["broken"]),
    (classify.NOT_RUN, ["skipped"]),
    (classify.NO_MEASUREMENT, ["broken"]),
    (classify.OTHER_ERROR, ["broken"]),
]


def write_allure(run: RunData, report: Report, folder: Path) -> Path:
    logger = AllureFileLogger(str(folder), clean=True)
    writer = _Writer(run, report, logger)
    writer.folder = folder
    summaries = {p.test: p for p in run.summary.plans}
    children = [writer.plan(section, summaries[section.test]) for section in report.plans]
    writer.session(children)
    (folder / "environment.properties").write_text(_environment(report), encoding="utf-8")
    (folder / "categories.json").write_text(
        json.dumps(
            [
                {"name": name, "matchedStatuses": statuses, "messageRegex": f"(?s){_re(name)}:.*"}
                for name, statuses in CATEGORIES
            ],
            indent=2,
        ),
        encoding="utf-8",
    )
    return folder


class _Writer:
    def __init__(self, run: RunData, report: Report, logger: AllureFileLogger):
        self.run, self.report, self.logger = run, report, logger
        self.folder = Path(".")
        self.transcripts = {p.stem: _read_transcript(p) for p in run.transcripts()}
        starts = sorted(p.mono_start for p in report.plans if p.mono_start is not None)
        self.windows = starts
        self.results = {r["test"]: r for r in run.of_type("test_result") if "test" in r}

    def _id(self, *parts: str) -> str:
        return str(uuid.uuid5(NAMESPACE, "\x1f".join((self.report.run_id, *parts))))

    def attach_file(self, source: Path, name: str, kind: AttachmentType) -> Attachment:
        """The file linked into the results folder, not copied: a plot is kept once in
        the run folder however many views of it there are (a copy where links fail)."""
        file_name = ATTACHMENT_PATTERN.format(prefix=uuid.uuid4(), ext=kind.extension)
        try:
            os.link(source, self.folder / file_name)
        except OSError:
            self.logger.report_attached_file(str(source), file_name)
        return Attachment(name=name, source=file_name, type=kind.mime_type)

    def attach_text(self, body: str, name: str, kind: AttachmentType) -> Attachment:
        file_name = ATTACHMENT_PATTERN.format(prefix=uuid.uuid4(), ext=kind.extension)
        self.logger.report_attached_data(body, file_name)
        return Attachment(name=name, source=file_name, type=kind.mime_type)

    def plan(self, p: PlanSection, summary: Any) -> str:
        status = classify.allure_status(summary)
        result_rec = self.results.get(p.test, {})
        start = _ms_of(_start_record(self.run, p.test)) or _ms_of(result_rec)
        stop = _ms_of(result_rec) or start
        labels = [Label(LabelType.EPIC, std) for std in dict.fromkeys(map(standard_of, p.clauses))]
        labels += [
            Label(LabelType.FEATURE, p.protection),
            Label(LabelType.STORY, p.story),
            Label(LabelType.PARENT_SUITE, "bms-rig"),
            Label(LabelType.SUITE, p.protection),
            Label(LabelType.SUB_SUITE, p.test.split("::")[0]),
            Label(LabelType.HOST, self.report.host or "unknown"),
            Label(LabelType.FRAMEWORK, "bms-rig"),
            Label(LabelType.LANGUAGE, "python"),
        ]
        labels += [Label(LabelType.TAG, c) for c in p.clauses]
        if self.report.simulated:
            labels.append(Label(LabelType.TAG, "simulated"))
        steps, previous = [], start
        for i, m in enumerate(p.measurements):
            step = self.measurement(p, m, i, previous)
            previous = step.stop or previous
            steps.append(step)
        attachments = self.transcript_attachments(p)
        details = None
        if status != "passed":
            message = _message(p)
            details = StatusDetails(message=message, trace=_trace(self.run, p.test) or None)
        result = TestResult(
            uuid=self._id(p.test),
            historyId=_md5(p.test),
            testCaseId=_md5(p.test.split("[")[0]),
            fullName=p.test,
            name=p.title,
            description=p.method or None,
            status=status,
            statusDetails=details,
            stage="finished",
            start=start,
            stop=stop,
            labels=labels,
            parameters=[Parameter(name=k, value=v) for k, v in p.parameters.items()],
            steps=steps,
            attachments=attachments,
        )
        self.logger.report_result(result)
        return result.uuid

    def measurement(
        self, p: PlanSection, m: MeasurementRow, index: int, start: int | None
    ) -> TestStepResult:
        rec = m.record
        stop = (
            int(rec["timestamp"] * 1000) if isinstance(rec.get("timestamp"), int | float) else start
        )
        verdict_status = {"pass": "passed", "conditional": "failed"}.get(m.verdict, "failed")
        stimulus = m.stimulus or (
            f"conditions: {m.conditions}" if m.conditions else "as the method states"
        )
        measured = f"measure: {m.name} = {m.value} {m.unit}"
        if m.uncertainty != "—":
            measured += f" ± {m.uncertainty} {m.unit} (k=2)"
        if m.bracket != "—":
            measured += f", bracket {m.bracket}"
        if m.evidence:
            measured += f", observed on {m.evidence}"
        verdict = f"verdict: {m.verdict.upper()} against {m.limits} {m.unit} ({m.rule} acceptance)"
        if m.note:
            verdict += f"; {m.note}"
        sub = [
            TestStepResult(name=f"stimulus: {stimulus}", status="passed", start=start, stop=start),
            TestStepResult(
                name=measured,
                status="passed" if m.value != "—" else "failed",
                start=start,
                stop=stop,
            ),
            TestStepResult(name=verdict, status=verdict_status, start=stop, stop=stop),
        ]
        attachments = [
            self.attach_text(
                json.dumps(rec, indent=2, default=str), f"{m.name}.json", AttachmentType.JSON
            )
        ]
        if m.plot:
            attachments.insert(
                0,
                self.attach_file(
                    self.run.run_dir / m.plot, f"{m.name} trip plot", AttachmentType.JPG
                ),
            )
        return TestStepResult(
            name=f"{m.name} = {m.value} {m.unit}: {m.verdict.upper()}",
            status=verdict_status,
            start=start,
            stop=stop,
            steps=sub,
            attachments=attachments,
        )

    def transcript_attachments(self, p: PlanSection) -> list[Attachment]:
        """What crossed the wire in the plan's window: one SCPI transcript, the station's
        instruments interleaved in time order (a sequence across instruments reads as it
        happened), and one BMS transcript; each line names its link."""
        if p.mono_start is None:
            return []
        i = bisect.bisect_right(self.windows, p.mono_start)
        end = self.windows[i] if i < len(self.windows) else float("inf")
        lines: dict[str, list[tuple[float, str]]] = {"SCPI": [], "BMS": []}
        width = max((len(n) for n in self.transcripts), default=0)
        for name, (times, entries) in self.transcripts.items():
            lo, hi = bisect.bisect_left(times, p.mono_start), bisect.bisect_left(times, end)
            kind = "BMS" if name.startswith("dut") else "SCPI"
            lines[kind] += [
                (
                    e["t"],
                    f"{e['t'] - p.mono_start:+10.4f} s  {name:<{width}}  "
                    f"{e.get('dir', '?'):>2}  {e.get('data', '')}",
                )
                for e in entries[lo:hi]
            ]
        return [
            self.attach_text(
                "\n".join(text for _, text in sorted(found)) + "\n",
                f"{kind} transcript",
                AttachmentType.TEXT,
            )
            for kind, found in lines.items()
            if found
        ]

    def session(self, children: list[str]) -> None:
        """The station as a fixture around every plan: what was opened, what was left safe."""
        equipment = [e.__dict__ for e in self.report.equipment]
        before = TestBeforeResult(
            name=f"open station {self.report.station}",
            status="passed" if equipment else "broken",
            stage="finished",
            attachments=[
                self.attach_text(
                    json.dumps({"equipment": equipment, "dut": self.report.dut}, indent=2),
                    "equipment and DUT identity",
                    AttachmentType.JSON,
                )
            ],
        )
        safe = [r for r in self.run.of_type("safe_state") if r.get("failures")]
        after = TestAfterResult(
            name="safe state after every plan and at the end of the session",
            status="broken" if safe else "passed",
            stage="finished",
            statusDetails=StatusDetails(
                message="; ".join(
                    f"{r.get('reason')}: {f.get('action')}: {f.get('error')}"
                    for r in safe
                    for f in r["failures"]
                )
            )
            if safe
            else None,
        )
        self.logger.report_container(
            TestResultContainer(
                uuid=self._id("session"),
                name=f"station {self.report.station}",
                children=children,
                befores=[before],
                afters=[after],
            )
        )


def _message(p: PlanSection) -> str:
    category = p.category or classify.OTHER_ERROR
    bad = [
        f"{m.name} = {m.value} {m.unit}, limits {m.limits}" + (f" ({m.note})" if m.note else "")
        for m in p.measurements
        if m.verdict != "pass"
    ]
    detail = "; ".join(bad) or p.reason or p.outcome_label.lower()
    return f"{category}: {detail}"


def _trace(run: RunData, test: str) -> str:
    texts = [
        str(r.get("longrepr") or r.get("reason") or "")
        for r in run.of_type("test_result")
        if r.get("test") == test
    ]
    return "\n\n".join(t for t in texts if t)


def _start_record(run: RunData, test: str) -> dict[str, Any]:
    return next((r for r in run.of_type("test_start") if r.get("test") == test), {})


def _ms_of(record: dict[str, Any]) -> int | None:
    at = record.get("at")
    if not at:
        return None
    try:
        return int(datetime.fromisoformat(str(at)).timestamp() * 1000)
    except ValueError:
        return None


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _re(text: str) -> str:
    return "".join("\\" + c if c in r"\.^$|?*+()[]{}" else c for c in text)


def _read_transcript(path: Path) -> tuple[list[float], list[dict[str, Any]]]:
    with path.open(encoding="utf-8", errors="replace") as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    try:  # a hundred thousand lines parse fastest as one JSON array
        parsed = json.loads("[" + ",".join(lines) + "]")
    except json.JSONDecodeError:  # a torn last line of a killed run: line by line
        parsed = []
        for line in lines:
            with contextlib.suppress(json.JSONDecodeError):
                parsed.append(json.loads(line))
    entries = [e for e in parsed if isinstance(e, dict) and isinstance(e.get("t"), int | float)]
    entries.sort(key=lambda e: e["t"])
    return [e["t"] for e in entries], entries


def _environment(report: Report) -> str:
    values = {
        "station": report.station,
        "location": report.location,
        "laboratory": report.laboratory,
        "simulated": str(report.simulated).lower(),
        "dut.model": report.dut["model"],
        "dut.serial": report.dut["serial"],
        "dut.firmware": report.dut["firmware"],
        "dut.description": report.dut_name,
        "spec": report.spec_file,
        "run.id": report.run_id,
        "run.verdict": report.verdict,
        "report.id": report.id,
    }
    return "".join(f"{k}={_prop(v)}\n" for k, v in values.items() if v)


def _prop(value: str) -> str:
    """A java.util.Properties value: backslashes escaped, non-Latin-1 as \\uXXXX."""
    out = value.replace("\\", "\\\\").replace("\n", "\\n")
    return "".join(c if ord(c) < 0x7F else f"\\u{ord(c):04x}" for c in out)
