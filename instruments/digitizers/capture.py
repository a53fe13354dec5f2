"""What a digitizer returns, in the same shape whichever model took it.

`CaptureSettings` is what the instrument actually set up (a scope rounds the sample
interval to what its timebase and memory allow; the result must be read back, not
assumed); `Capture` is the record in volts at the input, with the trigger at t = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from instruments.errors import InstrumentReplyError

STATES = ("idle", "armed", "triggered", "complete")


@dataclass(frozen=True)
class CaptureSettings:
    sample_interval_s: float
    points: int
    pretrigger_points: int
    full_scale_v: float  # the input range in force, ± volts


@dataclass(frozen=True)
class Capture:
    values: np.ndarray  # volts at the input, one per sample
    sample_interval_s: float
    pretrigger_points: int  # the trigger sample's index
    instrument: str = ""
    channel: int = 1

    @property
    def times(self) -> np.ndarray:
        """Seconds from the trigger sample (negative before it)."""
        return (np.arange(len(self.values)) - self.pretrigger_points) * self.sample_interval_s


def parse_ascii_readings(command: str, text: str) -> np.ndarray:
    """Comma-separated numbers (`FETC?`, an ASCII block's payload) → array; a field that
    is not a number is an InstrumentReplyError naming the command."""
    text = text.strip()
    if not text:
        return np.zeros(0)
    try:
        return np.array([float(f) for f in text.split(",")], dtype=float)
    except ValueError:
        raise InstrumentReplyError(command, text[:80], "readings are not numbers") from None
