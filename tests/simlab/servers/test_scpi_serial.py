"""An SCPI twin's RS-232 port on a pty, through pyvisa-py's ASRL session."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import pyvisa

from simlab.scpi import create_device, make_hardware
from simlab.scpi.links import LINKS, links_of
from simlab.servers.scpi_serial import ScpiSerialServer


def _serve(model: str) -> ScpiSerialServer:
    line = links_of(model).serial
    assert line is not None
    device = create_device(model, make_hardware(model), "SIM9", lambda: None)
    return ScpiSerialServer(device, threading.RLock(), line)


@pytest.fixture(scope="module")
def rm() -> Iterator[pyvisa.ResourceManager]:
    manager = pyvisa.ResourceManager("@py")
    yield manager
    manager.close()


def test_every_serial_model_answers_at_its_factory_settings(rm) -> None:
    serial_models = [m for m, links in LINKS.items() if links.serial is not None]
    assert {"Rigol DP832", "Rigol DL3021", "Fluke 5522A"} <= set(serial_models)
    for model in serial_models:
        with _serve(model) as server:
            line = server.line
            inst = rm.open_resource(
                server.resource,
                baud_rate=line.baud,
                read_termination=line.reply_end,
                write_termination="\n",
                timeout=1000,
            )
            try:
                assert server.resource == f"ASRL{server.port}::INSTR"
                assert ",SIM9," in inst.query("*IDN?"), model
            finally:
                inst.close()


def test_the_calibrator_ends_its_replies_with_cr_lf(rm) -> None:
    with _serve("Fluke 5522A") as server:
        inst = rm.open_resource(server.resource, timeout=1000, write_termination="\n")
        try:
            inst.write("*IDN?")
            assert inst.read_raw().endswith(b"\r\n")
        finally:
            inst.close()


@pytest.mark.parametrize("setting", [{"baud_rate": 19200}, {"baud_rate": 115200}])
def test_a_wrong_line_setting_gets_no_answer(rm, setting) -> None:
    with _serve("Rigol DP832") as server:
        inst = rm.open_resource(
            server.resource, read_termination="\n", write_termination="\n", timeout=300
        )
        try:
            for key, value in setting.items():
                setattr(inst, key, value)
            with pytest.raises(pyvisa.errors.VisaIOError) as caught:
                inst.query("*IDN?")
            assert caught.value.error_code == pyvisa.constants.StatusCode.error_timeout
            assert server.stats["framing"] == 1 and server.stats["answered"] == 0
        finally:
            inst.close()
