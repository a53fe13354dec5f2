"""One protocol table for config, station and simlab; capabilities declared, not guessed."""

from __future__ import annotations

import pytest

from dut_drivers.base import BmsStatus, Capability, Protection
from dut_drivers.errors import BmsCapabilityError
from dut_drivers.registry import PROTOCOLS, LinkOptions, open_link
from simlab.servers.dut import DUT_SERVERS


def test_rig_and_simlab_tables_name_the_same_protocols():
    assert set(PROTOCOLS) == set(DUT_SERVERS)
    for name, info in PROTOCOLS.items():
        assert DUT_SERVERS[name].transport == info.transport


def test_unknown_protocol_is_named():
    with pytest.raises(KeyError, match="known: "):
        open_link("nope", LinkOptions())


def test_protection_names_compare_as_strings():
    assert "cell_ov" in frozenset({Protection.cell_ov})
    assert Protection("cell_ov") == "cell_ov"
    assert Capability("fet_control") in frozenset({Capability.fet_control})


def _status(protections):
    return BmsStatus(0, 0, None, None, None, 0, True, True, protections, None, None)


def test_coarse_flags_cover_precise_names():
    status = _status(frozenset({"ov"}))
    assert status.indicates("cell_ov") and status.indicates("pack_ov")
    assert not status.indicates("cell_uv")
    assert _status(frozenset({"cell_ov"})).indicates("cell_ov")
    assert not _status(frozenset({"cell_ov"})).indicates("ov")


def test_unreported_protections_are_an_error_not_a_false():
    with pytest.raises(BmsCapabilityError):
        _status(None).indicates("cell_ov")
