"""Keysight E36234A: two-output autoranging DC supply, 60 V / 10 A / 200 W per output.

Programming ranges from the E36200-series guide: 0–61.8 V, 0–10.3 A, OVP up to 66 V; the
output autoranges inside 200 W (at 54 V it gives 3.7 A whatever its limit says), and
it cannot sink.
The dialect is the E36200/E36300 one (``keysight_e36``).
"""

from __future__ import annotations

from typing import ClassVar

from simlab.scpi.models.keysight_e36 import KeysightE36Supply
from simlab.scpi.models.supply import Rating


class KeysightE36234A(KeysightE36Supply):
    MODEL = "E36234A"
    FIRMWARE = "1.0.4-1.0.0-1.05"
    RATINGS: ClassVar[dict[int, Rating]] = {
        n: Rating(v_max=61.8, i_max=10.3, ovp_max=66.0, p_max=200.0) for n in (1, 2)
    }
