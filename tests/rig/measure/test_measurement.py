"""Verdicts: simple and guarded acceptance (ILAC-G8); no value is never a pass."""

import pytest

from rig.measure import EmptyBudget, Measurement, Verdict, judge, rectangular, resolution_component


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
        budget=[resolution_component(0.002, "search bracket", "V")],
    )
    rec = m.record()
    assert rec["type"] == "measurement"
    assert rec["verdict"] == "fail"
    for key in ("test", "name", "value", "unit", "low", "high", "resolution", "timestamp"):
        assert key in rec


def _measured(**kw):
    base = dict(test="t::a", name="x", value=3.65, unit="V", low=3.625, high=3.675)
    return Measurement(**{**base, **kw})


def test_a_measured_value_without_a_budget_is_a_plan_defect():
    """U = 0 would turn the guarded rule into simple acceptance without saying so."""
    with pytest.raises(EmptyBudget, match="needs an uncertainty budget"):
        _measured(decision_rule="guarded")
    with pytest.raises(EmptyBudget):
        _measured(budget=[rectangular("nothing", 0.0, "test")])
    # no value (nothing tripped) needs no budget: it fails on its own
    assert _measured(value=None).verdict is Verdict.FAIL


def test_an_exact_value_is_judged_simply_and_carries_no_budget():
    m = _measured(value=3.676, exact=True, decision_rule="guarded")
    assert (m.decision_rule, m.uncertainty, m.verdict) == ("simple", 0.0, Verdict.FAIL)
    with pytest.raises(ValueError, match="exact value carries no"):
        _measured(exact=True, budget=[rectangular("a", 0.001, "test")])


def test_guarded_rule_uses_the_budget():
    m = _measured(value=3.626, decision_rule="guarded", budget=[rectangular("a", 0.005, "test")])
    assert m.uncertainty > 0 and m.verdict is Verdict.CONDITIONAL
