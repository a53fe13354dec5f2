"""Over- and under-temperature procedures, one NTC input at a time.

The thermistor emulator stands in for one of the BMS's NTCs: a temperature is programmed
as the resistance that NTC has there (its curve from the station file), the others stay
at 25 °C. The trip is seen on the path the protection must cut: the charger's current for
a charge protection, the load's for a discharge one. Threshold and release are found by
the shared procedure (`_trip.py`) on the emulated temperature, read back as the resistance
the emulator reports converted through the same curve; its uncertainty is the emulator's
resistance accuracy divided by the curve's slope there.

Which FET opens is judged on the power path too: at the trip, the other path is driven
and must keep conducting when the spec says the protection opens only its own FET
(LFP below 0 °C: charging is refused while discharging continues), or must stop when the
spec says it opens both. The check is skipped where another stated protection on the
other path would trip at the same temperature (discharge over-temperature at 64 °C is
also a charge over-temperature), since the other path then proves nothing.

Every NTC input under test is measured: a BMS that ignores one of its NTCs protects on
the others only.
"""

from __future__ import annotations

from dut_drivers.base import BmsLink
from instruments.accuracy import Accuracy, AccuracyUnknown
from rig.clock import Clock
from rig.config import DutSpec
from rig.config.spec import SIDES, TEMPERATURES
from rig.measure import rectangular
from rig.plugin.fixtures import Ready, Recorder
from rig.safety import check_limit
from rig.station import Station
from rig.station.fitness import pack_volts
from test_plans import _trip
from test_plans._isolation import Competitor
from test_plans._power_path import PowerPath
from test_plans._trip import Side

CHARGE_OT = Side("charge_ot", +1.0, "charge", "charge_fet")
CHARGE_UT = Side("charge_ut", -1.0, "charge", "charge_fet")
DISCHARGE_OT = Side("discharge_ot", +1.0, "discharge", "discharge_fet")
DISCHARGE_UT = Side("discharge_ut", -1.0, "discharge", "discharge_fet")


class TemperatureStimulus:
    """One NTC input's emulated temperature; the others at the safe 25 °C."""

    unit = "°C"
    quantity = "ntc_temperature"

    def __init__(self, station: Station, spec: DutSpec, side: Side, ntc: int):
        tc = spec.test_conditions
        self.station, self.ntc, self.side = station, ntc, side
        self.thermistors = station.thermistors
        self.margin = tc.temperature.search_margin_c
        self.coarse = tc.temperature.coarse_step_c
        self.fine = tc.temperature.threshold_step_c
        self.rest = self.thermistors.SAFE_C
        self.label = f"{side.protection}_ntc{ntc}"
        self.pack = pack_volts(spec)  # the cells at nominal (emulated, or a module's)

    @property
    def instrument(self) -> str:
        ch = self.thermistors.channel_of(self.ntc)
        return f"{ch.instrument}:{ch.channel}"

    def refuse_beyond_limits(self, *levels: float) -> None:
        """LimitError before anything is sent if a level lies outside the station's
        temperature limits."""
        lim = self.station.config.limits.temperature
        for level in levels:
            check_limit(
                f"NTC {self.ntc} ({self.instrument})", "temperature", level, lim.min, lim.max, "°C"
            )

    def apply(self, level: float) -> float:
        """Set `level`; the read-back is the DMM's reading of the line where one is wired
        (`readback:` in the station's thermistor wiring), else the emulator's echo."""
        self.thermistors.set_temperature(self.ntc, level)
        return self.thermistors.reference(self.ntc).celsius

    def band(self, value: float) -> Accuracy:
        band, source = self.thermistors.reference_band(self.ntc, value)
        return Accuracy(0.0, band, source=f"{source} at {value:.1f} °C")

    def pack_at(self, level: float) -> float:
        return self.pack

    def competitors(self, spec: DutSpec) -> list[Competitor]:
        """The other temperature protections on the same side (over or under) that cut
        this path (per the spec's `opens`), from the near edge of their bands."""
        out = []
        for name in TEMPERATURES:
            p = getattr(spec.protections, name)
            if (
                name == self.side.protection
                or p is None
                or SIDES[name] != (self.side.direction > 0)
            ):
                continue
            if self.side.path not in spec.protections.opens(name):
                continue
            edge = p.threshold_c.low if SIDES[name] else p.threshold_c.high
            out.append(
                Competitor(
                    name,
                    edge,
                    f"its band begins at {edge:g} °C and it opens the {self.side.path} path",
                )
            )
        return out

    def response(self, level: float) -> Accuracy | None:
        """The resistance source's settling to the ohms of `level`, if stated."""
        ohms = self.thermistors.ohms_at(self.ntc, level)
        try:
            return self.thermistors.accuracy(self.ntc, "resistance_response", ohms)
        except AccuracyUnknown:
            return None

    def confirms(self, readback: float | None, level: float) -> bool:
        """A DMM on the line shows the level within its accuracy; the emulator's own
        read-back is the resistance it was told: no evidence it holds it."""
        if readback is None or not self.thermistors.has_readback(self.ntc):
            return False
        return abs(readback - level) <= self.band(level).limit(level)


def _span(side: Side, spec: DutSpec, margin: float) -> tuple[float, float]:
    """The lowest and highest temperature the plan will set."""
    p = side.spec(spec)
    levels = [p.threshold_c.low - margin, p.threshold_c.high + margin, 25.0]
    levels += [p.release_c.low - margin, p.release_c.high + margin]
    return min(levels), max(levels)


def _other_path_expected(side: Side, spec: DutSpec, level: float) -> bool | None:
    """At `level`: True if the other path must conduct, False if it must be cut, None if
    another stated protection on the other path may trip there too."""
    other = "discharge" if side.path == "charge" else "charge"
    if other in spec.protections.opens(side.protection):
        return False
    for name in TEMPERATURES:
        p = getattr(spec.protections, name)
        if p is None or not name.startswith(other):
            continue
        may_trip = level >= p.threshold_c.low if SIDES[name] else level <= p.threshold_c.high
        if may_trip:
            return None
    return True


def threshold_and_release(
    side: Side,
    ntc: int,
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    ready: Ready,
) -> None:
    p, tc = side.spec(spec), spec.test_conditions
    stim = TemperatureStimulus(station, spec, side, ntc)
    stim.refuse_beyond_limits(*_span(side, spec, stim.margin))
    path = PowerPath(station, spec, side.path)
    context: dict[str, object] = {"ntc": ntc, "path": side.path}
    far = p.threshold_c.high if side.direction > 0 else p.threshold_c.low
    trip_level = far + side.direction * stim.margin
    expected = _other_path_expected(side, spec, trip_level)

    def other_path() -> None:
        """Which FET opened: the other path driven at the trip, judged on its current."""
        if expected is None:
            return
        other = PowerPath(station, spec, "discharge" if side.path == "charge" else "charge")
        other.start(stim.pack)
        clock.sleep(tc.poll_period_s)
        amps = other.read()
        other.stop()
        role = station.charger if other.path == "charge" else station.load
        band = role.accuracy("current_meas", amps)
        limits = {"low": other.trip_below_a, "high": None, "comparison": "GE"}
        if not expected:
            limits = {"low": None, "high": other.trip_below_a, "comparison": "LE"}
        verb = "continues" if expected else "cut"
        record(
            f"{side.protection}_{other.path}_{verb}",
            amps,
            "A",
            **limits,
            clause=p.clause,
            budget=[rectangular(f"{other.instrument} accuracy", band.limit(amps), band.source)],
            evidence="instrument",
            instrument=other.instrument,
            context={
                **context,
                "at_c": trip_level,
                "opens": sorted(spec.protections.opens(side.protection)),
            },
            note=f"{other.label} with {side.protection} tripped at {trip_level:g} °C: the "
            f"{other.path} path must {'keep conducting' if expected else 'be cut'}",
        )

    _trip.threshold_and_release(
        side, stim, path, dut, clock, spec, record, ready, context, at_trip=other_path
    )


def trip_delay(
    side: Side,
    ntc: int,
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    record: Recorder,
    ready: Ready,
) -> None:
    stim = TemperatureStimulus(station, spec, side, ntc)
    stim.refuse_beyond_limits(*_span(side, spec, stim.margin))
    path = PowerPath(station, spec, side.path)
    context: dict[str, object] = {"ntc": ntc, "path": side.path}
    result = _trip.trip_delay(side, stim, path, clock, spec, record, context)
    if result is not None and result[0].tripped:
        rivals = [c.protection for c in stim.competitors(spec)]
        _trip.dut_report(side, dut, clock, spec, side.spec(spec), record, context, rivals)
