"""EA Elektro-Automatik PSB 10060-120 (PSB 10000 series): a bidirectional supply, a
source and a regenerative electronic load in one, used as a battery simulator on a BMS's
battery terminals or as the charger and load on its pack terminals.

Single DC terminal. As the EA guide describes the source-sink principle: the device
sources up to its current and power settings while the terminal is below its voltage
setting, and sinks up to its sink current and power settings while the terminal is above
it. Commands (the "Programming guide ModBus & SCPI" subset named in EA's manuals):
`[SOURce:]VOLTage`, `[SOURce:]CURRent`, `[SOURce:]POWer`, `SINK:CURRent`, `SINK:POWer`,
`OUTPut[:STATe] ON|OFF`, `MEASure[:SCALar]:VOLTage|CURRent|POWer[:DC]?`, `SYSTem:LOCK`
(remote control: settings are refused while it is off, as only one interface may
control the device), `SYSTem:ERRor?`. Queries answer with the unit (`54.00 V`, `-5.00 A`),
as third-party drivers read them; `*IDN?` answers `EA Elektro-Automatik GmbH & Co. KG,
PSB 10060-120, <serial>, <firmware>` with a space after each comma.

NOT confirmed against EA's guide (not reachable here): the model's ratings (60 V,
±120 A, 3 kW), the sign of a sinking current in `MEAS:CURR?` (negative here), the error
for a setting without remote control (-203 here), `SYST:ERR?`'s `0,"No error"` format
(from an EA example), and the reply precision.
"""

from __future__ import annotations

import math
from typing import ClassVar

from simlab.scpi import params as p
from simlab.scpi.device import command, measure, opt
from simlab.scpi.errors import MESSAGES, ScpiError
from simlab.scpi.models.supply import Rating, SupplyTwin

T = SupplyTwin
COMMAND_PROTECTED = -203


class EaPSB10060_120(SupplyTwin):
    VENDOR = "EA Elektro-Automatik GmbH & Co. KG"
    MODEL = "PSB 10060-120"
    FIRMWARE = "V3.02"
    RATINGS: ClassVar[dict[int, Rating]] = {
        1: Rating(v_max=61.2, i_max=122.4, ovp_max=66.0, p_max=3000.0, i_sink=122.4)
    }
    OUTPUT_WORDS = ("ON", "OFF")

    def _idn(self) -> str:
        return f"{self.VENDOR}, {self.MODEL}, {self.serial}, {self.FIRMWARE}"

    def _error_query(self) -> str:
        code = self.errors.pop()
        return f'{code},"{MESSAGES.get(code, "Error") if code else "No error"}"'

    def channel_numbers(self) -> list[int]:
        return [1]

    def reset_state(self) -> None:
        super().reset_state()
        src = self.source(1)
        src.sink_limit = 0.0
        self.power_set = self.power_sink = self.rating(1).p_max
        self.locked = getattr(self, "locked", False)  # remote control survives *RST
        self._apply_power()

    def _apply_power(self) -> None:
        self.source(1).power_max = min(self.power_set, self.power_sink, self.rating(1).p_max)

    def _remote(self) -> None:
        if not self.locked:
            raise ScpiError(COMMAND_PROTECTED, "remote control not active (SYST:LOCK ON)")

    # --- settings -----------------------------------------------------------------------

    def set_lock(self, on: bool) -> None:
        self.locked = on

    def get_lock(self) -> str:
        return "ON" if self.locked else "OFF"

    def set_volt(self, value: float | str) -> None:
        self._remote()
        T.set_voltage(self, value, [1])

    def set_curr(self, value: float | str) -> None:
        self._remote()
        T.set_current(self, value, [1])

    def set_sink_curr(self, value: float | str) -> None:
        self._remote()
        self.source(1).sink_limit = p.resolve(value, 0.0, self.rating(1).i_sink, 0.0)

    def set_pow(self, value: float | str) -> None:
        self._remote()
        self.power_set = p.resolve(value, 0.0, self.rating(1).p_max, self.rating(1).p_max)
        self._apply_power()

    def set_sink_pow(self, value: float | str) -> None:
        self._remote()
        self.power_sink = p.resolve(value, 0.0, self.rating(1).p_max, self.rating(1).p_max)
        self._apply_power()

    def set_out(self, on: bool) -> None:
        self._remote()
        T.set_output(self, on, [1])

    # --- queries with units -----------------------------------------------------------------

    def _unit(self, value: float, unit: str) -> str:
        return f"{value:.2f} {unit}"

    def get_volt(self, limit: str | None) -> str:
        v = p.resolve(limit, 0.0, self.rating(1).v_max) if limit else self.source(1).voltage_set
        return self._unit(v, "V")

    def get_curr(self, limit: str | None) -> str:
        a = p.resolve(limit, 0.0, self.rating(1).i_max) if limit else self.source(1).current_limit
        return self._unit(a, "A")

    def get_sink_curr(self, limit: str | None) -> str:
        top = self.rating(1).i_sink
        a = p.resolve(limit, 0.0, top) if limit else (self.source(1).sink_limit or 0.0)
        return self._unit(a, "A")

    def get_pow(self) -> str:
        return self._unit(self.power_set, "W")

    def get_sink_pow(self) -> str:
        return self._unit(self.power_sink, "W")

    def meas_v(self) -> str:
        return self._unit(self.source(1).voltage_meas, "V")

    def meas_i(self) -> str:
        return self._unit(self.source(1).current_meas, "A")

    def meas_p(self) -> str:
        src = self.source(1)
        watts = src.voltage_meas * src.current_meas
        return self._unit(0.0 if math.isclose(watts, 0.0, abs_tol=1e-12) else watts, "W")

    COMMANDS = (
        command("SYSTem:LOCK[:OWNer]", set_lock, p.boolean),
        command("SYSTem:LOCK[:OWNer]?", get_lock),
        command("[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]", set_volt, p.numeric),
        command("[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]?", get_volt, opt(p.limit_word)),
        command("[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]", set_curr, p.numeric),
        command("[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]?", get_curr, opt(p.limit_word)),
        command("[SOURce:]POWer[:LEVel][:IMMediate][:AMPLitude]", set_pow, p.numeric),
        command("[SOURce:]POWer[:LEVel][:IMMediate][:AMPLitude]?", get_pow),
        command("SINK:CURRent[:LEVel][:IMMediate][:AMPLitude]", set_sink_curr, p.numeric),
        command("SINK:CURRent[:LEVel][:IMMediate][:AMPLitude]?", get_sink_curr, opt(p.limit_word)),
        command("SINK:POWer[:LEVel][:IMMediate][:AMPLitude]", set_sink_pow, p.numeric),
        command("SINK:POWer[:LEVel][:IMMediate][:AMPLitude]?", get_sink_pow),
        command("OUTPut[:STATe]", set_out, p.boolean),
        command("OUTPut[:STATe]?", lambda dev: T.get_output(dev, [1])),
        measure("MEASure[:SCALar]:VOLTage[:DC]?", meas_v),
        measure("MEASure[:SCALar]:CURRent[:DC]?", meas_i),
        measure("MEASure[:SCALar]:POWer[:DC]?", meas_p),
    )
