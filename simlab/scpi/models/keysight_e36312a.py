"""Keysight E36312A: triple-output supply, 6 V / 5 A and two 25 V / 1 A outputs.

Ranges are 103 % of rating as the E36300-series guide gives them (6.18 V / 5.15 A,
25.75 V / 1.03 A). Not confirmed against the guide: the OVP maxima (6.6 V, 27.5 V) and
the firmware string. The dialect is the E36200/E36300 one (``keysight_e36``), which
PyMeasure's own ``KeysightE36312A`` driver speaks.
"""

from __future__ import annotations

from typing import ClassVar

from simlab.scpi.models.keysight_e36 import KeysightE36Supply
from simlab.scpi.models.supply import Rating


class KeysightE36312A(KeysightE36Supply):
    MODEL = "E36312A"
    FIRMWARE = "2.1.1-1.0.4-1.12"
    RATINGS: ClassVar[dict[int, Rating]] = {
        1: Rating(v_max=6.18, i_max=5.15, ovp_max=6.6),
        2: Rating(v_max=25.75, i_max=1.03, ovp_max=27.5),
        3: Rating(v_max=25.75, i_max=1.03, ovp_max=27.5),
    }
