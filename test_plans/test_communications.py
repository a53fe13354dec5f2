"""Communications: the BMS's identity, the protection configuration it holds, and the
timing of its link.

Method: the identity is read over the BMS's protocol and recorded; the fields its
protocol carries must be filled, its cell count must be the spec's, and fields the spec
names must match. Where the protocol can read the configuration (JBD EEPROM, factory
mode, left without saving), every threshold, release and delay the spec states is
compared with the value the BMS holds, within `communications.config_tolerance`. The
link's timing is measured where it happens: a UART BMS by the longest request/reply
exchange of `polls` status polls, a CAN BMS by the mean period and longest gap of its
status broadcasts from the bus timestamps. All of it is the BMS's own word (evidence
`dut`).
"""

import pytest

from test_plans._communications import configuration, identity, link_timing

pytestmark = [pytest.mark.protection("communications"), pytest.mark.quick]


def test_identity(dut, spec, record, ready):
    identity(dut, spec, record)


@pytest.mark.needs("config_read")
def test_protection_configuration(dut, spec, record, ready):
    configuration(dut, spec, record)


def test_link_timing(dut, clock, spec, record, ready):
    link_timing(dut, clock, spec, record)
