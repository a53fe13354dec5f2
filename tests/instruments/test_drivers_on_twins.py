"""Every driver against its simlab twin over a real socket (pyvisa-py, TCP loopback).

The two sides are written separately (the driver from the vendor's manual, the twin
from the same manual), so this is where a disagreement about syntax, reply format,
units or ranges shows up: each role method must round-trip through the twin.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from instruments.errors import InstrumentError
from instruments.registry import MODELS, open_instrument
from instruments.roles import (
    CellEmulator,
    ChannelListEmulator,
    ElectronicLoad,
    FunctionGenerator,
    PackEmulator,
    PowerSupply,
    ProtectedSupply,
    ShortingLoad,
)
from simlab.scpi import MODELS as TWINS
from simlab.scpi import create_device, make_hardware
from simlab.servers.scpi_tcp import ScpiTcpServer

SOURCES = [m for m, e in MODELS.items() if e.role in ("power_supply", "cell_emulator")]
LOADS = [m for m, e in MODELS.items() if e.role == "electronic_load"]


def _served(model: str) -> Iterator[ScpiTcpServer]:
    hardware = make_hardware(model)

    def physics() -> None:
        for src in hardware.sources.values():
            src.voltage_meas = src.voltage_set if src.output_on else 0.0
            src.current_meas = min(0.25, src.current_limit) if src.output_on else 0.0
        for load in hardware.loads.values():
            load.voltage_meas = 48.0
            load.current_meas = load.current_set if load.input_on and load.mode == "CC" else 0.0

    device = create_device(model, hardware, "SIM0042", physics)
    with ScpiTcpServer(device, threading.RLock()) as server:
        yield server


@pytest.fixture
def served(request):
    yield from _served(request.param)


def test_every_driver_has_a_twin():
    assert set(MODELS) <= set(TWINS)


@pytest.mark.parametrize("served", SOURCES, indirect=True, ids=SOURCES)
def test_source_round_trip(served, request):
    model = request.node.callspec.params["served"]
    drv = open_instrument(model, served.resource, "dut-side")
    try:
        ident = drv.check_identity()
        assert ident.model == model.split()[1]
        drv.clear()
        drv.raise_errors()
        assert isinstance(drv, PowerSupply | CellEmulator)
        drv.set_voltage(2, 3.25)
        drv.set_current_limit(2, 0.8)
        drv.set_output(2, True)
        assert drv.output_enabled(2) is True
        assert drv.output_enabled(1) is False
        assert drv.measure_voltage(2) == pytest.approx(3.25)
        assert drv.measure_current(2) == pytest.approx(0.25)
        drv.set_output(2, False)
        assert drv.output_enabled(2) is False
        if isinstance(drv, PackEmulator):
            group = [2, 3, 4]
            drv.set_voltages(group, 3.4)
            if isinstance(drv, ChannelListEmulator):
                drv.set_current_limits(group, 0.5)
                drv.set_outputs(group, True)
                assert [drv.output_enabled(ch) for ch in (1, *group)] == [False, True, True, True]
            else:
                for ch in group:
                    drv.set_output(ch, True)
            assert drv.measure_voltages(group) == pytest.approx([3.4] * 3)
            assert drv.measure_voltages([4, 2]) == pytest.approx([3.4] * 2)
        if isinstance(drv, ProtectedSupply):
            drv.set_ovp(1, 3.0)
            drv.set_voltage(1, 2.0)
            drv.set_output(1, True)
            assert drv.protection_tripped(1) is False
            if hasattr(drv.channel(1), "ovp_enabled"):
                drv.channel(1).ovp_enabled = True
            drv.set_voltage(1, 3.5)  # over the OVP level: the output latches off
            assert drv.protection_tripped(1) is True
            assert drv.output_enabled(1) is False
            drv.set_voltage(1, 2.0)
            drv.clear_protection(1)
            drv.set_output(1, True)
            assert drv.output_enabled(1) is True
        drv.raise_errors()
    finally:
        drv.close()


@pytest.mark.parametrize("served", LOADS, indirect=True, ids=LOADS)
def test_load_round_trip(served, request):
    model = request.node.callspec.params["served"]
    drv = open_instrument(model, served.resource, "dut-side")
    try:
        drv.check_identity()
        assert isinstance(drv, ElectronicLoad) and isinstance(drv, ShortingLoad)
        drv.set_constant_current(2.5)
        assert drv.mode() == "CC"
        drv.set_input(True)
        assert drv.input_enabled() is True
        assert drv.measure_current() == pytest.approx(2.5)
        assert drv.measure_voltage() == pytest.approx(48.0)
        assert drv.measure_power() == pytest.approx(120.0)
        drv.configure("CR", 20.0)
        assert drv.mode() == "CR"
        drv.configure("CV", 12.0)
        drv.configure("CP", 50.0)
        assert drv.mode() == "CP"
        drv.set_slew(1e5)  # 0.1 A/us
        drv.set_constant_current(1.0)
        drv.set_short(True)
        assert drv.short_enabled() is True
        assert drv.measure_current() > 1.0  # the full current of the present range
        drv.set_short(False)
        assert drv.measure_current() == pytest.approx(1.0)
        drv.set_input(False)
        assert drv.input_enabled() is False
        drv.raise_errors()
    finally:
        drv.close()


@pytest.mark.parametrize("served", [*SOURCES, *LOADS], indirect=True, ids=[*SOURCES, *LOADS])
def test_twin_refusal_reaches_the_driver_as_a_typed_error(served, request):
    """A value the driver lets through but the twin refuses (a raw write past the
    driver's own check) comes back as InstrumentError naming the command."""
    model = request.node.callspec.params["served"]
    drv = open_instrument(model, served.resource, "dut-side")
    try:
        drv.write("NOT:A:COMMAND 1")
        with pytest.raises(InstrumentError, match=r"NOT:A:COMMAND 1.*-113") as err:
            drv.raise_errors()
        assert err.value.instrument == "dut-side"
    finally:
        drv.close()


GENERATORS = [m for m, e in MODELS.items() if e.role == "function_generator"]


@pytest.mark.parametrize("served", GENERATORS, indirect=True, ids=GENERATORS)
def test_generator_round_trip(served, request):
    """Open-circuit levels, a single triggered pulse with its edges, the output relay;
    what the twin's output does in time is what the driver asked for."""
    model = request.node.callspec.params["served"]
    hw = served.device.hardware
    now = [0.0]
    hw.clock = lambda: now[0]
    drv = open_instrument(model, served.resource, "dut-side")
    try:
        drv.check_identity()
        assert isinstance(drv, FunctionGenerator)
        drv.set_high_impedance(2)
        drv.set_dc(2, -1.25)
        drv.set_output(2, True)
        assert drv.output_enabled(2) is True and drv.output_enabled(1) is False
        assert drv.dc_level(2) == pytest.approx(-1.25)
        trace = hw.generators[2].trace
        assert trace.value(1e-3) == pytest.approx(-1.25)
        drv.configure_pulse(2, 0.5, 7.5, 200e-6, 50e-9)
        now[0] = 1.0
        drv.fire(2)
        start = trace.crossing(4.0, True, 1.0, 1.1) - 25e-9  # half way up the 50 ns edge
        assert 1.0 + 1e-6 <= start <= 1.0 + 2e-6  # the bus trigger's latency
        assert trace.value(start + 100e-6) == pytest.approx(7.5)
        assert trace.value(start + 250e-6) == pytest.approx(0.5)  # back at the idle level
        with pytest.raises(ValueError, match="beyond"):
            drv.set_dc(2, 10.5)
        drv.set_output(2, False)
        assert drv.output_enabled(2) is False and trace.value(2.0) == 0.0
        drv.raise_errors()
    finally:
        drv.close()
