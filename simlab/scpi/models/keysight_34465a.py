"""Keysight 34465A digital multimeter in digitize mode (DIG option), DC volts only.

The digitizing subset of the Truevolt command set: `CONF:VOLT:DC <range>` (which resets
sampling and triggering to their CONFigure defaults), `VOLT:DC:APER`, `VOLT:DC:ZERO:AUTO`,
`SAMP:SOUR TIM`, `SAMP:TIM` (20 µs minimum with DIG), `SAMP:COUN`, `SAMP:COUN:PRET`,
`TRIG:SOUR IMM|BUS|EXT|INT`, `TRIG:LEV`, `TRIG:SLOP POS|NEG`, `INIT`, `ABOR`, `*TRG`,
`FETC?` (comma-separated ASCII), `R? [max]` (IEEE 488.2 definite-length block, readings
removed), `DATA:REM?`, `DATA:POIN?`, and `STAT:OPER:COND?` (bit 4 measuring, bit 5 waiting
for trigger). Readings beyond ±120 % of range read ±9.9E37, as the meter reports overload.

What a general DMM client asks besides (QCoDeS's `Keysight34465A` at start-up and in its
snapshot): `SYST:LFR?` (50 Hz here, the line the NPLC timing assumes), `SYST:LIC:CAT?`
(the licensed options as quoted strings, the *OPT? ones), `SENS:FUNC "VOLT"` and its query,
`VOLT:DC:RES` (the resolution of each NPLC, 34465A table, as range × factor),
`VOLT:DC:RANG:AUTO`, `VOLT:DC:APER:ENAB?`, `TRIG:DEL` / `TRIG:DEL:AUTO` (the twin adds no
delay: only 0 s is taken, auto delay reads as set), `DISP[:STAT]`, `DISP:TEXT`, and `READ?`
(INIT then FETC?: one immediate reading completes at once).

Differences a client may notice: the meter's `*OPC?` and `FETC?` wait for the end of the
acquisition; here virtual time cannot pass while a query waits, so `*OPC?` answers at once
and `FETC?` before completion is refused with -230 (no reply). Poll `STAT:OPER:COND?` or
`DATA:POIN?` instead, as a client that must not block the bus would.
"""

from __future__ import annotations

import numpy as np

from simlab.hardware import DigitizerInput, InstrumentHardware
from simlab.scpi import params as p
from simlab.scpi.acquisition import Acquisition
from simlab.scpi.device import ScpiDevice, command, opt
from simlab.scpi.errors import ScpiError
from simlab.scpi.parser import Token, Word

RANGES = (0.1, 1.0, 10.0, 100.0, 1000.0)
APERTURE = (20e-6, 1.0)
SAMPLE_TIMER = (20e-6, 3600.0)
MAX_POINTS = 2_000_000  # with the MEM option
OVERLOAD = 9.9e37
NOT_EMULATED = -221
DATA_STALE = -230
OPER_MEASURING = 16
OPER_WAITING = 32
PLC_S = 0.02  # 50 Hz line
LINE_HZ = 50
# NPLC settings of a 34465A with DIG and the resolution each gives, × range, as QCoDeS's
# driver states them (from the Truevolt guide's resolution table; not read here)
RESOLUTION = (
    (0.001, 30e-6), (0.002, 15e-6), (0.006, 6e-6), (0.02, 3e-6), (0.06, 1.5e-6),
    (0.2, 0.7e-6), (1.0, 0.3e-6), (10.0, 0.1e-6), (100.0, 0.03e-6),
)  # fmt: skip


def _block(payload: str) -> str:
    """IEEE 488.2 definite-length block around `payload`."""
    length = str(len(payload))
    return f"#{len(length)}{length}{payload}"


def _zero_mode(token: Token) -> str:
    """OFF|ON|ONCE, or 0|1 as a boolean (QCoDeS sends `ZERO:AUTO 0`)."""
    if isinstance(token, Word) and token.text == "ONCE":
        return "ONCE"
    return "ON" if p.boolean(token) else "OFF"


class Keysight34465A(ScpiDevice):
    VENDOR = "Keysight Technologies"
    MODEL = "34465A"
    FIRMWARE = "A.03.01-02.40-03.01-00.52-03-02"
    OPTIONS = "0,0,DIG,MEM,0"

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        if modules:
            raise ValueError("the 34465A has no modules")
        return InstrumentHardware("Keysight 34465A", inputs={1: DigitizerInput()})

    def check_hardware(self, hardware: InstrumentHardware) -> None:
        if sorted(hardware.inputs) != [1]:
            raise ValueError(f"34465A needs inputs [1], got {sorted(hardware.inputs)}")

    def channel_numbers(self) -> list[int]:
        return [1]

    def reset_state(self) -> None:
        self.range = 10.0
        self.aperture: float | None = None  # None: NPLC governs
        self.nplc = 10.0
        self.zero_auto = "ON"
        self.display_on = True
        self.display_text = ""
        self._configure_defaults()

    def _configure_defaults(self) -> None:
        self.sample_source = "IMM"
        self.sample_timer = 1.0
        self.sample_count = 1
        self.pretrigger = 0
        self.trigger_source = "IMM"
        self.trigger_level = 0.0
        self.trigger_slope = "POS"
        self.trigger_count = 1
        self.trigger_delay_auto = True
        self.acquisition: Acquisition | None = None
        self.readings: list[float] = []
        self.removed = 0

    # --- configuration ---------------------------------------------------------------

    def configure(self, value: float | str | None, resolution: float | str | None) -> None:
        if value is None or value == "DEF":
            rng = 10.0
        elif value == "MIN":
            rng = RANGES[0]
        elif value == "MAX":
            rng = RANGES[-1]
        else:
            rng = self._range_for(float(value))
        self.range = rng
        self.aperture, self.nplc = None, 10.0
        self._configure_defaults()

    @staticmethod
    def _range_for(volts: float) -> float:
        for rng in RANGES:
            if abs(volts) <= rng * 1.2:
                return rng
        raise ScpiError(-222, f"{volts} V beyond the 1000 V range")

    def configure_other(self, *args: object) -> None:
        raise ScpiError(NOT_EMULATED, "only DC volts is emulated")

    def get_configure(self) -> str:
        return f'"VOLT {self.fmt(self.range)},{self.fmt(self.range * 3e-6)}"'

    def set_range(self, value: float | str) -> None:
        self.range = self._range_for(p.resolve(value, 0.0, 1000.0, 10.0))

    def get_range(self) -> str:
        return self.fmt(self.range)

    def set_aperture(self, value: float | str) -> None:
        self.aperture = p.resolve(value, *APERTURE, 0.1)

    def get_aperture(self) -> str:
        return self.fmt(self.aperture if self.aperture is not None else self.nplc * PLC_S)

    def set_nplc(self, value: float | str) -> None:
        self.nplc = p.resolve(value, 0.001, 100.0, 10.0)
        self.aperture = None

    def get_nplc(self) -> str:
        return self.fmt(self.nplc)

    def set_zero_auto(self, mode: str) -> None:
        self.zero_auto = "OFF" if mode == "ONCE" else mode

    def get_zero_auto(self) -> str:
        return "1" if self.zero_auto == "ON" else "0"

    def set_sample_source(self, source: str) -> None:
        self.sample_source = "TIM" if source.startswith("TIM") else "IMM"

    def get_sample_source(self) -> str:
        return self.sample_source

    def set_sample_timer(self, value: float | str) -> None:
        self.sample_timer = p.resolve(value, *SAMPLE_TIMER, 1.0)

    def get_sample_timer(self, limit: str | None = None) -> str:
        if limit == "MIN":  # the shortest interval the present aperture allows
            return self.fmt(max(SAMPLE_TIMER[0], self._aperture_s()))
        if limit == "MAX":
            return self.fmt(SAMPLE_TIMER[1])
        return self.fmt(self.sample_timer)

    def _aperture_s(self) -> float:
        return self.aperture if self.aperture is not None else self.nplc * PLC_S

    def set_sample_count(self, value: float | str) -> None:
        self.sample_count = round(p.resolve(value, 1, MAX_POINTS, 1))
        self.pretrigger = min(self.pretrigger, self.sample_count - 1)

    def get_sample_count(self) -> str:
        return self.fmt_int(self.sample_count)

    def set_pretrigger(self, value: float | str) -> None:
        count = round(p.resolve(value, 0, MAX_POINTS - 1, 0))
        if count >= self.sample_count:
            raise ScpiError(-221, "pretrigger count must be below the sample count")
        self.pretrigger = count

    def get_pretrigger(self) -> str:
        return self.fmt_int(self.pretrigger)

    def set_trigger_source(self, source: str) -> None:
        self.trigger_source = {"IMMEDIATE": "IMM", "EXTERNAL": "EXT", "INTERNAL": "INT"}.get(
            source, source
        )

    def get_trigger_source(self) -> str:
        return self.trigger_source

    def set_trigger_level(self, value: float | str) -> None:
        limit = 1.2 * self.range
        self.trigger_level = p.resolve(value, -limit, limit, 0.0)

    def get_trigger_level(self) -> str:
        return self.fmt(self.trigger_level)

    def set_trigger_slope(self, slope: str) -> None:
        self.trigger_slope = slope[:3]

    def get_trigger_slope(self) -> str:
        return self.trigger_slope

    def set_trigger_count(self, value: float | str) -> None:
        count = round(p.resolve(value, 1, 1_000_000, 1))
        if count != 1:
            raise ScpiError(NOT_EMULATED, "one trigger per INIT is emulated")
        self.trigger_count = count

    def get_trigger_count(self) -> str:
        return self.fmt_int(self.trigger_count)

    # --- acquisition -----------------------------------------------------------------

    def _interval(self) -> float:
        if self.sample_source == "TIM":
            return self.sample_timer
        return self.aperture if self.aperture is not None else self.nplc * PLC_S

    def initiate(self) -> None:
        if self.acquisition is not None and not self.acquisition.complete:
            raise ScpiError(-213, "INIT while measuring")
        if self.pretrigger and self.trigger_source == "IMM":
            raise ScpiError(-221, "pretrigger needs a trigger source other than IMM")
        signal = self.hardware.inputs[1].signal
        now = signal.now() if signal is not None else 0.0
        level = self.trigger_level if self.trigger_source == "INT" else None
        if self.trigger_source in ("BUS", "EXT"):
            level = float("nan")  # waits for *TRG (BUS); EXT never comes on this bench
        self.acquisition = Acquisition(
            signal,
            now,
            self._interval(),
            self.sample_count,
            self.pretrigger,
            level,
            rising=self.trigger_slope == "POS",
        )
        self.readings, self.removed = [], 0

    def bus_trigger(self) -> None:
        acq = self.acquisition
        if acq is None or self.trigger_source != "BUS" or not acq.waiting:
            return
        signal = acq.signal
        now = signal.now() if signal is not None else acq.t_arm
        k = max(int(np.ceil((now - acq.t_arm) / acq.dt - 1e-9)), acq.pretrigger)
        acq._trigger_index = k

    def abort(self) -> None:
        self.acquisition = None

    def _record(self) -> list[float]:
        acq = self.acquisition
        if acq is None or not acq.complete:
            return self.readings
        if not self.readings and not self.removed:
            values = acq.values()
            step = self.range * 1e-6
            quantized = np.round(values / step) * step
            over = np.abs(values) > 1.2 * self.range
            quantized[over] = np.sign(values[over]) * OVERLOAD
            self.readings = [float(v) for v in quantized]
        return self.readings

    def fetch(self) -> str:
        acq = self.acquisition
        if acq is None or not acq.complete:
            raise ScpiError(DATA_STALE, "no completed acquisition")
        return ",".join(self.fmt(v) for v in self._record())

    def read_remove(self, maximum: float | None) -> str:
        readings = self._record()
        count = len(readings) if maximum is None else min(int(maximum), len(readings))
        taken, self.readings = readings[:count], readings[count:]
        self.removed += count
        return _block(",".join(self.fmt(v) for v in taken))

    def data_remove(self, count: float) -> str:
        readings = self._record()
        if int(count) > len(readings):
            raise ScpiError(-222, "fewer readings in memory")
        taken, self.readings = readings[: int(count)], readings[int(count) :]
        self.removed += int(count)
        return ",".join(self.fmt(v) for v in taken)

    def points(self) -> str:
        acq = self.acquisition
        if acq is None:
            return self.fmt_int(len(self.readings))
        if acq.complete:
            return self.fmt_int(len(self._record()))
        return self.fmt_int(acq.taken())

    def operation_condition(self) -> str:
        acq = self.acquisition
        value = 0
        if acq is not None and not acq.complete:
            value |= OPER_MEASURING
            if acq.waiting:
                value |= OPER_WAITING
        return self.fmt_int(value)

    # --- what general DMM clients ask (QCoDeS's Keysight34465A) -------------------------

    def get_line_frequency(self) -> str:
        return self.fmt_int(LINE_HZ)

    def get_licenses(self) -> str:
        names = [o for o in (self.OPTIONS or "").split(",") if o != "0"]
        return ",".join(f'"{name}"' for name in names)

    def set_function(self, name: str) -> None:
        if name.upper() not in ("VOLT", "VOLT:DC", "VOLTAGE", "VOLTAGE:DC"):
            raise ScpiError(NOT_EMULATED, "only DC volts is emulated")

    def get_function(self) -> str:
        return '"VOLT"'

    def _factor(self) -> float:
        nplc = self.nplc if self.aperture is None else self.aperture / PLC_S
        eligible = [f for n, f in RESOLUTION if n <= nplc * (1 + 1e-9)]
        return eligible[-1] if eligible else RESOLUTION[0][1]

    def set_resolution(self, value: float | str) -> None:
        if value == "DEF":
            self.nplc, self.aperture = 10.0, None
            return
        finest, coarsest = RESOLUTION[-1][1] * self.range, RESOLUTION[0][1] * self.range
        wanted = p.resolve(value, finest, coarsest)
        # the fastest setting whose resolution is at least as fine as asked
        nplc = next(n for n, f in RESOLUTION if f * self.range <= wanted * (1 + 1e-6))
        self.nplc, self.aperture = nplc, None

    def get_resolution(self) -> str:
        return self.fmt(self._factor() * self.range)

    def set_autorange(self, mode: Token) -> None:
        if isinstance(mode, Word) and mode.text == "ONCE":
            return  # the input is ranged once: the fixed range stays (no signal level here)
        if p.boolean(mode):
            raise ScpiError(
                NOT_EMULATED, "autorange is not emulated: a capture needs a fixed range"
            )

    def get_autorange(self) -> str:
        return "0"

    def set_aperture_enabled(self, on: bool) -> None:
        if on and self.aperture is None:
            self.aperture = self.nplc * PLC_S
        elif not on:
            self.aperture = None

    def get_aperture_enabled(self) -> str:
        return "0" if self.aperture is None else "1"

    def set_trigger_delay(self, value: float | str) -> None:
        if p.resolve(value, 0.0, 3600.0, 0.0) != 0.0:
            raise ScpiError(NOT_EMULATED, "a trigger delay is not emulated")
        self.trigger_delay_auto = False

    def get_trigger_delay(self, limit: str | None = None) -> str:
        return self.fmt(3600.0 if limit == "MAX" else 0.0)

    def set_trigger_delay_auto(self, on: bool) -> None:
        self.trigger_delay_auto = on

    def get_trigger_delay_auto(self) -> str:
        return "1" if self.trigger_delay_auto else "0"

    def set_display(self, on: bool) -> None:
        self.display_on = on

    def get_display(self) -> str:
        return "1" if self.display_on else "0"

    def set_display_text(self, text: str) -> None:
        self.display_text = text[:40]

    def get_display_text(self) -> str:
        return f'"{self.display_text}"'

    def clear_display_text(self) -> None:
        self.display_text = ""

    def read(self) -> str:
        self.initiate()
        return self.fetch()

    COMMANDS = (
        command("CONFigure:VOLTage[:DC]", configure, opt(p.numeric), opt(p.numeric)),
        command("CONFigure:CURRent[:DC]", configure_other, opt(p.numeric), opt(p.numeric)),
        command("CONFigure?", get_configure),
        command("[SENSe:]VOLTage[:DC]:RANGe", set_range, p.numeric),
        command("[SENSe:]VOLTage[:DC]:RANGe?", get_range),
        command("[SENSe:]VOLTage[:DC]:APERture", set_aperture, p.numeric),
        command("[SENSe:]VOLTage[:DC]:APERture?", get_aperture),
        command("[SENSe:]VOLTage[:DC]:NPLCycles", set_nplc, p.numeric),
        command("[SENSe:]VOLTage[:DC]:NPLCycles?", get_nplc),
        command("[SENSe:]VOLTage[:DC]:ZERO:AUTO", set_zero_auto, _zero_mode),
        command("[SENSe:]VOLTage[:DC]:ZERO:AUTO?", get_zero_auto),
        command("SAMPle:SOURce", set_sample_source, p.choice("IMMediate", "TIMer")),
        command("SAMPle:SOURce?", get_sample_source),
        command("SAMPle:TIMer", set_sample_timer, p.numeric),
        command("SAMPle:TIMer?", get_sample_timer, opt(p.limit_word)),
        command("SAMPle:COUNt", set_sample_count, p.numeric),
        command("SAMPle:COUNt?", get_sample_count),
        command("SAMPle:COUNt:PRETrigger", set_pretrigger, p.numeric),
        command("SAMPle:COUNt:PRETrigger?", get_pretrigger),
        command(
            "TRIGger:SOURce",
            set_trigger_source,
            p.choice("IMMediate", "BUS", "EXTernal", "INTernal"),
        ),
        command("TRIGger:SOURce?", get_trigger_source),
        command("TRIGger:LEVel", set_trigger_level, p.numeric),
        command("TRIGger:LEVel?", get_trigger_level),
        command("TRIGger:SLOPe", set_trigger_slope, p.choice("POSitive", "NEGative")),
        command("TRIGger:SLOPe?", get_trigger_slope),
        command("TRIGger:COUNt", set_trigger_count, p.numeric),
        command("TRIGger:COUNt?", get_trigger_count),
        command("INITiate[:IMMediate]", initiate),
        command("ABORt", abort),
        command("*TRG", bus_trigger),
        command("FETCh?", fetch),
        command("R?", read_remove, opt(p.integer)),
        command("DATA:REMove?", data_remove, p.integer),
        command("DATA:POINts?", points),
        command("STATus:OPERation:CONDition?", operation_condition),
        command("SYSTem:LFRequency?", get_line_frequency),
        command("SYSTem:LICense:CATalog?", get_licenses),
        command("[SENSe:]FUNCtion[:ON]", set_function, p.string),
        command("[SENSe:]FUNCtion[:ON]?", get_function),
        command("[SENSe:]VOLTage[:DC]:RESolution", set_resolution, p.numeric),
        command("[SENSe:]VOLTage[:DC]:RESolution?", get_resolution),
        command("[SENSe:]VOLTage[:DC]:RANGe:AUTO", set_autorange, p.token),
        command("[SENSe:]VOLTage[:DC]:RANGe:AUTO?", get_autorange),
        command("[SENSe:]VOLTage[:DC]:APERture:ENABled", set_aperture_enabled, p.boolean),
        command("[SENSe:]VOLTage[:DC]:APERture:ENABled?", get_aperture_enabled),
        command("TRIGger:DELay", set_trigger_delay, p.numeric),
        command("TRIGger:DELay?", get_trigger_delay, opt(p.limit_word)),
        command("TRIGger:DELay:AUTO", set_trigger_delay_auto, p.boolean),
        command("TRIGger:DELay:AUTO?", get_trigger_delay_auto),
        command("DISPlay[:STATe]", set_display, p.boolean),
        command("DISPlay[:STATe]?", get_display),
        command("DISPlay:TEXT[:DATA]", set_display_text, p.string),
        command("DISPlay:TEXT[:DATA]?", get_display_text),
        command("DISPlay:TEXT:CLEar", clear_display_text),
        command("READ?", read),
    )
