"""The compliance report as data: what ISO/IEC 17025 §7.8 asks a test report to state,
taken from a loaded run and already worded and rounded for a reader.

Templates only lay this out; every decision (the run verdict, the order, what counts as
a deviation, how a number is rounded, whether a calibration had expired) is made here,
so the HTML, the PDF, Allure and JUnit say the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from reports import numbers
from reports.classify import measurement_category, plan_category
from reports.load import TORN, RunData, StoreDamage
from reports.plot_files import plan_title
from rig.results.verdict import PlanSummary, RunVerdict

TITLE = "Test report: BMS protection validation"
STATEMENT = (
    "The results in this report relate only to the item tested, as identified above, "
    "under the conditions stated. This report shall not be reproduced except in full "
    "without the written approval of the laboratory."
)
RULES = {
    "simple": "simple acceptance (ILAC-G8): pass if the value lies within the limits",
    "guarded": (
        "guarded acceptance (ILAC-G8), guard band w = U (k = 2): pass inside "
        "[low + U, high − U], fail beyond [low − U, high + U], conditional in between"
    ),
}
OUTCOME_ORDER = {
    "failed": 0,
    "error": 1,
    "aborted": 1,
    "interrupted": 2,
    "unfinished": 2,
    "skipped": 4,
    "not run": 6,
}
OUTCOME_LABEL = {
    "conditional": "CONDITIONAL",
    "passed": "PASS",
    "failed": "FAIL",
    "error": "ERROR",
    "skipped": "SKIPPED",
    "aborted": "ABORTED",
    "interrupted": "INTERRUPTED",
    "unfinished": "NOT FINISHED",
    "not run": "NOT RUN",
}


@dataclass(frozen=True)
class Signatures:
    tested_by: str = ""
    approved_by: str = ""


@dataclass
class EquipmentRow:
    name: str
    role: str
    model: str
    serial: str
    identity: str
    resource: str
    calibration_due: str
    calibration_status: str  # valid | expired | not stated
    flags: list[str] = field(default_factory=list)


@dataclass
class BudgetRow:
    name: str
    standard: str  # as printed: in the measurement's shown unit
    source: str
    u: float | None = None  # the standard uncertainty, in the record's unit


@dataclass
class AnnexRow:
    source: str
    components: str
    measurements: str
    u: str  # the range of u, with its unit


def _some(items: list[str], shown: int) -> str:
    if len(items) <= shown:
        return ", ".join(items)
    return ", ".join(items[:shown]) + f" and {len(items) - shown} more"


def source_text(source: str, unit: str) -> str:
    """A component's source as Annex A states it: a document and table, or "measured"
    with what was measured; a bare number gets its unit."""
    source = source.strip()
    found = re.fullmatch(r"bracket width ([-+\d.eE]+)", source)
    if found:
        width = float(found[1])
        if not width:
            return "measured: the bracket closed to one level (its width is zero)"
        return (
            f"measured: the search or poll bracket (width {numbers.range_text(width, width, unit)})"
        )
    return source or "none recorded with the measurement (the plan's budget names no source)"


@dataclass
class MeasurementRow:
    test: str
    name: str
    value: str
    unit: str
    limits: str
    bracket: str
    uncertainty: str
    rule: str
    verdict: str  # pass | fail | conditional
    category: str | None
    note: str
    conditions: str
    stimulus: str
    evidence: str
    budget: list[BudgetRow]
    waveform: str | None  # run-folder-relative waveform file
    raw_unit: str = ""  # the unit as recorded (SI), before a prefix for reading
    plot: str | None = None  # run-folder-relative PNG, once drawn
    plot_error: str = ""
    figure: int = 0  # its figure's number in the report, once drawn (run order)
    record: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def details(self) -> list[str]:
        """The line under the measurement: instrument, stimulus, conditions, note."""
        parts = [f"observed on {self.evidence}"] if self.evidence else []
        if self.budget:
            parts.append(
                "standard uncertainties: "
                + ", ".join(f"{b.name} {b.standard}" for b in self.budget)
            )
        return parts + [t for t in (self.stimulus, self.conditions, self.note) if t]

    @property
    def is_trip(self) -> bool:
        return self.waveform is not None or "trip" in self.name


@dataclass
class PlanSection:
    test: str
    title: str
    anchor: str
    protection: str
    clauses: list[str]
    method: str
    outcome: str
    outcome_label: str
    category: str | None
    reason: str
    duration_s: float | None
    started: str
    measurements: list[MeasurementRow]
    mono_start: float | None = None  # monotonic clock at test start, to slice transcripts
    section: int = 0  # its section in §7 (7.N), once the report is built

    @property
    def has_conditional(self) -> bool:
        return any(m.verdict == "conditional" for m in self.measurements)

    @property
    def story(self) -> str:
        return self.test.split("::")[-1].split("[")[0].removeprefix("test_")

    @property
    def parameters(self) -> dict[str, str]:
        match = re.search(r"\[(.*)\]$", self.test)
        return {"case": match[1]} if match else {}


@dataclass
class ResultSection:
    """One plan function and all its cases (cell1 … cell16): one method, one table."""

    story: str
    module: str
    cases: list[PlanSection]
    number: int = 0  # 7.N: its place in the run, so a section's text never depends on later plans

    @property
    def anchor(self) -> str:
        return "plans-" + re.sub(r"[^A-Za-z0-9]+", "-", f"{self.module}-{self.story}").strip("-")

    @property
    def first(self) -> PlanSection:
        return self.cases[0]

    @property
    def parametrized(self) -> bool:
        return len(self.cases) > 1 or bool(self.first.parameters)

    @property
    def method(self) -> str:
        return next((c.method for c in self.cases if c.method), "")

    @property
    def clauses(self) -> list[str]:
        out: list[str] = []
        for c in self.cases:
            out += [x for x in c.clauses if x not in out]
        return out

    @property
    def outcomes(self) -> list[tuple[str, str, int]]:
        counts: dict[str, int] = {}
        for c in self.cases:
            o = "conditional" if c.outcome == "passed" and c.has_conditional else c.outcome
            counts[o] = counts.get(o, 0) + 1
        ordered = sorted(counts.items(), key=lambda kv: _rank(kv[0]))
        return [(o, OUTCOME_LABEL.get(o, o.upper()), n) for o, n in ordered]


@dataclass
class PlanGroup:
    """The cases of one plan function (cell1 … cell16) on one line of the plan list."""

    story: str
    protection: str
    clauses: list[str]
    cases: list[str]
    outcomes: list[tuple[str, str, int]]  # (outcome, label, count), worst first


@dataclass
class Deviation:
    kind: str
    subject: str
    detail: str


@dataclass
class Report:
    id: str
    run_id: str
    digest: str
    title: str
    verdict: str
    verdict_reasons: list[str]
    complete: bool
    simulated: bool
    laboratory: str
    station: str
    station_description: str
    location: str
    host: str
    dut: dict[str, str]
    dut_name: str
    spec_file: str
    station_file: str
    standards: list[tuple[str, list[str]]]
    started: str
    ended: str
    issued: str
    equipment: list[EquipmentRow]
    plans: list[PlanSection]
    deviations: list[Deviation]
    signatures: Signatures
    rules: list[str]
    counts: dict[str, int]
    measurement_counts: dict[str, int]
    record_counts: dict[str, int]
    statement: str = STATEMENT
    lab: dict[str, Any] = field(default_factory=dict)  # name, address, accreditation, signatories
    draft: list[str] = field(default_factory=list)  # what is missing before it can be signed
    sim: dict[str, Any] = field(default_factory=dict)
    run_order: list[PlanSection] = field(default_factory=list)  # the plans as they ran

    @property
    def measurements(self) -> list[MeasurementRow]:
        return [m for p in self.plans for m in p.measurements]

    @property
    def annex_a(self) -> list[AnnexRow]:
        """Every uncertainty component the measurements carry, grouped by its source and
        unit, with the range of its standard uncertainty in the measurements' unit."""
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for m in self.measurements:
            for b in m.budget:
                if b.u is None:
                    continue
                # one row for a source that differs only by the level it was taken at
                source = re.sub(r"\bat -?[\d.]+ ?°C\b", "at the measured level",
                                source_text(b.source, m.raw_unit))  # fmt: skip
                g = groups.setdefault(
                    (source, m.raw_unit), {"components": [], "measurements": [], "u": []}
                )
                name = re.sub(r"\b([A-Za-z]\w*):\d+\b", r"\1", b.name)  # cellsim_a:3 -> cellsim_a
                if name not in g["components"]:
                    g["components"].append(name)
                g["measurements"].append(re.sub(r"^cell\d+_", "cellN_", m.name))
                g["u"].append(b.u)
        rows = []
        for (source, unit), g in groups.items():
            counts: dict[str, int] = {}
            for name in g["measurements"]:
                counts[name] = counts.get(name, 0) + 1
            shown = [f"{n} ×{c}" if c > 1 else n for n, c in counts.items()]
            rows.append(
                AnnexRow(
                    source=source,
                    components=_some(g["components"], 4),
                    measurements=_some(shown, 4),
                    u=numbers.range_text(min(g["u"]), max(g["u"]), unit),
                )
            )
        return sorted(rows, key=lambda r: r.source.lower())

    @property
    def clause_note(self) -> str:
        from reports.clauses import NOTE

        return NOTE

    @property
    def clause_sources(self) -> list[tuple[str, str, str]]:
        from reports.clauses import sources

        return sources([c for p in self.plans for c in p.clauses])

    @property
    def tester_role(self) -> str:
        return role_of(self.lab, self.signatures.tested_by)

    @property
    def approver_role(self) -> str:
        return role_of(self.lab, self.signatures.approved_by)

    @property
    def not_run(self) -> list[PlanSection]:
        """Plans selected for the run that never started (a killed or interrupted run)."""
        return [p for p in self.plans if p.outcome == "not run"]

    @property
    def ran(self) -> list[PlanSection]:
        return [p for p in self.plans if p.outcome != "not run"]

    @property
    def sections(self) -> list[ResultSection]:
        """The plans that ran, one section per plan function, in the order they ran.

        Run order, not worst first (the findings in §1 come first for that): a section's
        number and text then depend only on the plans before it, so its page can be
        printed as soon as its plans end (`reports.parts`).
        """
        found: dict[tuple[str, str], ResultSection] = {}
        for p in self.run_order or self.plans:
            if p.outcome == "not run":
                continue
            module = p.test.split("::")[0]
            key = (module, p.story)
            if key not in found:
                found[key] = ResultSection(p.story, module, [], number=len(found) + 1)
            found[key].cases.append(p)
            p.section = found[key].number
        return list(found.values())

    @property
    def chapters(self) -> list[list[ResultSection]]:
        """The sections grouped by plan module (one protection each), in run order."""
        out: dict[str, list[ResultSection]] = {}
        for sec in self.sections:
            out.setdefault(sec.module, []).append(sec)
        return list(out.values())

    @property
    def plan_groups(self) -> list[PlanGroup]:
        groups: dict[tuple[str, str], PlanGroup] = {}
        counts: dict[tuple[str, str], dict[str, int]] = {}
        for p in sorted(self.plans, key=lambda p: _natural(p.test)):
            key = (p.test.split("::")[0], p.story)
            group = groups.setdefault(key, PlanGroup(p.story, p.protection, [], [], []))
            group.clauses += [c for c in p.clauses if c not in group.clauses]
            if p.parameters:
                group.cases.append(p.parameters["case"])
            counts.setdefault(key, {})
            outcome = "conditional" if p.outcome == "passed" and p.has_conditional else p.outcome
            counts[key][outcome] = counts[key].get(outcome, 0) + 1
        for key, group in groups.items():
            group.outcomes = [
                (o, OUTCOME_LABEL.get(o, o.upper()), n)
                for o, n in sorted(counts[key].items(), key=lambda kv: _rank(kv[0]))
            ]
        return list(groups.values())

    @property
    def findings(self) -> list[PlanSection]:
        """Plans that did not pass, worst first: what the reader must see before the rest."""
        return [
            p
            for p in self.plans
            if p.outcome not in ("passed", "not run") or p.category or p.has_conditional
        ]


def issue_time() -> str:
    """The minute a report is issued, as its front matter and signatures state it."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def build_report(
    run: RunData,
    signatures: Signatures | None = None,
    laboratory: dict[str, Any] | None = None,
    issued: str | None = None,
) -> Report:
    """The report of `run`; `laboratory` (a lab file's section, `rig report --lab`) stands
    in for the one the run recorded. `issued`: the minute it is issued (now if None),
    given where two processes print parts of one report (`reports.live`)."""
    summary = run.summary
    start = run.first("run_start") or {}
    end = summary.run_end or {}
    dut = run.last("dut") or {}
    run_date = _date(start.get("started")) or _date_of(start.get("at"))
    starts = _test_starts(run.records)
    durations = _durations(run.records)
    plans = [_plan(p, starts.get(p.test, {}), durations.get(p.test)) for p in summary.plans]
    run_order = list(plans)  # the store's order: collection order, which is the run's
    _number_figures(run_order)
    plans.sort(key=_plan_order)
    signatures = signatures or Signatures()
    if not signatures.tested_by and start.get("tested_by"):
        signatures = Signatures(str(start["tested_by"]), signatures.approved_by)
    lab = _laboratory(laboratory or start.get("laboratory"))
    measurements = [m for p in plans for m in p.measurements]
    equipment = [_equipment(r, run_date) for r in run.of_type("instrument")]
    report = Report(
        id=f"BMSR-{run.run_id}-{run.digest[:8].upper()}",
        run_id=run.run_id,
        digest=run.digest,
        title=TITLE,
        verdict=str(summary.verdict),
        verdict_reasons=list(summary.reasons)
        + [_damage_reason(d) for d in run.damage if d.kind != TORN],  # torn: in the summary
        complete=summary.complete and not run.damage,
        simulated=bool(start.get("simulated")),
        laboratory=str(lab.get("name") or ""),
        station=str(start.get("station") or "not recorded"),
        station_description=str(start.get("station_description") or ""),
        location=str(start.get("location") or ""),
        host=str(start.get("host") or ""),
        dut={
            "model": str(dut.get("hardware") or ""),
            "serial": str(dut.get("serial") or ""),
            "firmware": str(dut.get("firmware") or ""),
            "protocol": str(dut.get("protocol") or ""),
            "production_date": str(dut.get("production_date") or ""),
            "cell_count": str(dut.get("cell_count") or ""),
        },
        dut_name=str(start.get("dut_name") or ""),
        spec_file=str(start.get("spec_file") or ""),
        station_file=str(start.get("station_file") or ""),
        standards=_standards(plans),
        started=_when(start.get("started"), start.get("at")),
        ended=_when(end.get("ended"), end.get("at")) if end else "",
        issued=issued or issue_time(),
        equipment=equipment,
        plans=plans,
        deviations=_deviations(run, plans, equipment, start),
        signatures=signatures,
        rules=[RULES.get(r, r) for r in sorted({m.rule for m in measurements})],
        counts={k: sum(1 for p in plans if p.outcome == k) for k in OUTCOME_LABEL},
        measurement_counts={
            k: sum(1 for m in measurements if m.verdict == k)
            for k in ("pass", "conditional", "fail")
        },
        run_order=run_order,
        lab=lab,
        draft=draft_reasons(lab, signatures),
        record_counts=_record_counts(run.records),
        sim={
            "seed": start.get("seed"),
            "defects": list(start.get("sim_defects") or []),
            "sets": list(start.get("sim_sets") or []),
        },
    )
    report.sections  # noqa: B018  (numbers each plan's section, for the findings in §1)
    if (
        summary.verdict is RunVerdict.PASS and run.damage
    ):  # belt and braces: never sign a torn store
        report.verdict = str(RunVerdict.INCOMPLETE)
    return report


def _laboratory(recorded: Any) -> dict[str, Any]:
    """The laboratory as recorded: a lab file's section, or an older run's free text."""
    lab: dict[str, Any] = {"name": "", "address": "", "accreditation": None, "signatories": []}
    if isinstance(recorded, dict):
        lab.update({k: v for k, v in recorded.items() if v is not None})
    elif recorded:
        lab["name"] = str(recorded)  # an older run: the station file's free text
    return lab


def draft_reasons(lab: dict[str, Any], signatures: Signatures) -> list[str]:
    """What a report lacks before a laboratory can sign it; none: it is not a draft."""
    missing = []
    if not lab.get("name"):
        missing.append("the laboratory (a lab file's laboratory section: rig run --lab FILE)")
    if not signatures.tested_by:
        missing.append("who tested (rig run --tested-by NAME, or rig report --tested-by NAME)")
    if not signatures.approved_by:
        missing.append("who approved it (rig report RUN --approved-by NAME)")
    else:
        names = [str(s.get("name")) for s in lab.get("signatories") or [] if isinstance(s, dict)]
        if names and signatures.approved_by not in names:
            missing.append(
                f"an approver among the laboratory's signatories ({signatures.approved_by} "
                f"is not one of {', '.join(names)})"
            )
    return missing


def role_of(lab: dict[str, Any], name: str) -> str:
    for s in lab.get("signatories") or []:
        if isinstance(s, dict) and s.get("name") == name:
            return str(s.get("role") or "")
    return ""


def _damage_reason(d: StoreDamage) -> str:
    return f"line {d.line} of the results store could not be read ({d.kind})"


def _durations(records: list[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in records:
        if r.get("type") == "test_result" and isinstance(r.get("duration_s"), int | float):
            out[r["test"]] = out.get(r["test"], 0.0) + r["duration_s"]
    return out


def _test_starts(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    starts: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.get("type") == "test_start" and "test" in r:
            starts.setdefault(r["test"], r)
    return starts


def _number_figures(plans: list[PlanSection]) -> None:
    """Figure numbers in run order: a plotted measurement's number never changes later."""
    n = 0
    for p in plans:
        for m in p.measurements:
            if m.waveform:
                n += 1
                m.figure = n


def _natural(text: str) -> list[str | int]:
    """Sort key that puts cell2 before cell10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _rank(outcome: str) -> int:
    return {"conditional": 3, "passed": 5}.get(outcome, OUTCOME_ORDER.get(outcome, 1))


def _plan_order(p: PlanSection) -> int:
    if p.outcome == "passed":
        return 3 if p.has_conditional else (1 if p.category else 5)
    return OUTCOME_ORDER.get(p.outcome, 1)


def _plan(plan: PlanSummary, start: dict[str, Any], duration: float | None) -> PlanSection:
    rows = [_measurement(m) for m in plan.measurements]
    clauses = list(start.get("clause") or [])
    for m in plan.measurements:
        for c in m.get("clause") or []:
            if c not in clauses:
                clauses.append(c)
    protection = start.get("protection") or _protection_from(plan.test)
    if isinstance(protection, list):
        protection = ", ".join(str(p) for p in protection)
    return PlanSection(
        test=plan.test,
        title=plan_title(plan.test),
        anchor="plan-" + re.sub(r"[^A-Za-z0-9]+", "-", plan.test).strip("-"),
        protection=str(protection),
        clauses=clauses,
        method=str(
            start.get("doc") or start.get("method") or start.get("module_doc") or ""
        ).strip(),
        outcome=plan.outcome,
        outcome_label=OUTCOME_LABEL.get(plan.outcome, plan.outcome.upper()),
        category=plan_category(plan),
        reason=_plan_reason(plan, rows),
        duration_s=duration,
        started=_when(None, start.get("at")),
        measurements=rows,
        mono_start=start.get("mono") if isinstance(start.get("mono"), int | float) else None,
    )


def _protection_from(test: str) -> str:
    module = test.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
    return module.removeprefix("test_")


def _plan_reason(plan: PlanSummary, rows: list[MeasurementRow]) -> str:
    """Why the plan did not pass, unless its failed measurements say it already (their
    rows carry the values, the limits and the plan's note, in words)."""
    reason = _short_reason(plan.reason)
    if "measurement(s) out of specification" in reason and any(m.verdict == "fail" for m in rows):
        return ""
    return reason


def _short_reason(text: str, limit: int = 600) -> str:
    """The lines of a pytest long repr a reader needs: the error lines (`E ...`), else the tail."""
    if not text:
        return ""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    errors = [ln[1:].strip() for ln in lines if ln.startswith("E ")]
    short = "\n".join(errors) if errors else "\n".join(lines[-4:])
    return short if len(short) <= limit else short[: limit - 1] + "…"


def _measurement(record: dict[str, Any]) -> MeasurementRow:
    m, factor = numbers.scaled(record)
    unit = str(m.get("unit") or "")
    return MeasurementRow(
        test=str(m.get("test", "")),
        name=str(m.get("name", "")),
        value=numbers.value_text(m),
        unit=unit,
        limits=numbers.limits_text(m),
        bracket=numbers.bracket_text(m),
        uncertainty=numbers.uncertainty_text(m),
        rule=str(m.get("decision_rule") or "simple"),
        verdict=str(m.get("verdict") or "fail"),
        category=measurement_category(m),
        note=str(m.get("note") or ""),
        conditions=_conditions(m.get("context")),
        stimulus=_stimulus(m.get("stimulus")),
        evidence=_evidence(m),
        raw_unit=str(record.get("unit") or ""),
        budget=[
            BudgetRow(
                str(c.get("name", "")),
                f"{numbers.clean(_times(c.get('standard'), factor), 2)} {unit}".strip(),
                str(c.get("source", "")),
                c.get("standard") if isinstance(c.get("standard"), int | float) else None,
            )
            for c in m.get("budget") or []
            if isinstance(c, dict)
        ],
        waveform=m.get("waveform") or None,
        record=record,
    )


def _times(x: Any, factor: float) -> float | None:
    return x * factor if isinstance(x, int | float) else None


def _conditions(context: Any) -> str:
    if not isinstance(context, dict):
        return ""
    parts = []
    for key, value in context.items():
        if value is None:
            continue  # nothing to say
        if isinstance(value, float):
            value = numbers.clean(value)
        elif isinstance(value, list | dict):
            continue  # long structures belong in the JSON, not in a table cell
        parts.append(f"{key} = {value}")
    return ", ".join(parts)


def _stimulus(s: Any) -> str:
    if not isinstance(s, dict):
        return ""
    unit = s.get("unit", "")
    text = f"{s.get('quantity', 'stimulus')}: {numbers.clean(s.get('commanded'))} {unit} commanded"
    if s.get("readback") is not None:
        text += f", {numbers.clean(s.get('readback'))} {unit} read back"
    if s.get("instrument"):
        text += f" ({s['instrument']})"
    return text


def _evidence(m: dict[str, Any]) -> str:
    evidence = str(m.get("evidence") or "")
    instrument = str(m.get("instrument") or "")
    if evidence == "dut":
        return "DUT's own report" + (f" ({instrument})" if instrument else "")
    return instrument  # an unnamed instrument says nothing a reader can check


def _standards(plans: list[PlanSection]) -> list[tuple[str, list[str]]]:
    """Each standard with the clauses the plans claim under it, in first-seen order."""
    found: dict[str, list[str]] = {}
    for p in plans:
        for clause in p.clauses:
            std = standard_of(clause)
            rest = clause[len(std) :].strip()
            items = found.setdefault(std, [])
            if rest and rest not in items:
                items.append(rest)
    return list(found.items())


def standard_of(clause: str) -> str:
    """ "IEC 62619 8.2.2" -> "IEC 62619"; "UN 38.3 T.7" -> "UN 38.3" (body and number)."""
    parts = clause.split()
    return " ".join(parts[:2]) if len(parts) > 2 else clause


def _equipment(r: dict[str, Any], run_date: date | None) -> EquipmentRow:
    identity = str(r.get("identity") or "")
    fields = [f.strip() for f in identity.split(",")]
    serial = fields[2] if len(fields) >= 3 else ""
    expected = r.get("serial_expected") or r.get("serial") or ""
    flags = []
    if expected and serial and expected != serial:
        flags.append(f"serial read {serial}, station file says {expected}")
    due = str(r.get("calibration_due") or "")
    status = "not stated"
    due_date = _date_of(due)
    if due_date is not None:
        status = "valid"
        if run_date is not None and due_date < run_date:
            status = "expired"
    flag = r.get("calibration_expired")
    text = str(r.get("calibration_status") or r.get("calibration") or "").lower()
    if flag is True or text == "expired":
        status = "expired"
    if status == "expired":
        flags.append("calibration expired before the test")
    return EquipmentRow(
        name=str(r.get("name", "")),
        role=str(r.get("role", "")).replace("_", " "),
        model=str(r.get("model", "")),
        serial=serial or str(expected),
        identity=identity,
        resource=str(r.get("resource", "")),
        calibration_due=due or "not stated",
        calibration_status=status,
        flags=flags,
    )


def _deviations(
    run: RunData,
    plans: list[PlanSection],
    equipment: list[EquipmentRow],
    start: dict[str, Any],
) -> list[Deviation]:
    out: list[Deviation] = []
    summary = run.summary
    end = summary.run_end
    if end is None:
        out.append(
            Deviation(
                "Run incomplete",
                "whole run",
                "The run did not end normally: no run_end record (killed or crashed). "
                "Only the measurements listed in this report were taken.",
            )
        )
    elif end.get("interrupted"):
        out.append(Deviation("Run interrupted", "whole run", str(end.get("reason") or "signal")))
    for d in run.damage:
        out.append(
            Deviation(
                "Results store damaged",
                f"results.jsonl line {d.line}",
                f"{d.kind}; this line could not be read: {d.excerpt}",
            )
        )
    not_run = [p.title for p in plans if p.outcome == "not run"]
    if not_run:
        out.append(
            Deviation(
                "Plans not run",
                f"{len(not_run)} of {len(plans)} selected",
                "the run stopped before they started: " + ", ".join(not_run),
            )
        )
    for p in plans:
        if p.outcome in ("skipped", "interrupted", "unfinished", "error", "aborted"):
            kind = {
                "skipped": "Plan skipped",
                "interrupted": "Plan interrupted",
                "unfinished": "Plan not finished",
                "error": "Plan broken by an error",
                "aborted": "Plan aborted by the watchdog",
            }[p.outcome]
            detail = p.reason or (
                "started, but no result was recorded (the run stopped during it)"
                if p.outcome == "unfinished"
                else ""
            )
            out.append(Deviation(kind, p.title, detail))
        elif p.outcome == "passed" and not p.measurements:
            out.append(Deviation("No measurement recorded", p.title, "the plan recorded nothing"))
    for e in equipment:
        for flag in e.flags:
            out.append(Deviation("Equipment", f"{e.name} ({e.model})", flag))
    for rec in run.records:
        kind = rec.get("type")
        if kind == "safe_state" and rec.get("failures"):
            steps = "; ".join(
                f"{f.get('action', '?')}: {f.get('error', '?')}"
                for f in rec["failures"]
                if isinstance(f, dict)
            )
            out.append(Deviation("Safe state not fully reached", str(rec.get("reason", "")), steps))
        elif kind == "error":
            out.append(Deviation("Rig error", str(rec.get("stage", "")), str(rec.get("error", ""))))
        elif kind == "not_applicable":
            out.append(
                Deviation(
                    "Not applicable to this DUT",
                    plan_title(str(rec.get("test", ""))),
                    str(rec.get("reason") or "the DUT's protocol cannot serve this plan"),
                )
            )
        elif kind in ("station_check", "recovery") and _not_ok(rec):
            out.append(
                Deviation(
                    kind.replace("_", " ").capitalize(),
                    str(rec.get("test") or rec.get("check") or rec.get("name") or ""),
                    _fields(rec),
                )
            )
    if start.get("simulated"):
        defects = list(start.get("sim_defects") or [])
        sets = list(start.get("sim_sets") or [])
        if defects or sets:
            out.append(
                Deviation(
                    "Simulated DUT altered",
                    "simlab",
                    "; ".join(
                        [f"defect injected: {d}" for d in defects]
                        + [f"parameter set: {s}" for s in sets]
                    ),
                )
            )
    return out


def _not_ok(rec: dict[str, Any]) -> bool:
    if rec.get("ok") is False or rec.get("passed") is False:
        return True
    status = str(rec.get("status") or rec.get("outcome") or rec.get("result") or "").lower()
    return status in ("fail", "failed", "error", "expired", "mismatch", "not ready")


def _fields(rec: dict[str, Any]) -> str:
    skip = {"type", "at", "test"}
    parts = [
        f"{k} = {v}" for k, v in rec.items() if k not in skip and not isinstance(v, dict | list)
    ]
    return ", ".join(parts)[:400]


def _record_counts(records: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in records:
        kind = str(r.get("type", "?"))
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _date(epoch: Any) -> date | None:
    if isinstance(epoch, int | float):
        return datetime.fromtimestamp(epoch, UTC).date()
    return None


def _date_of(text: Any) -> date | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text)).date()
    except ValueError:
        return None


def _when(epoch: Any, iso: Any) -> str:
    if isinstance(epoch, int | float):
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if iso:
        try:
            return (
                datetime.fromisoformat(str(iso)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            )
        except ValueError:
            return str(iso)
    return ""
