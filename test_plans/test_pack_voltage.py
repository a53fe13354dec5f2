"""Pack over- and under-voltage: threshold, release and delay with all cells together.

Method: every cell emulator channel moves together (pack level / N each), so no single
cell reaches its own limit before the pack limit; the trip is seen on the charge path
(over-voltage: the charger's current stopping) or the discharge path (under-voltage: the
load's current stopping). The pack level is the sum of the channels' read-backs.
"""

import pytest

from test_plans._voltage import PACK_OV, PACK_UV, threshold_and_release, trip_delay

pytestmark = [pytest.mark.needs("cells")]  # cell emulators move the pack (a module: not)


@pytest.mark.protection("pack_ov")
@pytest.mark.clause("IEC 62619 8.2.2", "UL 1973 15")
@pytest.mark.quick
def test_pack_ov_threshold_and_release(station, dut, clock, spec, record, ready):
    threshold_and_release(PACK_OV, None, station, dut, clock, spec, record, ready)


@pytest.mark.protection("pack_ov")
@pytest.mark.clause("IEC 62619 8.2.2", "UL 1973 15")
@pytest.mark.quick
def test_pack_ov_trip_delay(station, dut, clock, spec, record, ready):
    trip_delay(PACK_OV, None, station, dut, clock, spec, record, ready)


@pytest.mark.protection("pack_uv")
@pytest.mark.clause("UL 1973 19")
@pytest.mark.quick
def test_pack_uv_threshold_and_release(station, dut, clock, spec, record, ready):
    threshold_and_release(PACK_UV, None, station, dut, clock, spec, record, ready)


@pytest.mark.protection("pack_uv")
@pytest.mark.clause("UL 1973 19")
@pytest.mark.quick
def test_pack_uv_trip_delay(station, dut, clock, spec, record, ready):
    trip_delay(PACK_UV, None, station, dut, clock, spec, record, ready)
