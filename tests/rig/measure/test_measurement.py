"""Verdicts: simple and guarded acceptance (ILAC-G8); no value is never a pass."""

import pytest

from rig.measure import Measurement, Verdict, judge


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3.650, "pass"),
        (3.625, "pass"),
        (3.675, "pass"),
        (3.624, "fail"),
        (3.676, "fail"),
        (None, "fail"),
    ],
)
def test_simple_acceptance(value, expected):
    assert judge(value, 3.625, 3.675) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3.650, Verdict.PASS),
        (3.628, Verdict.CONDITIONAL),
        (3.622, Verdict.CONDITIONAL),
        (3.619, Verdict.FAIL),
    ],
)
def test_guarded_acceptance(value, expected):
    assert judge(value, 3.625, 3.675, uncertainty=0.005, rule="guarded") == expected


def test_one_sided_and_equality():
    assert judge(5.0, None, 10.0, comparison="LE") == Verdict.PASS
    assert judge(11.0, 0.0, 10.0, comparison="LE") == Verdict.FAIL
    assert judge(-1.0, 0.0, 10.0, comparison="LE") == Verdict.PASS
    assert judge(1.0, 1.0, 1.0, comparison="EQ") == Verdict.PASS
    assert judge(0.0, 1.0, 1.0, comparison="EQ") == Verdict.FAIL


def test_record_carries_the_store_fields():
    m = Measurement(
        test="t::a",
        name="cell_ov_threshold",
        value=3.7,
        unit="V",
        low=3.6,
        high=3.65,
        resolution=0.002,
    )
    rec = m.record()
    assert rec["type"] == "measurement"
    assert rec["verdict"] == "fail"
    for key in ("test", "name", "value", "unit", "low", "high", "resolution", "timestamp"):
        assert key in rec
