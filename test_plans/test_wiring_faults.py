"""The BMS's own wiring and sensors failing: an open cell sense lead, an NTC line open or
shorted, inserted by the station's fault-insertion switch.

Method: with the charger's test current flowing, the switch inserts each fault its wiring
map holds (every sense lead it can open, every NTC line under test it can open or
short), in turn. The time to the charge path's cut is judged against the spec's
`detect_s`, the discharge path against what the spec says the fault opens; the BMS's
flag is judged where its protocol has one, and what it reports for the affected cells or
NTC must not be a plausible wrong value passed off as valid.
"""

import pytest

from test_plans import _wiring_faults

pytestmark = [
    pytest.mark.protection("wiring_faults"),
    pytest.mark.clause("UL 1973 single fault conditions", "IEC 62619 8.2 (BMS functions)"),
    pytest.mark.needs("switch"),
    pytest.mark.quick,
]


@pytest.mark.needs("cells")  # the leads run to cell emulators (a module: not applicable)
@pytest.mark.spec_states("wiring_faults.sense_wire")
def test_sense_wire_open(station, dut, clock, spec, record, ready):
    _wiring_faults.sense_wires(station, dut, clock, spec, record, ready)


@pytest.mark.needs("thermistors")
@pytest.mark.spec_states("wiring_faults.ntc")
def test_ntc_open_and_short(station, dut, clock, spec, record, ready):
    _wiring_faults.ntc_faults(station, dut, clock, spec, record, ready)
