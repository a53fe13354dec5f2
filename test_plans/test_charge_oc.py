"""Charge over-current: threshold, trip delay and recovery rule.

Method: the charger, in constant current with its CV 2 V above the pack, is both the
stimulus and the evidence: its current limit is ramped and bisected until its measured
current stops (the threshold, read back as the current it measured before the trip); a
step from the test current to a level clearly beyond the band is polled until it stops
(the delay). Then the spec's recovery rule is checked on the same path: released by
itself after its recovery delay with the charger still connected, or only once the
charger has been removed, or never (latching). The BMS's own flag and FET report are
judged separately.
"""

import pytest

from test_plans._current import CHARGE_OC, delay_and_recovery, threshold

pytestmark = [
    pytest.mark.protection("charge_oc"),
    pytest.mark.clause("IEC 62619 8.2.3", "UL 2271 overcharge"),
    pytest.mark.slow,  # recovery delays of about half a minute between probes
]


def test_charge_oc_threshold(station, dut, clock, spec, record, ready):
    threshold(CHARGE_OC, station, dut, clock, spec, record, ready)


def test_charge_oc_delay_and_recovery(station, dut, clock, spec, record, ready):
    delay_and_recovery(CHARGE_OC, station, dut, clock, spec, record)
