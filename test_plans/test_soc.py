"""State of charge: the BMS's coulomb count of a charge the station drives and measures.

Method: with the pack inside the spec's SoC window, the charger (then the load) drives
`current_a` until `charge_ah` has passed; the station integrates its own read-back of
that current, polled every `poll_period_s`. Before and after, at rest, the BMS's
remaining capacity and SoC are read over its protocol. Its counting error (Ah, in % of
the spec's capacity) and its SoC error (in SoC points) are judged against the spec, with
the station's charge uncertainty and the BMS's reporting steps in their budgets. Then
the pack idles for `idle_s`: the BMS must count nothing.

Duration: `charge_ah / current_a` hours each way and `idle_s` idle (the default spec:
10 h, 10 h and 2 h). Virtual time makes that milliseconds against simlab; on a bench it
is a day: the plans are marked `slow` and `long` (`rig run -m "not long"` leaves them out).
"""

import pytest

from test_plans._soc import count_charge, idle_drift

pytestmark = [pytest.mark.protection("soc"), pytest.mark.slow]


def _charge_hours(spec):
    """Bench time of one counted step: the charge at its current, and the settling."""
    s = spec.state_of_charge
    return 3600 * s.charge_ah / s.current_a + 2 * spec.test_conditions.settle_s


@pytest.mark.long(estimate=_charge_hours)
def test_soc_charge(station, dut, clock, spec, record, ready):
    count_charge("charge", station, dut, clock, spec, record)


@pytest.mark.long(estimate=_charge_hours)
def test_soc_discharge(station, dut, clock, spec, record, ready):
    count_charge("discharge", station, dut, clock, spec, record)


@pytest.mark.needs("capacity")
@pytest.mark.long(estimate=lambda spec: spec.state_of_charge.idle_s)
def test_soc_idle(station, dut, clock, spec, record, ready):
    idle_drift(station, dut, clock, spec, record)
