"""The rig's drivers over the links real instruments use: HiSLIP and RS-232 (a pty), against
a served lab, with the same typed errors and lost-link policy as on a raw socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from instruments.errors import InstrumentConnectionError, InstrumentError, InstrumentTimeout
from instruments.registry import open_instrument
from simlab.lab import Lab

STATION = Path(__file__).resolve().parents[2] / "stations" / "sim-16s.yaml"


@pytest.fixture(scope="module", params=["hislip", "serial"])
def lab(request) -> Iterator[Lab]:
    lab = Lab.from_station_file(STATION).start(transport=request.param)
    try:
        yield lab
    finally:
        lab.stop()


def _open(lab: Lab, name: str, timeout_ms: int = 500, **kwargs):
    model = lab.spec.instruments[name].model
    resource = lab.endpoints["instruments"][name]
    return open_instrument(model, resource, name, [], timeout_ms, **kwargs)


def test_each_link_kind_is_served_where_the_model_has_it(lab) -> None:
    resources = lab.endpoints["instruments"]
    kind = "hislip0," if lab.transport == "hislip" else "ASRL/dev/pts/"
    on_link = {n for n, r in resources.items() if kind in r}
    if lab.transport == "hislip":  # Keysight's LAN instruments; Rigol's speak VXI-11/socket
        assert on_link == {"charger", "cellsim_a", "cellsim_b", "cellsim_c", "cellsim_d", "daq"}
    else:  # the models with an RS-232 port
        assert on_link == {"load", "ntc_1", "ntc_2"}
    for name in set(resources) - on_link:
        assert resources[name].endswith("::SOCKET")
        assert lab.endpoints["links"][name] == {"socket": resources[name]}


def test_drivers_set_read_back_and_raise_instrument_errors(lab) -> None:
    name = "charger" if lab.transport == "hislip" else "load"
    driver = _open(lab, name)
    try:
        driver.check_identity()
        if lab.transport == "hislip":
            driver.ch_1.voltage_setpoint = 12.5
            assert driver.ch_1.voltage_setpoint == 12.5
            with pytest.raises(InstrumentError) as caught:
                driver.write("VOLT 99,(@1)")
                driver.raise_errors()
        else:
            driver.set_constant_current(2.5)
            assert driver.mode() == "CC"
            with pytest.raises(InstrumentError) as caught:
                driver.write(":SOUR:CURR:LEV:IMM 99")
                driver.raise_errors()
        assert caught.value.errors[0][0] == -222
    finally:
        driver.close()


def test_the_calibrator_on_rs232_is_read_with_its_own_terminator(lab) -> None:
    if lab.transport != "serial":
        pytest.skip("the 5522A has no LAN port")
    ntc = _open(lab, "ntc_1")
    try:
        ntc.set_resistance(1, 10_000.0)
        assert ntc.resistance(1) == 10_000.0
        assert ntc.adapter.connection.read_termination == "\r\n"
    finally:
        ntc.close()


def test_a_serial_line_at_another_baud_rate_times_out_with_a_typed_error(lab) -> None:
    if lab.transport != "serial":
        pytest.skip("serial only")
    with pytest.raises(InstrumentTimeout, match=r"\*IDN\?"):
        _open(lab, "load", timeout_ms=200, serial_line={"baud_rate": 19200}).check_identity()


def test_a_dropped_hislip_session_is_reconnected_for_a_query(lab) -> None:
    if lab.transport != "hislip":
        pytest.skip("HiSLIP only")
    driver = _open(lab, "cellsim_d")
    try:
        driver.check_identity()
        lab._links["cellsim_d"].drop_connections()  # a glitch: the session drops once
        driver.check_identity()  # retried on a fresh session
        lab.add_defect("scpi_disconnect:instrument=cellsim_d")
        with pytest.raises(InstrumentConnectionError, match="SYST:ERR"):
            driver.write("OUTP 0,(@1)")  # goes into the socket; the drop shows on the reply
            driver.raise_errors()
    finally:
        lab.faults.clear()
        driver.close()
