"""Station roles: a driver wrapped with the station's limits and its safe state.

A role is what a test plan touches. It refuses anything beyond the station limits before
the driver sees it (LimitError), and knows how to put its instrument in a safe state.
Roles speak in bench terms (cell position 5, the charger) and translate to instrument
channels through the wiring map.
"""

from __future__ import annotations

from dataclasses import dataclass

from instruments.accuracy import Accuracy
from instruments.roles import CellEmulator, ElectronicLoad, PowerSupply
from rig.config.station import Limits, SafeState
from rig.safety import check_limit


class RoleNotFitted(Exception):
    """The plan asked for a role this station does not have."""


class Charger:
    def __init__(self, name: str, driver: PowerSupply, channel: int, limits: Limits):
        self.name, self.driver, self.channel, self._limits = name, driver, channel, limits

    def set_voltage(self, volts: float) -> None:
        lim = self._limits.pack_voltage
        check_limit(self.name, "voltage", volts, lim.min, lim.max, "V")
        self.driver.set_voltage(self.channel, volts)

    def set_current_limit(self, amps: float) -> None:
        lim = self._limits.charge_current
        check_limit(self.name, "current limit", amps, lim.min, lim.max, "A")
        self.driver.set_current_limit(self.channel, amps)

    def on(self) -> None:
        self.driver.set_output(self.channel, True)

    def off(self) -> None:
        self.driver.set_output(self.channel, False)

    def measure_voltage(self) -> float:
        return self.driver.measure_voltage(self.channel)

    def measure_current(self) -> float:
        return self.driver.measure_current(self.channel)

    def make_safe(self) -> None:
        self.driver.set_output(self.channel, False)

    def accuracy(self, quantity: str, value: float) -> Accuracy:
        """The charger's accuracy band for `quantity` at `value`, certificate applied."""
        return self.driver.accuracy(quantity, value)


class Load:
    def __init__(self, name: str, driver: ElectronicLoad, limits: Limits):
        self.name, self.driver, self._limits = name, driver, limits

    def set_current(self, amps: float) -> None:
        lim = self._limits.discharge_current
        check_limit(self.name, "current", amps, lim.min, lim.max, "A")
        self.driver.set_constant_current(amps)

    def on(self) -> None:
        self.driver.set_input(True)

    def off(self) -> None:
        self.driver.set_input(False)

    def measure_voltage(self) -> float:
        return self.driver.measure_voltage()

    def measure_current(self) -> float:
        return self.driver.measure_current()

    def make_safe(self) -> None:
        self.driver.set_input(False)
        self.driver.set_constant_current(0.0)

    def accuracy(self, quantity: str, value: float) -> Accuracy:
        """The load's accuracy band for `quantity` at `value`, certificate applied."""
        return self.driver.accuracy(quantity, value)


@dataclass(frozen=True)
class CellChannel:
    instrument: str
    driver: CellEmulator
    channel: int


class Cells:
    """Series cell positions 1..N, each an emulator channel per the wiring map."""

    def __init__(self, channels: dict[int, CellChannel], limits: Limits, safe: SafeState):
        self._channels = dict(sorted(channels.items()))
        self._limits, self._safe = limits, safe
        self._setpoints: dict[int, float] = {}

    @property
    def count(self) -> int:
        return len(self._channels)

    @property
    def positions(self) -> list[int]:
        return list(self._channels)

    def channel_of(self, position: int) -> CellChannel:
        try:
            return self._channels[position]
        except KeyError:
            raise RoleNotFitted(
                f"cell position {position} is not wired (station has 1..{self.count})"
            ) from None

    def set_voltage(self, position: int, volts: float) -> None:
        ch = self.channel_of(position)
        lim = self._limits.cell_voltage
        check_limit(
            f"cell {position} ({ch.instrument}:{ch.channel})",
            "voltage",
            volts,
            lim.min,
            lim.max,
            "V",
        )
        ch.driver.set_voltage(ch.channel, volts)
        self._setpoints[position] = volts

    def set_all(self, volts: float) -> None:
        lim = self._limits.cell_voltage
        check_limit("cells", "voltage", volts, lim.min, lim.max, "V")
        for position in self._channels:
            self.set_voltage(position, volts)

    def setpoint(self, position: int) -> float | None:
        return self._setpoints.get(position)

    def set_current_limit(self, amps: float) -> None:
        lim = self._limits.cell_current
        check_limit("cells", "current limit", amps, lim.min, lim.max, "A")
        for ch in self._channels.values():
            ch.driver.set_current_limit(ch.channel, amps)

    def on(self) -> None:
        for ch in self._channels.values():
            ch.driver.set_output(ch.channel, True)

    def measure_voltage(self, position: int) -> float:
        ch = self.channel_of(position)
        return ch.driver.measure_voltage(ch.channel)

    def accuracy(self, position: int, quantity: str, value: float) -> Accuracy:
        """The accuracy band of the emulator channel behind `position`, certificate applied."""
        return self.channel_of(position).driver.accuracy(quantity, value)

    def make_safe(self) -> None:
        """Cells stay powered at nominal: an unpowered sense line looks like a dead cell."""
        failures: list[str] = []
        for position in self._channels:
            try:
                self.set_voltage(position, self._safe.cell_voltage)
            except Exception as exc:
                failures.append(f"cell {position}: {exc}")
        if failures:
            raise RuntimeError("; ".join(failures))
        self.set_current_limit(self._safe.cell_current_limit)
        self.on()
