"""The lost-link policy, against simlab's twins with link faults injected.

Queries that change nothing are retried a bounded number of times on a fresh connection;
commands that change state are never repeated blindly (a read-back decides); a reboot is
noticed by the power-on bit; every failure ends as a typed error naming the instrument
and the command, within a bounded time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from instruments.errors import (
    InstrumentConnectionError,
    InstrumentError,
    InstrumentRebooted,
    InstrumentReplyError,
    InstrumentTimeout,
)
from instruments.registry import open_instrument
from instruments.scpi import idempotent
from rig.station.roles import confirmed
from simlab.lab import Lab

STATION = Path(__file__).resolve().parents[2] / "stations" / "sim-16s.yaml"


@pytest.fixture
def lab() -> Iterator[Lab]:
    with Lab.from_station_file(STATION) as lab:
        yield lab


def driver(lab: Lab, name: str, timeout_ms: int = 300):
    model = lab.spec.instruments[name].model
    transcript: list[dict] = []
    return open_instrument(
        model, lab.endpoints["instruments"][name], name, transcript, timeout_ms
    ), transcript


def test_which_queries_are_retried():
    assert idempotent("MEAS:VOLT? (@1)") and idempotent("VOLT? (@1);OUTP? (@1)")
    assert not idempotent("VOLT 3.3,(@1)") and not idempotent("VOLT 3.3,(@1);VOLT? (@1)")
    assert not idempotent("SYST:ERR?") and not idempotent(":SYSTem:ERRor?")
    assert not idempotent("*ESR?") and not idempotent("*TST?")


def test_a_dropped_connection_is_retried_on_a_fresh_one(lab):
    charger, transcript = driver(lab, "charger")
    try:
        charger.measure_voltage(1)
        lab._scpi["charger"].drop_connections()  # a glitch: the link drops once
        assert charger.measure_voltage(1) == 0.0
        kinds = [e["dir"] for e in transcript]
        assert "retry" in kinds and "reconnect" in kinds
    finally:
        charger.close()


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        ("scpi_disconnect", InstrumentConnectionError, "connection failed"),
        ("scpi_late:delay_s=1", InstrumentTimeout, "no reply"),
        ("scpi_garbage", InstrumentReplyError, "received"),
    ],
    ids=["disconnect", "late", "garbage"],
)
def test_a_lasting_fault_ends_as_a_typed_error_naming_instrument_and_query(
    lab, fault, error, words
):
    load, _ = driver(lab, "load")
    try:
        lab.add_defect(fault + ("," if ":" in fault else ":") + "instrument=load")
        with pytest.raises(error, match=words) as err:
            load.measure_current()
        assert "load" in str(err.value) and ":MEAS:CURR?" in str(err.value)
    finally:
        load.close()


def test_an_error_flood_stops_a_checked_set(lab):
    charger, _ = driver(lab, "charger")
    try:
        lab.add_defect("scpi_error_flood:instrument=charger")
        with pytest.raises(InstrumentError) as err:
            charger.set_voltage(1, 5.0)
        assert err.value.instrument == "charger" and "VOLT" in err.value.last_command
        assert {code for code, _ in err.value.errors} <= {-240, -350}
    finally:
        charger.close()


def test_a_reboot_is_noticed_and_the_safe_state_is_reapplied(lab):
    load, _ = driver(lab, "load")
    try:
        load.set_constant_current(1.0)
        load.set_input(True)
        lab.add_defect("scpi_reboot:instrument=load,at_s=1,down_s=0")
        lab.advance(2.0)  # it reboots at 1 s: input off, setpoints at *RST
        assert not lab.hardware["load"].loads[1].input_on
        with pytest.raises(InstrumentRebooted, match="load: rebooted"):
            load.measure_current()
        assert load.measure_current() == 0.0  # PON read once: the link is usable again
    finally:
        load.close()


def test_a_state_change_is_resent_only_when_the_read_back_says_it_did_not_take(lab):
    load, _ = driver(lab, "load")
    try:
        load.set_input(True)
        sent: list[bool] = []

        def write() -> None:
            sent.append(True)
            if len(sent) == 1:  # the link fails around the first send, which did not take
                lab._scpi["load"].drop_connections()
                raise InstrumentConnectionError("load", ":SOUR:INP:STAT OFF", "reset")
            load.set_input(False)

        confirmed(write, lambda: not load.input_enabled())
        assert len(sent) == 2 and not lab.hardware["load"].loads[1].input_on

        sent.clear()

        def took_anyway() -> None:  # it took, but the reply was lost
            sent.append(True)
            load.set_input(False)
            raise InstrumentTimeout("load", ":SOUR:INP:STAT OFF", 0.3)

        confirmed(took_anyway, lambda: not load.input_enabled())
        assert len(sent) == 1  # the read-back said it took: not sent again
    finally:
        load.close()


def test_bms_uart_faults_are_typed_errors(lab):
    from rig.config import load_station
    from rig.station.station import open_dut

    station = load_station(STATION)
    lab.make_safe()  # the cells on: the board boots and measures before it answers
    lab.advance(1.0)
    dut = open_dut(station, lab.endpoints)
    try:
        dut.read_status()
        lab.add_defect("bms_uart_corrupt")
        with pytest.raises(Exception) as corrupt:
            dut.read_status()
        lab.faults.clear()
        lab.add_defect("bms_uart_silent")
        with pytest.raises(Exception) as silent:
            dut.read_status()
    finally:
        dut.close()
    for err in (corrupt.value, silent.value):
        assert type(err).__module__.startswith("dut_drivers"), repr(err)
        assert not isinstance(err, AssertionError)


def test_a_reply_that_never_ends_is_a_typed_error_in_bounded_time():
    """pyvisa alone would read a stream without a terminator for ever."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(100)
            conn.sendall(b"Keysight Technologies,E36234A,MY1,1.0\n")
            conn.recv(100)
            try:
                while True:
                    conn.sendall(b"7" * 65536)
            except OSError:
                pass

    threading.Thread(target=serve, daemon=True).start()
    psu = open_instrument("Keysight E36234A", f"TCPIP::127.0.0.1::{port}::SOCKET", "psu", None, 300)
    try:
        psu.identity()
        with pytest.raises(InstrumentReplyError, match="no end of message") as err:
            psu.measure_voltage(1)
        assert err.value.sent == "MEAS:VOLT? (@1)" and "psu" in str(err.value)
    finally:
        psu.close()
        listener.close()
