"""FET and board heating: the temperature rise of the BMS's FETs at its rated continuous
current over the spec's time, and its FET over-temperature protection if that is reached.

Method: the load draws the rated current through the discharge path for the spec's
duration; a thermocouple on the FETs' heatsink (a DMM channel) is read every poll, with
the load's current. The rise (end minus before) is judged against the spec; a path cut
before the end is the BMS protecting, judged at the heatsink temperature where it came;
the FET temperature the BMS reports is judged against the thermocouple where the spec
names its sensor. Not applicable on a bench that cannot carry the rated current.
"""

import pytest

from test_plans import _heating

pytestmark = [
    pytest.mark.protection("heating"),
    pytest.mark.clause("UL 1973 temperature test (BMS components)", "IEC 62619 7.2"),
    pytest.mark.needs("thermocouples"),
    pytest.mark.slow,
    pytest.mark.long(estimate=_heating.duration_s),
]


def test_fet_heating(station, dut, clock, spec, record, ready):
    _heating.heat_run(station, dut, clock, spec, record)
