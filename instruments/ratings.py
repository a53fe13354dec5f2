"""What each model can do at most: its rated envelope, as one table per model.

A driver's ranges say what it may *program*; a rating says what the output can *deliver
or absorb*: a supply's current at a voltage (an autoranging supply trades one for the
other inside its power), what it can sink, a load's current within its power, a
generator's open-circuit swing and its fastest edge, a digitizer's shortest sample
interval and how many inputs it records at once. The station's applicability check
(`rig.station.fitness`) and the envelope test read these tables, so a plan is only run on
a bench whose instruments can carry every level it commands.

This module imports nothing heavy: it is read while pytest collects, before any driver
(some of which import PyMeasure packages that pull in pandas) is loaded. Each rating
names the document its figures come from (`source`: title, edition or revision, the
table or page); figures not read in that document say "(unconfirmed)" there and are
listed, with why, in docs/instruments.md ("Accuracy and rating sources").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceRating:
    """One output of a supply, SMU or regenerative source (two-quadrant where it sinks)."""

    v_max: float
    i_max: float  # sourced
    i_sink: float = 0.0  # absorbed continuously (0: it cannot sink)
    p_max: float = math.inf  # W, sourced or sunk

    def source_at(self, volts: float) -> float:
        """The most current it sources at `volts` (its power envelope included)."""
        return min(self.i_max, self.p_max / abs(volts)) if volts else self.i_max

    def sink_at(self, volts: float) -> float:
        """The most current it sinks at `volts`."""
        return min(self.i_sink, self.p_max / abs(volts)) if volts else self.i_sink


@dataclass(frozen=True)
class LoadRating:
    """An electronic load's input: the current it sinks within its voltage and power."""

    v_max: float
    i_max: float
    p_max: float

    def sink_at(self, volts: float) -> float:
        return min(self.i_max, self.p_max / abs(volts)) if volts else self.i_max


@dataclass(frozen=True)
class GeneratorRating:
    emf_peak_v: float  # ± open-circuit volts
    edge_min_s: float


@dataclass(frozen=True)
class DigitizerRating:
    interval_min_s: float  # the shortest sample interval with one input on
    inputs: int  # how many inputs one acquisition records
    interval_min_by_inputs: dict[int, float] = field(default_factory=dict)

    def interval_with(self, inputs: int) -> float:
        """The shortest sample interval with `inputs` recorded at once (inf: cannot)."""
        if inputs > self.inputs:
            return math.inf
        return self.interval_min_by_inputs.get(inputs, self.interval_min_s)


@dataclass(frozen=True)
class ModelRating:
    """A model's outputs, inputs and (for a mainframe) its modules' outputs."""

    sources: dict[int, SourceRating] = field(default_factory=dict)
    modules: dict[str, SourceRating] = field(default_factory=dict)  # slot module -> output
    load: LoadRating | None = None
    generator: GeneratorRating | None = None
    digitizer: DigitizerRating | None = None
    source: str = ""  # the document the figures come from: title, edition, table or page


N6781A = SourceRating(v_max=20.4, i_max=3.06, i_sink=3.06, p_max=20.0)

RATINGS: dict[str, ModelRating] = {
    # supplies: the charger (a supply sinks nothing worth counting)
    "Keysight E36234A": ModelRating(
        sources={n: SourceRating(v_max=61.8, i_max=10.3, p_max=200.0) for n in (1, 2)},
        source="Keysight E36200 Series Operating and Service Guide (edition not read): 103 % "
        "programming ranges, 200 W per output",
    ),
    "Keysight E36312A": ModelRating(
        sources={
            1: SourceRating(v_max=6.18, i_max=5.15),
            2: SourceRating(v_max=25.75, i_max=1.03),
            3: SourceRating(v_max=25.75, i_max=1.03),
        },
        source="Keysight E36300 Series Programming Guide (edition not read), Programming "
        "Ranges and Output Identifiers (103 % of the 6 V / 5 A and 25 V / 1 A ratings)",
    ),
    "Rigol DP832": ModelRating(
        sources={
            1: SourceRating(v_max=32.0, i_max=3.2),
            2: SourceRating(v_max=32.0, i_max=3.2),
            3: SourceRating(v_max=5.3, i_max=3.2),
        },
        source="Rigol DP800 Programming Guide (edition not read), Table 2-1 voltage/current "
        "ranges, DP832 row",
    ),
    "Siglent SPD3303X": ModelRating(
        sources={n: SourceRating(v_max=32.0, i_max=3.2) for n in (1, 2)},
        source="Siglent SPD3303X data sheet (revision not read), CH1/CH2 output ratings "
        "(unconfirmed)",
    ),
    # loads
    "Rigol DL3021": ModelRating(
        load=LoadRating(v_max=150.0, i_max=40.0, p_max=200.0),
        source="Rigol DL3000 Series data sheet (revision not read), rated input (unconfirmed)",
    ),
    "Siglent SDL1020X": ModelRating(
        load=LoadRating(v_max=150.0, i_max=30.0, p_max=200.0),
        source="Siglent SDL1000X Series data sheet (revision not read), SDL1020X rated input "
        "(unconfirmed)",
    ),
    "Keysight EL34143A": ModelRating(
        load=LoadRating(v_max=150.0, i_max=60.0, p_max=350.0),
        source="Keysight EL30000 Series data sheet (revision not read), EL34143A ratings "
        "(unconfirmed)",
    ),
    # cell emulators (two-quadrant)
    "Keysight N6705C": ModelRating(
        modules={"N6781A": N6781A},
        source="Series N6700 User's Guide (edition not read), App. E: N6781A 20 V / 3 A "
        "ranges, + voltage quadrants only; the 102 % maxima and 20 W: N6700 Specifications "
        "Guide (unconfirmed)",
    ),
    "NGI N83624": ModelRating(
        sources={n: SourceRating(v_max=6.0, i_max=5.0, i_sink=5.0) for n in range(1, 25)},
        source="NGI N83624 Series data sheet (revision not read), N83624-06-05: 6 V, 5 A "
        "(unconfirmed)",
    ),
    # generators (current-sense emulation)
    "Keysight 33522B": ModelRating(
        generator=GeneratorRating(emf_peak_v=10.0, edge_min_s=8.4e-9),
        source="Agilent/Keysight 33500 Series Operating and Service Guide (edition not read), "
        "p.62 (±5 V into 50 Ω), pp.69-70 (8.4 ns edge)",
    ),
    "Rigol DG822": ModelRating(
        generator=GeneratorRating(emf_peak_v=10.0, edge_min_s=10e-9),
        source="Rigol DG800 Programming Guide (edition not read), p.2-79 (10 ns edge); "
        "±10 V open circuit (unconfirmed)",
    ),
    # regenerative two-quadrant sources (battery simulators)
    "Keysight RP7952A": ModelRating(
        sources={1: SourceRating(v_max=81.6, i_max=255.0, i_sink=255.0, p_max=10_000.0)},
        source="Keysight RP7900 Series Operating and Service Guide (edition not read), p.75: "
        "80 V class; ±250 A, 10 kW and the 102 % maxima (unconfirmed)",
    ),
    "EA PSB 10060-120": ModelRating(
        sources={1: SourceRating(v_max=61.2, i_max=122.4, i_sink=122.4, p_max=3000.0)},
        source="EA Elektro-Automatik PSB 10000 data sheet (revision not read), PSB 10060-120: "
        "60 V, ±120 A, 3 kW, 102 % maxima (unconfirmed)",
    ),
    # digitizers
    "Keysight 34465A": ModelRating(
        digitizer=DigitizerRating(interval_min_s=20e-6, inputs=1),
        source="Keysight Truevolt Series Operating and Service Guide (edition not read), "
        "SAMPle:TIMer: 20 µs minimum with the DIG option (unconfirmed)",
    ),
    "Rigol DS1104Z": ModelRating(
        digitizer=DigitizerRating(
            interval_min_s=1e-9, inputs=4, interval_min_by_inputs={2: 2e-9, 3: 4e-9, 4: 4e-9}
        ),
        source="Rigol DS1000Z Series data sheet (revision not read), sample rate: 1 GSa/s "
        "one channel, 500 MSa/s two, 250 MSa/s three or four (unconfirmed)",
    ),
}


def rating(model: str) -> ModelRating:
    """The rated envelope of a station-file model name (an empty one if none is stated:
    thermistor emulators and switches carry no pack current)."""
    return RATINGS.get(model, ModelRating())


def output(model: str, channel: int, modules: list[str] | None = None) -> SourceRating | None:
    """The rating of one source output: a mainframe's from the module in that slot."""
    r = rating(model)
    if r.modules:
        fitted = modules or []
        if not 1 <= channel <= len(fitted):
            return None
        return r.modules.get(fitted[channel - 1])
    return r.sources.get(channel)
