"""Numbers as the report prints them: to the uncertainty's or resolution's last digit."""

from __future__ import annotations

import pytest

from reports import numbers


@pytest.mark.parametrize(
    ("measurement", "value", "u"),
    [
        ({"value": 2.0500000000000114, "resolution": 0.05}, "2.05", "—"),
        ({"value": 2.0500000000000114, "uncertainty": 0.0289}, "2.050", "0.029"),
        ({"value": 3.651, "uncertainty": 0.0041}, "3.6510", "0.0041"),
        ({"value": 3.4000000000000004}, "3.4", "—"),
        ({"value": 1234.5678, "uncertainty": 27.3}, "1235", "27"),
        ({"value": -0.00001, "resolution": 0.01}, "0.00", "—"),
        ({"value": None, "resolution": 0.01}, "—", "—"),
    ],
)
def test_value_and_uncertainty(measurement, value, u):
    assert numbers.value_text(measurement) == value
    assert numbers.uncertainty_text(measurement) == u


def test_decimals():
    assert numbers.decimals_of(0.25) == 2
    assert numbers.decimals_of(0.002) == 3
    assert numbers.decimals_of(5) == 0
    assert numbers.uncertainty_decimals(0.0289) == 3
    assert numbers.uncertainty_decimals(1.3) == 1


def test_limits():
    assert numbers.limits_text({"low": 1.5, "high": 2.5}) == "1.5 … 2.5"
    assert numbers.limits_text({"low": None, "high": 0.0003, "comparison": "LE"}) == "≤ 0.0003"
    assert numbers.limits_text({"low": 1.0, "high": 1.0, "comparison": "EQ"}) == "= 1"
    assert numbers.limits_text({"low": 3.0, "high": None, "comparison": "GE"}) == "≥ 3"


def test_bracket_keeps_the_digits_of_its_levels():
    m = {"value": 3.651, "uncertainty": 0.021, "bracket": [3.65, 3.652]}
    assert numbers.bracket_text(m) == "[3.650, 3.652]"


def test_small_quantities_get_a_prefix():
    shown, factor = numbers.scaled(
        {"value": 0.00018, "unit": "s", "low": None, "high": 0.0003, "uncertainty": 2.9e-7}
    )
    assert factor == 1e6 and shown["unit"] == "µs"
    assert numbers.value_text(shown) == "180.00"
    shown, factor = numbers.scaled({"value": 0.045, "unit": "V", "low": 0.03, "high": 0.06})
    assert shown["unit"] == "mV" and factor == 1e3
    assert numbers.scaled({"value": 2.05, "unit": "s", "low": 1.5, "high": 2.5})[1] == 1.0
    assert numbers.scaled({"value": 0.001, "unit": "flag"})[1] == 1.0
