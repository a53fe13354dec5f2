"""Why a plan did not pass, in the four words a lab sorts failures by.

One place decides it, so the compliance report, the Allure categories and the JUnit
failure types agree. Verdict failures (the DUT did something out of specification) are
told apart from faults of the rig (an instrument or the DUT link broke): the first is a
finding about the item tested, the second says nothing about it.
"""

from __future__ import annotations

import re
from typing import Any

from rig.results.verdict import PlanSummary

DID_NOT_TRIP = "Did not trip"
OUT_OF_TOLERANCE = "Out of tolerance"
CONDITIONAL = "Conditional (inside the guard band)"
INSTRUMENT_FAULT = "Instrument fault"
DUT_COMMUNICATION_FAULT = "DUT communication fault"
INTERRUPTED = "Interrupted"
NO_MEASUREMENT = "No measurement recorded"
ABORTED = "Aborted by the watchdog"
NOT_RUN = "Not run"
ASSERTION_FAILED = "Plan check failed"
OTHER_ERROR = "Other error"

# Typed errors of the drivers (instruments/errors.py, dut_drivers/errors.py) and of the
# transports below them, as they appear in a traceback.
INSTRUMENT_ERRORS = (
    r"InstrumentError|InstrumentReplyError|InstrumentTimeout|IdentityError|VisaIOError"
    r"|LimitError|SafeStateError|station not fully safe"
)
DUT_ERRORS = r"BmsError|BmsTimeout|BmsFrameError|BmsChecksumError|BmsNack|SerialException"

FAILED_CATEGORIES = (DID_NOT_TRIP, OUT_OF_TOLERANCE, CONDITIONAL, ASSERTION_FAILED)
BROKEN_CATEGORIES = (INSTRUMENT_FAULT, DUT_COMMUNICATION_FAULT)


def measurement_category(m: dict[str, Any]) -> str | None:
    verdict = m.get("verdict")
    if verdict == "fail":
        return DID_NOT_TRIP if m.get("value") is None else OUT_OF_TOLERANCE
    if verdict == "conditional":
        return CONDITIONAL
    return None


def plan_category(plan: PlanSummary) -> str | None:
    """The category of a plan that did not pass; None for a pass or a skip."""
    if plan.outcome == "skipped":
        return None
    if plan.outcome == "not run":
        return NOT_RUN
    if plan.outcome == "aborted":
        return ABORTED
    if plan.outcome == "passed":
        if not plan.measurements:
            return NO_MEASUREMENT
        return CONDITIONAL if "conditional" in plan.verdicts else None
    if plan.outcome in ("interrupted", "unfinished"):
        return INTERRUPTED
    if plan.outcome == "error":
        return error_category(plan.reason)
    failed = [measurement_category(m) for m in plan.measurements if m.get("verdict") == "fail"]
    if DID_NOT_TRIP in failed:
        return DID_NOT_TRIP
    if failed:
        return OUT_OF_TOLERANCE
    broken = error_category(plan.reason)  # a plan that failed on its own assertion
    return broken if broken in BROKEN_CATEGORIES else ASSERTION_FAILED


def error_category(text: str) -> str:
    if re.search(DUT_ERRORS, text):
        return DUT_COMMUNICATION_FAULT
    if re.search(INSTRUMENT_ERRORS, text):
        return INSTRUMENT_FAULT
    return OTHER_ERROR


def allure_status(plan: PlanSummary) -> str:
    """Allure's convention: only verdict and assertion failures are "failed"."""
    if plan.outcome == "passed":
        category = plan_category(plan)
        return "passed" if category is None else ("failed" if category == CONDITIONAL else "broken")
    if plan.outcome in ("skipped", "not run"):
        return "skipped"
    if plan.outcome == "failed" and plan_category(plan) in FAILED_CATEGORIES:
        return "failed"
    return "broken"
