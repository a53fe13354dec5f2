"""Rigol DS1104Z (DS1000Z series) four-channel oscilloscope, for µs trip captures.

The subset a trip capture uses, per the DS1000Z programming guide: channel vertical
setup (`:CHANnel<n>:DISPlay|SCALe|OFFSet|PROBe|COUPling`), timebase (`:TIMebase[:MAIN]:
SCALe|OFFSet`, 12 divisions across, the trigger at centre shifted by the offset), memory
depth (`:ACQuire:MDEPth`, per enabled-channel count) and the resulting `:ACQuire:SRATe?`
(1 GSa/s with one channel, 500 MSa/s with two, 250 MSa/s with three or four), edge
trigger (`:TRIGger:EDGe:SOURce|SLOPe|LEVel`, `:TRIGger:SWEep`, `:TRIGger:STATus?` → TD,
WAIT, RUN, AUTO or STOP), `:RUN`, `:STOP`, `:SINGle`, `:TFORce`, and waveform readout
(`:WAVeform:SOURce|MODE|FORMat|STARt|STOP`, `:WAVeform:PREamble?` with its ten fields,
`:WAVeform:DATA?` as a TMC block `#9nnnnnnnnn…`). Samples are 8-bit: a byte b reads as
(b − YORigin − YREFerence) × YINCrement volts, YINCrement = scale / 25, YREFerence 127.
At most 250 000 points per BYTE read, 15 625 per ASCii read, as the guide says.

`:WAVeform:XINCrement?` and `:XORigin?` answer from the settings in force until a record is
complete (QCoDeS's `RigolDS1074Z` asks them at start-up). `:WAVeform:POINts?`, which that
driver also asks, is not in the DS1000Z guide and is refused as an undefined header.

Simplifications: the timebase offset is limited to ±6 divisions (a trigger on screen),
and `:RUN` in NORMal sweep re-arms like `:SINGle` without stopping.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from simlab.hardware import DigitizerInput, InstrumentHardware
from simlab.scpi import params as p
from simlab.scpi.acquisition import Acquisition
from simlab.scpi.device import Command, ScpiDevice, command
from simlab.scpi.errors import ScpiError
from simlab.scpi.parser import Token, Word

CHANNELS = (1, 2, 3, 4)
MAX_RATE = {1: 1e9, 2: 5e8, 3: 2.5e8, 4: 2.5e8}
DEPTHS = {
    1: (12_000, 120_000, 1_200_000, 12_000_000, 24_000_000),
    2: (6_000, 60_000, 600_000, 6_000_000, 12_000_000),
    3: (3_000, 30_000, 300_000, 3_000_000, 6_000_000),
}
DIVS_X = 12
SCREEN_POINTS = 1200
TIMEBASE = (5e-9, 50.0)
PROBES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
MAX_READ = {"BYTE": 250_000, "WORD": 125_000, "ASC": 15_625}
Y_REFERENCE = 127
LEVELS_PER_DIV = 25


def _source(token: Token) -> int:
    """`CHAN2` / `CHANNEL2` → 2; other sources (MATH, D0, AC, EXT) are not emulated."""
    if isinstance(token, Word):
        for prefix in ("CHANNEL", "CHAN"):
            rest = token.text[len(prefix) :]
            if token.text.startswith(prefix) and rest in ("1", "2", "3", "4"):
                return int(rest)
    raise ScpiError(-224, "source")


def _vertical(prefix: str, n: int) -> list[Command]:
    """The vertical commands of channel `n`, under one spelling of its header."""

    def ch(dev: ScpiDevice) -> Channel:
        return dev.ch[n]  # type: ignore[attr-defined]

    def set_display(dev: ScpiDevice, on: bool) -> None:
        ch(dev).display = on

    def set_scale(dev: ScpiDevice, value: float | str) -> None:
        c = ch(dev)
        c.scale = p.resolve(value, 1e-3 * c.probe, 10.0 * c.probe, 1.0 * c.probe)

    def set_offset(dev: ScpiDevice, value: float | str) -> None:
        c = ch(dev)
        limit = 100.0 * c.probe if c.scale >= 0.5 * c.probe else 2.0 * c.probe
        c.offset = p.resolve(value, -limit, limit, 0.0)

    def set_probe(dev: ScpiDevice, value: float | str) -> None:
        ratio = p.resolve(value, PROBES[0], PROBES[-1], 1.0)
        if not any(math.isclose(ratio, r) for r in PROBES):
            raise ScpiError(-224, f"probe ratio {ratio}")
        c = ch(dev)
        c.scale, c.offset, c.probe = c.scale / c.probe * ratio, c.offset / c.probe * ratio, ratio

    def set_coupling(dev: ScpiDevice, coupling: str) -> None:
        ch(dev).coupling = coupling

    return [
        command(f":{prefix}:DISPlay", set_display, p.boolean),
        command(f":{prefix}:DISPlay?", lambda dev: "1" if ch(dev).display else "0"),
        command(f":{prefix}:SCALe", set_scale, p.numeric),
        command(f":{prefix}:SCALe?", lambda dev: dev.fmt(ch(dev).scale)),
        command(f":{prefix}:OFFSet", set_offset, p.numeric),
        command(f":{prefix}:OFFSet?", lambda dev: dev.fmt(ch(dev).offset)),
        command(f":{prefix}:PROBe", set_probe, p.numeric),
        command(f":{prefix}:PROBe?", lambda dev: dev.fmt(ch(dev).probe)),
        command(f":{prefix}:COUPling", set_coupling, p.choice("AC", "DC", "GND")),
        command(f":{prefix}:COUPling?", lambda dev: ch(dev).coupling),
    ]


def _channel_commands() -> tuple[Command, ...]:
    """Vertical commands for channels 1-4, under both `CHANnel<n>` spellings."""
    lines: list[Command] = []
    for n in CHANNELS:
        for prefix in (f"CHANNEL{n}", f"CHAN{n}"):
            lines += _vertical(prefix, n)
    return tuple(lines)


class Channel:
    def __init__(self) -> None:
        self.display = False
        self.scale = 1.0
        self.offset = 0.0
        self.probe = 1.0
        self.coupling = "DC"


class RigolDS1104Z(ScpiDevice):
    VENDOR = "RIGOL TECHNOLOGIES"
    MODEL = "DS1104Z"
    FIRMWARE = "00.04.04.SP3"
    NUMBER_FORMAT = "{:.6e}"
    INT_FORMAT = "{:d}"

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        if modules:
            raise ValueError("the DS1104Z has no modules")
        return InstrumentHardware("Rigol DS1104Z", inputs={n: DigitizerInput() for n in CHANNELS})

    def check_hardware(self, hardware: InstrumentHardware) -> None:
        if sorted(hardware.inputs) != list(CHANNELS):
            raise ValueError(f"DS1104Z needs inputs {CHANNELS}, got {sorted(hardware.inputs)}")

    def channel_numbers(self) -> list[int]:
        return list(CHANNELS)

    def reset_state(self) -> None:
        self.ch = {n: Channel() for n in CHANNELS}
        self.ch[1].display = True
        self.tb_scale = 1e-6
        self.tb_offset = 0.0
        self.mdep: int | None = None  # None: AUTO
        self.trig_source = 1
        self.trig_slope = "POS"
        self.trig_level = 0.0
        self.sweep = "AUTO"
        self.running = True
        self.acquisition: Acquisition | None = None
        self.wav_source = 1
        self.wav_mode = "NORM"
        self.wav_format = "BYTE"
        self.wav_start = 1
        self.wav_stop = SCREEN_POINTS

    # --- derived acquisition geometry ------------------------------------------------

    def _enabled(self) -> int:
        return min(max(sum(c.display for c in self.ch.values()), 1), 3)

    def _depths(self) -> tuple[int, ...]:
        return DEPTHS[self._enabled()]

    def _rate(self) -> float:
        enabled = sum(c.display for c in self.ch.values()) or 1
        max_rate = MAX_RATE[min(enabled, 4)]
        depth = self.mdep or self._depths()[-1]
        return min(max_rate, depth / (DIVS_X * self.tb_scale))

    def _points(self) -> int:
        depth = self.mdep or self._depths()[-1]
        return max(min(depth, round(DIVS_X * self.tb_scale * self._rate())), 1)

    def _pretrigger(self) -> int:
        pre = round((DIVS_X / 2 * self.tb_scale - self.tb_offset) * self._rate())
        return min(max(pre, 0), self._points() - 1)

    # --- timebase and acquisition ----------------------------------------------------

    def set_tb_scale(self, value: float | str) -> None:
        self.tb_scale = p.resolve(value, *TIMEBASE, 1e-6)
        self.tb_offset = min(max(self.tb_offset, -6 * self.tb_scale), 6 * self.tb_scale)

    def get_tb_scale(self) -> str:
        return self.fmt(self.tb_scale)

    def set_tb_offset(self, value: float | str) -> None:
        half = DIVS_X / 2 * self.tb_scale
        self.tb_offset = p.resolve(value, -half, half, 0.0)

    def get_tb_offset(self) -> str:
        return self.fmt(self.tb_offset)

    def set_mdep(self, token: Token) -> None:
        if isinstance(token, Word):
            if token.text != "AUTO":
                raise ScpiError(-224, token.text)
            self.mdep = None
            return
        value = p.numeric(token)
        depth = round(value) if isinstance(value, float) else None
        if depth not in self._depths():
            raise ScpiError(-224, f"memory depth {depth} with {self._enabled()} channel(s)")
        self.mdep = depth

    def get_mdep(self) -> str:
        return "AUTO" if self.mdep is None else self.fmt_int(self.mdep)

    def get_srate(self) -> str:
        return self.fmt(self._rate())

    # --- trigger ------------------------------------------------------------------------

    def set_trig_mode(self, mode: str) -> None:
        if mode != "EDGE":
            raise ScpiError(-221, f"trigger mode {mode} not emulated")

    def get_trig_mode(self) -> str:
        return "EDGE"

    def set_trig_source(self, n: int) -> None:
        self.trig_source = n

    def get_trig_source(self) -> str:
        return f"CHAN{self.trig_source}"

    def set_trig_slope(self, slope: str) -> None:
        if slope == "RFALL":
            raise ScpiError(-221, "RFAL slope not emulated")
        self.trig_slope = slope[:3]

    def get_trig_slope(self) -> str:
        return self.trig_slope

    def set_trig_level(self, value: float | str) -> None:
        c = self.ch[self.trig_source]
        self.trig_level = p.resolve(value, -5 * c.scale - c.offset, 5 * c.scale - c.offset, 0.0)

    def get_trig_level(self) -> str:
        return self.fmt(self.trig_level)

    def set_sweep(self, sweep: str) -> None:
        self.sweep = sweep[:4]

    def get_sweep(self) -> str:
        return self.sweep

    def _arm(self) -> None:
        signal = self.hardware.inputs[self.trig_source].signal
        now = signal.now() if signal is not None else 0.0
        self.acquisition = Acquisition(
            signal,
            now,
            1.0 / self._rate(),
            self._points(),
            self._pretrigger(),
            self.trig_level,
            rising=self.trig_slope == "POS",
        )
        self.running = True

    def single(self) -> None:
        self.sweep = "SING"
        self._arm()

    def run(self) -> None:
        self._arm()

    def stop(self) -> None:
        self.running = False

    def force(self) -> None:
        acq = self.acquisition
        if acq is not None and acq.waiting:
            signal = acq.signal
            now = signal.now() if signal is not None else acq.t_arm
            acq._trigger_index = max(math.ceil((now - acq.t_arm) / acq.dt - 1e-9), acq.pretrigger)

    def _complete(self) -> bool:
        return self.acquisition is not None and self.acquisition.complete

    def status(self) -> str:
        acq = self.acquisition
        if acq is None or not self.running:
            return "STOP"
        if acq.complete:
            if self.sweep == "SING":
                self.running = False
                return "STOP"
            return "WAIT" if self.sweep == "NORM" else "AUTO"
        return "WAIT" if acq.waiting else "TD"

    # --- waveform readout -------------------------------------------------------------

    def set_wav_source(self, n: int) -> None:
        self.wav_source = n

    def get_wav_source(self) -> str:
        return f"CHAN{self.wav_source}"

    def set_wav_mode(self, mode: str) -> None:
        self.wav_mode = mode[:4] if mode != "MAXIMUM" else "MAX"

    def get_wav_mode(self) -> str:
        return self.wav_mode

    def set_wav_format(self, fmt: str) -> None:
        self.wav_format = fmt[:4] if fmt != "ASCII" else "ASC"

    def get_wav_format(self) -> str:
        return self.wav_format

    def set_wav_start(self, value: int) -> None:
        if value < 1:
            raise ScpiError(-222, "start")
        self.wav_start = value

    def get_wav_start(self) -> str:
        return self.fmt_int(self.wav_start)

    def set_wav_stop(self, value: int) -> None:
        if value < 1:
            raise ScpiError(-222, "stop")
        self.wav_stop = value

    def get_wav_stop(self) -> str:
        return self.fmt_int(self.wav_stop)

    def _effective_mode(self) -> str:
        if self.wav_mode == "MAX":
            return "RAW" if self.status() == "STOP" else "NORM"
        return self.wav_mode

    def _full(self) -> tuple[np.ndarray, float, float]:
        """Bytes of the whole record for the source in the effective mode, dt and x-origin."""
        acq = self.acquisition
        if acq is None or not acq.complete:
            raise ScpiError(-230, "no completed acquisition")
        if self._effective_mode() == "RAW" and self.status() != "STOP":
            raise ScpiError(-221, "RAW data needs the scope stopped")
        times = acq.sample_times()
        signal = self.hardware.inputs[self.wav_source].signal
        volts = signal.values(times) if signal is not None else np.zeros(len(times))
        dt = acq.dt
        origin = -acq.pretrigger * acq.dt
        if self._effective_mode() == "NORM" and len(volts) > SCREEN_POINTS:
            idx = (np.arange(SCREEN_POINTS) * len(volts)) // SCREEN_POINTS
            volts, dt = volts[idx], dt * len(times) / SCREEN_POINTS
        return self._to_bytes(volts), dt, origin

    def _y(self) -> tuple[float, int]:
        c = self.ch[self.wav_source]
        y_inc = c.scale / LEVELS_PER_DIV
        return y_inc, round(c.offset / y_inc)

    def _to_bytes(self, volts: np.ndarray) -> np.ndarray:
        y_inc, y_origin = self._y()
        return np.clip(np.round(volts / y_inc + y_origin + Y_REFERENCE), 0, 255).astype(int)

    def preamble(self) -> str:
        codes, dt, origin = self._full()
        fmt = {"BYTE": 0, "WORD": 1, "ASC": 2}[self.wav_format]
        mode = {"NORM": 0, "MAX": 1, "RAW": 2}[self.wav_mode]
        y_inc, y_origin = self._y()
        fields = [
            str(fmt),
            str(mode),
            str(len(codes)),
            "1",
            self.fmt(dt),
            self.fmt(origin),
            "0",
            self.fmt(y_inc),
            str(y_origin),
            str(Y_REFERENCE),
        ]
        return ",".join(fields)

    def data(self) -> str:
        codes, _dt, _origin = self._full()
        start, stop = self.wav_start, min(self.wav_stop, len(codes))
        if start > stop:
            raise ScpiError(-222, "start beyond the record")
        if stop - start + 1 > MAX_READ[self.wav_format]:
            raise ScpiError(-222, f"more than {MAX_READ[self.wav_format]} points per read")
        chunk = codes[start - 1 : stop]
        if self.wav_format == "ASC":
            y_inc, y_origin = self._y()
            volts = (chunk - y_origin - Y_REFERENCE) * y_inc
            payload = ",".join(f"{v:.6e}" for v in volts)
        elif self.wav_format == "WORD":
            payload = "".join(chr(int(b)) + "\x00" for b in chunk)
        else:
            payload = "".join(chr(int(b)) for b in chunk)
        return f"#9{len(payload):09d}{payload}"

    def _x(self, pick: Callable[[float, float], float]) -> str:
        """XINCrement / XORigin: of the record when one is complete, else of the settings
        in force (the scope answers them before any capture: QCoDeS asks at start-up)."""
        if self._complete():
            _codes, dt, origin = self._full()
            return self.fmt(pick(dt, origin))
        rate, points = self._rate(), self._points()
        dt = 1.0 / rate
        if self._effective_mode() == "NORM" and points > SCREEN_POINTS:
            dt *= points / SCREEN_POINTS
        return self.fmt(pick(dt, -self._pretrigger() / rate))

    COMMANDS = (
        *_channel_commands(),
        command(":TIMebase[:MAIN]:SCALe", set_tb_scale, p.numeric),
        command(":TIMebase[:MAIN]:SCALe?", get_tb_scale),
        command(":TIMebase[:MAIN]:OFFSet", set_tb_offset, p.numeric),
        command(":TIMebase[:MAIN]:OFFSet?", get_tb_offset),
        command(":ACQuire:MDEPth", set_mdep, lambda token: token),
        command(":ACQuire:MDEPth?", get_mdep),
        command(":ACQuire:SRATe?", get_srate),
        command(":TRIGger:MODE", set_trig_mode, p.choice("EDGE")),
        command(":TRIGger:MODE?", get_trig_mode),
        command(":TRIGger:EDGe:SOURce", set_trig_source, _source),
        command(":TRIGger:EDGe:SOURce?", get_trig_source),
        command(":TRIGger:EDGe:SLOPe", set_trig_slope, p.choice("POSitive", "NEGative", "RFALl")),
        command(":TRIGger:EDGe:SLOPe?", get_trig_slope),
        command(":TRIGger:EDGe:LEVel", set_trig_level, p.numeric),
        command(":TRIGger:EDGe:LEVel?", get_trig_level),
        command(":TRIGger:SWEep", set_sweep, p.choice("AUTO", "NORMal", "SINGle")),
        command(":TRIGger:SWEep?", get_sweep),
        command(":TRIGger:STATus?", status),
        command(":RUN", run),
        command(":STOP", stop),
        command(":SINGle", single),
        command(":TFORce", force),
        command(":WAVeform:SOURce", set_wav_source, _source),
        command(":WAVeform:SOURce?", get_wav_source),
        command(":WAVeform:MODE", set_wav_mode, p.choice("NORMal", "MAXimum", "RAW")),
        command(":WAVeform:MODE?", get_wav_mode),
        command(":WAVeform:FORMat", set_wav_format, p.choice("WORD", "BYTE", "ASCii")),
        command(":WAVeform:FORMat?", get_wav_format),
        command(":WAVeform:STARt", set_wav_start, p.integer),
        command(":WAVeform:STARt?", get_wav_start),
        command(":WAVeform:STOP", set_wav_stop, p.integer),
        command(":WAVeform:STOP?", get_wav_stop),
        command(":WAVeform:PREamble?", preamble),
        command(":WAVeform:DATA?", data),
        command(":WAVeform:XINCrement?", lambda dev: dev._x(lambda dt, o: dt)),
        command(":WAVeform:XORigin?", lambda dev: dev._x(lambda dt, o: o)),
        command(":WAVeform:XREFerence?", lambda dev: "0"),
        command(":WAVeform:YINCrement?", lambda dev: dev.fmt(dev._y()[0])),
        command(":WAVeform:YORigin?", lambda dev: str(dev._y()[1])),
        command(":WAVeform:YREFerence?", lambda dev: str(Y_REFERENCE)),
    )
