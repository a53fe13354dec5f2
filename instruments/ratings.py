"""What each model can do at most: its rated envelope, as one table per model.

A driver's ranges say what it may *program*; a rating says what the output can *deliver
or absorb*: a supply's current at a voltage (an autoranging supply trades one for the
other inside its power), what it can sink, a load's current within its power, a
generator's open-circuit swing and its fastest edge, a digitizer's shortest sample
interval and how many inputs it records at once. The station's applicability check
(`rig.station.fitness`) and the envelope test read these tables, so a plan is only run on
a bench whose instruments can carry every level it commands.

This module imports nothing heavy: it is read while pytest collects, before any driver
(some of which import PyMeasure packages that pull in pandas) is loaded. Each figure
names its source in the model's driver docstring; figures not confirmed against a vendor
document are marked there and in docs/instruments.md.
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


N6781A = SourceRating(v_max=20.4, i_max=3.06, i_sink=3.06, p_max=20.0)

RATINGS: dict[str, ModelRating] = {
    # supplies: the charger (a supply sinks nothing worth counting)
    "Keysight E36234A": ModelRating(
        sources={n: SourceRating(v_max=61.8, i_max=10.3, p_max=200.0) for n in (1, 2)}
    ),
    "Keysight E36312A": ModelRating(
        sources={
            1: SourceRating(v_max=6.18, i_max=5.15),
            2: SourceRating(v_max=25.75, i_max=1.03),
            3: SourceRating(v_max=25.75, i_max=1.03),
        }
    ),
    "Rigol DP832": ModelRating(
        sources={
            1: SourceRating(v_max=32.0, i_max=3.2),
            2: SourceRating(v_max=32.0, i_max=3.2),
            3: SourceRating(v_max=5.3, i_max=3.2),
        }
    ),
    "Siglent SPD3303X": ModelRating(
        sources={n: SourceRating(v_max=32.0, i_max=3.2) for n in (1, 2)}
    ),
    # loads
    "Rigol DL3021": ModelRating(load=LoadRating(v_max=150.0, i_max=40.0, p_max=200.0)),
    "Siglent SDL1020X": ModelRating(load=LoadRating(v_max=150.0, i_max=30.0, p_max=200.0)),
    "Keysight EL34143A": ModelRating(load=LoadRating(v_max=150.0, i_max=60.0, p_max=350.0)),
    # cell emulators (two-quadrant)
    "Keysight N6705C": ModelRating(modules={"N6781A": N6781A}),
    "NGI N83624": ModelRating(
        sources={n: SourceRating(v_max=6.0, i_max=5.0, i_sink=5.0) for n in range(1, 25)}
    ),
    # generators (current-sense emulation)
    "Keysight 33522B": ModelRating(generator=GeneratorRating(emf_peak_v=10.0, edge_min_s=8.4e-9)),
    "Rigol DG822": ModelRating(generator=GeneratorRating(emf_peak_v=10.0, edge_min_s=10e-9)),
    # regenerative two-quadrant sources (battery simulators; unconfirmed ratings)
    "Keysight RP7952A": ModelRating(
        sources={1: SourceRating(v_max=81.6, i_max=255.0, i_sink=255.0, p_max=10_000.0)}
    ),
    "EA PSB 10060-120": ModelRating(
        sources={1: SourceRating(v_max=61.2, i_max=122.4, i_sink=122.4, p_max=3000.0)}
    ),
    # digitizers
    "Keysight 34465A": ModelRating(digitizer=DigitizerRating(interval_min_s=20e-6, inputs=1)),
    "Rigol DS1104Z": ModelRating(
        digitizer=DigitizerRating(
            interval_min_s=1e-9, inputs=4, interval_min_by_inputs={2: 2e-9, 3: 4e-9, 4: 4e-9}
        )
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
