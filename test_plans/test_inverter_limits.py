"""What a CAN BMS asks of its inverter: charge voltage and current limits along its
derating table (temperature, state of charge), a lost link and a protection event
signalled as the protocol says.

Method: every NTC emulated at the middle of each band of the spec's temperature table
and, in the long plan, the pack driven until the BMS's own SoC reaches each of the
spec's points; at each, the charge and discharge limits the BMS broadcasts (0x351) are
judged against its table. The rig then withholds the inverter's keep-alive: the BMS
must ask for no charge current and raise its communication warning within the stated
time. Last, a cell over-voltage trips the charge path: the BMS must ask for 0 A of
charge, clear charge enable and flag over-voltage. All of it is the BMS's own word.
"""

import itertools

import pytest

from test_plans import _inverter

pytestmark = [
    pytest.mark.protection("inverter_limits"),
    pytest.mark.clause("Pylontech CAN protocol 0x351/0x359 (inverter limits)"),
    pytest.mark.needs("charge_limits"),
]


@pytest.mark.needs("thermistors")
@pytest.mark.quick
def test_inverter_temperature_derating(station, dut, clock, spec, record, ready):
    _inverter.temperature_derating(station, dut, clock, spec, record)


def _soc_hours(spec):
    """Bench time: the pack driven from mid-range to each point at the spec's current."""
    s = spec.inverter_limits
    points = [50.0, *s.soc_points_pct]
    pct = sum(abs(b - a) for a, b in itertools.pairwise(points))
    return 3600 * pct / 100 * spec.dut.capacity_ah / s.soc_current_a


@pytest.mark.spec_states("inverter_limits.soc_points_pct")
@pytest.mark.slow
@pytest.mark.long(estimate=_soc_hours)
def test_inverter_soc_derating(station, dut, clock, spec, record, ready):
    _inverter.soc_derating(station, dut, clock, spec, record)


@pytest.mark.spec_states("inverter_limits.lost_link")
@pytest.mark.quick
def test_inverter_lost_link(station, dut, clock, spec, record, ready):
    _inverter.lost_link(station, dut, clock, spec, record)


@pytest.mark.quick
def test_inverter_protection_event(station, dut, clock, spec, record, ready):
    _inverter.protection_event(station, dut, clock, spec, record, ready)
