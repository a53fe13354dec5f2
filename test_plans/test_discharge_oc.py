"""Discharge over-current, levels 1 and 2: threshold and delay per level, level 2 faster.

Method: the electronic load, in constant current, is both the stimulus and the
evidence. Level 1's threshold is ramped and bisected on the load's setpoint; level 2's
the same way with pulses shorter than level 1's shortest delay (back at the test current
between them), so only level 2 can trip within one. The delays are steps from the test
current: to a level between the two bands (level 1 alone trips) and to a level clearly
beyond level 2's band; their difference, with both uncertainties, shows level 2 is the
faster. After each trip the recovery rule is checked on the load's current. The BMS's
own flag and FET report are judged separately.
"""

import pytest

from test_plans._current import (
    DISCHARGE_OC1,
    DISCHARGE_OC2,
    delay_and_recovery,
    levels_compared,
    threshold,
)

pytestmark = [
    pytest.mark.protection("discharge_oc"),
    pytest.mark.clause("UL 1973 17", "UL 2271 overcurrent"),
    pytest.mark.slow,  # recovery delays of about half a minute between probes
]


@pytest.mark.protection("discharge_oc1")
def test_discharge_oc1_threshold(station, dut, clock, spec, record, ready):
    threshold(DISCHARGE_OC1, station, dut, clock, spec, record, ready)


@pytest.mark.protection("discharge_oc2")
def test_discharge_oc2_threshold(station, dut, clock, spec, record, ready):
    threshold(DISCHARGE_OC2, station, dut, clock, spec, record, ready, below=DISCHARGE_OC1)


@pytest.mark.protection("discharge_oc1")
@pytest.mark.discharge_oc2  # selectable by level 2 too; a DUT with one level: level 1 alone
def test_discharge_oc_delays_and_recovery(station, dut, clock, spec, record, ready):
    two = spec.protections.discharge_oc2 is not None
    above = DISCHARGE_OC2 if two else None
    slow = delay_and_recovery(DISCHARGE_OC1, station, dut, clock, spec, record, above=above)
    if two:
        fast = delay_and_recovery(DISCHARGE_OC2, station, dut, clock, spec, record)
        levels_compared(record, slow, fast, spec)
