"""Twins of the thermistor emulators, digitizers and switch mainframes."""

from __future__ import annotations

import numpy as np
import pytest

from simlab.physics.trace import Approach, Trace
from simlab.scpi.bench import Bench, make_bench


class FakeSignal:
    """A trace on a clock the test moves."""

    def __init__(self, trace: Trace, t: float = 0.0):
        self.trace, self.t = trace, t

    def now(self) -> float:
        return self.t

    def values(self, times: np.ndarray) -> np.ndarray:
        return self.trace.values(times)

    def crossing(self, level: float, rising: bool, a: float, b: float) -> float | None:
        return self.trace.crossing(level, rising, a, b)


def rising_edge() -> FakeSignal:
    """0 V until t = 1 s, then an RL rise towards 5 V with τ = 100 µs."""
    trace = Trace(0.0)
    trace.add(Approach(1.0, 0.0, 5.0, 100e-6))
    return FakeSignal(trace, t=0.5)


# --- thermistor emulators -----------------------------------------------------------


def test_fluke_ohms_with_suffixes_and_its_error_query():
    cal = make_bench("Fluke 5522A")
    out = cal.hardware.resistors[1]
    cal.ask("OUT 10 KOHM;OPER")
    assert (out.resistance_ohm, out.output_on) == (10_000.0, True)
    cal.ask("out 2.2MOHM")  # MOHM is megohm, lower case accepted
    assert out.resistance_ohm == 2.2e6
    assert cal.ask("OUT?").startswith("2.200000E+06,OHM")
    cal.ask("OUT 1 V;OUT 2e9 OHM;OUT 5 KHZ;STBY")
    assert cal.ask("ERR?") == '-221,"Settings conflict"'
    assert cal.errors() == [-222, -221]  # SYST:ERR? drains the same queue
    assert not out.output_on and out.resistance_ohm == 2.2e6
    assert cal.ask("*OPT?") == "" and cal.ask("*OPC?") == "1"
    cal.ask("*RST")
    assert cal.ask("OPER?") == "0"


def test_mc642_resistance_long_and_short_forms():
    box = make_bench("Powertek MC642")
    out = box.hardware.resistors[1]
    box.ask(":SOURce:RESistance:LEVel:IMMediate:AMPLitude 4700;OUTP ON")
    assert (out.resistance_ohm, out.output_on) == (4700.0, True)
    assert box.ask("res?;RES? MAX;outp:stat?") == "4.700000E+03;1.000000E+07;1"
    box.ask("RES 2E7;RES -1;RES 10 OHM")
    assert box.errors() == [-222, -222, -131]
    assert out.resistance_ohm == 4700.0
    box.ask("*RST")
    assert not out.output_on


# --- digitizers ------------------------------------------------------------------------


def setup_34465a(dmm: Bench) -> None:
    dmm.ask(
        "CONF:VOLT:DC 10;:VOLT:DC:APER 2E-5;:SAMP:SOUR TIM;:SAMP:TIM 2E-5;"
        ":SAMP:COUN 100;:SAMP:COUN:PRET 20;:TRIG:SOUR INT;:TRIG:LEV 2;:TRIG:SLOP POS"
    )


def test_34465a_level_trigger_with_pretrigger():
    dmm = make_bench("Keysight 34465A")
    signal = rising_edge()
    dmm.hardware.inputs[1].signal = signal
    setup_34465a(dmm)
    dmm.ask("INIT")
    assert dmm.ask("STAT:OPER:COND?") == "+48"  # measuring, waiting for trigger
    signal.t = 1.0005
    assert dmm.ask("STAT:OPER:COND?") == "+16"
    dmm.ask("FETC?")
    assert dmm.errors() == [-230]  # not complete: no reply, -230
    signal.t = 1.1
    assert dmm.ask("STAT:OPER:COND?") == "+0" and dmm.ask("DATA:POIN?") == "+100"
    readings = [float(x) for x in dmm.ask("FETC?").split(",")]
    assert readings[19] < 2.0 <= readings[20]  # the trigger sample is index 20
    t_cross = 1.0 - 100e-6 * np.log(1 - 2 / 5)
    t_trig = 0.5 + np.ceil((t_cross - 0.5) / 20e-6) * 20e-6
    assert readings[20] == pytest.approx(5 * (1 - np.exp(-(t_trig - 1.0) / 100e-6)), abs=1e-4)
    block = dmm.ask("R? 30")
    assert block.startswith("#3") and len(block[5:].split(",")) == 30
    assert dmm.ask("DATA:POIN?") == "+70"


def test_34465a_ranges_and_settings_conflicts():
    dmm = make_bench("Keysight 34465A")
    dmm.ask("SAMP:TIM 1E-5;SAMP:COUN 0;TRIG:LEV 13;CONF:CURR:DC 1")
    assert dmm.errors() == [-222, -222, -222, -221]
    dmm.ask("SAMP:COUN 10;SAMP:COUN:PRET 10;SAMP:COUN:PRET 5;INIT")
    assert dmm.errors() == [-221, -221]  # pretrigger >= count; pretrigger with TRIG:SOUR IMM
    assert dmm.ask("*OPT?") == "0,0,DIG,MEM,0"


def test_34465a_overload_reads_9_9e37():
    dmm = make_bench("Keysight 34465A")
    signal = rising_edge()
    dmm.hardware.inputs[1].signal = signal
    dmm.ask("CONF:VOLT:DC 1;:SAMP:SOUR TIM;:SAMP:TIM 1E-4;:SAMP:COUN 10;:TRIG:SOUR BUS;INIT")
    signal.t = 1.01
    dmm.ask("*TRG")
    signal.t = 1.1
    assert set(dmm.ask("FETC?").split(",")) == {"+9.90000000E+37"}


def test_ds1104z_single_capture_raw_bytes_and_ascii():
    scope = make_bench("Rigol DS1104Z")
    signal = rising_edge()
    scope.hardware.inputs[1].signal = signal
    scope.ask(
        ":CHANnel1:SCALe 1;:CHAN1:OFFS 0;:TIMebase:MAIN:SCALe 5E-5;:TIM:OFFS 2E-4;"
        ":ACQ:MDEP 12000;:TRIG:EDG:SOUR CHAN1;:TRIG:EDG:SLOP POS;:TRIG:EDG:LEV 2;:SING"
    )
    assert scope.ask(":ACQ:SRAT?") == "2.000000e+07" and scope.ask(":TRIG:STAT?") == "WAIT"
    signal.t = 1.00006
    assert scope.ask(":TRIG:STAT?") == "TD"
    signal.t = 1.1
    assert scope.ask(":TRIG:STAT?") == "STOP"
    scope.ask(":WAV:SOUR CHAN1;:WAV:MODE RAW;:WAV:FORM BYTE;:WAV:STAR 1;:WAV:STOP 12000")
    fields = scope.ask(":WAV:PRE?").split(",")
    assert fields[:3] == ["0", "2", "12000"] and float(fields[5]) == pytest.approx(-1e-4)
    data = scope.ask(":WAV:DATA?").encode("latin-1")
    assert data[:11] == b"#9000012000" and len(data) == 11 + 12000
    volts = (np.frombuffer(data[11:], dtype=np.uint8).astype(int) - 127) * 0.04
    assert volts[2000] >= 1.96 and volts[1900] < 1.9  # trigger sample at index 2000
    assert volts[0] == 0.0 and volts.max() == pytest.approx(5 * (1 - np.exp(-5.45)), abs=0.04)
    scope.ask(":WAV:FORM ASC;:WAV:STAR 1999;:WAV:STOP 2001")
    ascii_block = scope.ask(":WAV:DATA?")
    values = [float(v) for v in ascii_block[11:].split(",")]
    assert values == pytest.approx(list(volts[1998:2001]))
    scope.ask(":WAV:STAR 1;:WAV:STOP 12000;:WAV:DATA?")  # 12000 > 15625? no: allowed
    scope.ask(":WAV:FORM BYTE;:WAV:STOP 300000;:WAV:DATA?")
    assert scope.errors() == []


def test_ds1104z_errors():
    scope = make_bench("Rigol DS1104Z")
    scope.ask(":ACQ:MDEP 5000;:TRIG:EDG:SOUR MATH;:CHAN5:SCAL 1;:CHAN1:SCAL 20;:TRIG:EDG:LEV 9")
    assert scope.errors() == [-224, -224, -113, -222, -222]
    scope.ask(":WAV:DATA?")
    assert scope.errors() == [-230]
    assert scope.ask(":CHANNEL1:DISPLAY?;:CHAN2:DISP?") == "1;0"


# --- switches ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "modules"),
    [("Keysight DAQ970A", ["DAQM901A", "DAQM903A"]), ("Rigol M300", ["MC3120", "MC3324"])],
)
def test_switch_close_open_and_query(model, modules):
    sw = make_bench(model, modules=modules)
    moved: list[int] = []
    sw.hardware.relays[201].on_change = lambda: moved.append(201)
    sw.ask("ROUT:CLOS (@201:203, 105)")
    assert sw.ask("ROUTe:CLOSe? (@201:204)") == "1,1,1,0"
    assert sw.ask("rout:open? (@105,106)") == "0,1"
    sw.ask(":ROUT:OPEN (@202);ROUT:CLOS:EXCL (@204)")
    assert sw.ask("ROUT:CLOS? (@201,202,203,204,105)") == "0,0,0,1,1"
    assert sw.ask("SYST:CTYP? 200").split(",")[1] == modules[1]
    sw.ask("ROUT:CLOS (@301);ROUT:CLOS;ROUT:CLOS 101")
    assert sw.errors() == [-222, -109, -108]
    sw.ask("*RST")
    assert sw.ask("ROUT:CLOS? (@204,105)") == "0,0"
    assert moved == [201, 201]  # closed, then opened by CLOS:EXCL


def test_switch_unknown_module():
    with pytest.raises(ValueError, match="not emulated"):
        make_bench("Keysight DAQ970A", modules=["DAQM909A"])


def test_daq970a_digital_ports_read_their_lines():
    """A DAQM907A's two ports read the lines wired to them; relay commands refuse them."""
    daq = make_bench("Keysight DAQ970A", modules=["DAQM903A", "DAQM907A"])
    assert sorted(daq.hardware.digital) == [201, 202]
    assert daq.ask("SYST:CTYP? 200").split(",")[1] == "DAQM907A"
    assert daq.ask("DIG:DATA:BYTE? (@201)") == "0"  # nothing wired: the lines read 0
    lines = {"value": 0b101}
    daq.hardware.digital[201].level = lambda: lines["value"]
    assert daq.ask("SENSe:DIGital:DATA:BYTE? (@201,202)") == "5,0"
    lines["value"] = 0x1FF  # only eight lines
    assert daq.ask("MEAS:DIG:BYTE? (@201)") == "255"
    daq.ask("ROUT:CLOS (@201);DIG:DATA:BYTE? (@101)")
    assert daq.errors() == [-222, -222]


def test_daq970a_dmm_reads_what_the_bench_wires_to_its_multiplexer():
    from simlab.scpi import create_device, make_hardware

    hw = make_hardware("Keysight DAQ970A", ["DAQM903A", "DAQM901A"])
    dev = create_device("Keysight DAQ970A", hw, "X", solve=lambda: None)
    hw.meters[201].read = lambda kind: 10_000.0 if kind == "resistance" else None
    hw.meters[203].read = lambda kind: 31.25 if kind == "temperature" else None
    assert dev.handle("MEAS:FRES? (@201)") == "+1.00000000E+04"
    assert dev.handle("MEAS:FRES? AUTO,DEF,(@201)") == "+1.00000000E+04"
    assert dev.handle("MEAS:FRES? (@202)") == "+9.90000000E+37"  # nothing wired: open
    assert dev.handle("MEAS:TEMP? TC,K,(@203)") == "+3.12500000E+01"
    assert dev.handle("MEAS:RES? (@201,202)") == "+1.00000000E+04,+9.90000000E+37"
    assert dev.handle("MEAS:FRES? (@101)") is None  # an actuator channel: no DMM path
    assert dev.handle("SYST:ERR?").startswith("-221")
    assert dev.handle("MEAS:FRES? (@215)") is None  # the upper half is the sense pair
    assert dev.handle("SYST:ERR?").startswith("-222")


def test_n6781a_current_meter_ranges():
    from simlab.scpi import create_device, make_hardware

    hw = make_hardware("Keysight N6705C", None)
    dev = create_device("Keysight N6705C", hw, "X", solve=lambda: None)
    hw.sources[1].current_meas = 0.015
    assert dev.handle("MEAS:CURR? (@1)") == "+1.500000E-02"
    dev.handle("SENS:CURR:RANG 0.0005,(@1)")
    assert dev.handle("SENS:CURR:RANG? (@1)") == "+1.000000E-03"
    assert dev.handle("MEAS:CURR? (@1)") == "+9.910000E+37"  # beyond the 1 mA range
    dev.handle("SENS:CURR:RANG 0.05,(@1)")
    assert dev.handle("MEAS:CURR? (@1)") == "+1.500000E-02"
    dev.handle("*RST")
    assert dev.handle("SENS:CURR:RANG? (@1)") == "+3.060000E+00"
