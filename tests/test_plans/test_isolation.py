"""The furthest level a plan may command before another protection may act."""

import pytest

from test_plans._isolation import Competitor, NotIsolated, reach


def test_the_nearest_competitor_bounds_the_plan_and_a_guard_keeps_it_short():
    r = reach(
        "discharge_oc1",
        +1.0,
        [Competitor("short_circuit", 120.0, "sc"), Competitor("discharge_oc2", 28.5, "oc2")],
        0.3,
    )
    assert r.by.protection == "discharge_oc2" and r.limit == pytest.approx(28.2)
    assert r.clamp(40.0) == pytest.approx(28.2) and r.clamp(21.5) == 21.5
    assert r.beyond(21.0, 0.5, "A", lambda level: 0.05) == 21.5
    r.check(28.0, "A")
    with pytest.raises(NotIsolated, match="reaches discharge_oc2"):
        r.check(29.0, "A")


def test_going_down_the_bound_is_from_below():
    r = reach("pack_uv", -1.0, [Competitor("cell_uv", 40.4, "16 cells at 2.525 V")], 0.03)
    assert r.limit == pytest.approx(40.43)
    assert r.beyond(41.2, 0.8, "V", lambda level: 0.03) == pytest.approx(40.43)


def test_no_level_clearly_beyond_the_band_is_not_isolated():
    """The old 16S spec: pack OV up to 58.0 V = 16 x 3.625 V, the lowest cell OV."""
    r = reach("pack_ov", +1.0, [Competitor("cell_ov", 58.0, "16 cells at 3.625 V each")], 0.03)
    with pytest.raises(NotIsolated, match="cannot tell the two apart"):
        r.beyond(58.0, 0.8, "V", lambda level: 0.03)


def test_nothing_in_the_way():
    r = reach("charge_oc", +1.0, [], 0.0)
    assert r.limit is None and r.clamp(99.0) == 99.0 and r.context() == {"isolated_from": []}
