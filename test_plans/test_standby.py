"""Standby and sleep: the current the BMS draws from the pack awake and asleep, how long it
takes to fall asleep, what wakes it, and the months a stated capacity would last.

Method: charger and load off, cells at nominal; after a last exchange with the BMS the
station reads the BMS's own draw on a cell emulator's low current range, then polls it
until it falls to its sleep level (the idle timer); the draw asleep is read on the range
that holds it. Each wake-up source the spec names is applied to the sleeping BMS (a
charger on P+, a host's request) and the draw must come back to its awake level; the
BMS falls asleep again in between. The BMS is not asked anything while it is meant to
fall asleep: a request would start its idle timer again.
"""

import pytest

from test_plans import _standby

pytestmark = [
    pytest.mark.protection("standby"),
    pytest.mark.clause("BMS data sheet: standby and sleep current"),
    pytest.mark.needs("cells"),  # the draw is read on an emulator channel (a module: none)
    pytest.mark.slow,
    pytest.mark.long(estimate=_standby.duration_s),
]


def test_standby_and_sleep(station, dut, clock, spec, record, ready):
    _standby.standby_and_sleep(station, dut, clock, spec, record)
