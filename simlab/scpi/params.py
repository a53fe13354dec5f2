"""Parameter kinds for command tables: each turns one parsed token into a Python value.

A kind raises ScpiError with the code the real instruments use (-104 wrong type,
-224 a keyword the command does not know), so a table line says what a command takes
and the checking is written once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from simlab.scpi.errors import ScpiError
from simlab.scpi.parser import HeaderPattern, Number, Suffixed, Text, Token, Word

DATA_TYPE_ERROR = -104
ILLEGAL_VALUE = -224
OUT_OF_RANGE = -222

Kind = Callable[[Token], Any]

_SPECIAL = {"MIN": "MIN", "MINIMUM": "MIN", "MAX": "MAX", "MAXIMUM": "MAX"}
_SPECIAL |= {"DEF": "DEF", "DEFAULT": "DEF"}


def numeric(token: Token) -> float | str:
    """A number, or ``MIN``/``MAX``/``DEF`` (resolved by the handler against its range)."""
    if isinstance(token, Number):
        return token.value
    if isinstance(token, Word):
        if token.text in _SPECIAL:
            return _SPECIAL[token.text]
        raise ScpiError(DATA_TYPE_ERROR, token.text)
    if isinstance(token, Suffixed):
        raise ScpiError(INVALID_SUFFIX, token.suffix)
    raise ScpiError(DATA_TYPE_ERROR)


# SCPI-99 7.5.2 multipliers; "M" is milli, "MA" mega, and MOHM / MHZ read as mega.
_MULTIPLIERS = {
    "EX": 1e18, "PE": 1e15, "T": 1e12, "G": 1e9, "MA": 1e6, "K": 1e3,
    "M": 1e-3, "U": 1e-6, "N": 1e-9, "P": 1e-12, "F": 1e-15, "A": 1e-18,
}  # fmt: skip
_MEGA_UNITS = ("OHM", "HZ")
INVALID_SUFFIX = -131


def with_unit(unit: str) -> Kind:
    """A number, optionally with ``unit`` and a multiplier (``10 KOHM``, ``2.2MOHM``, ``5 OHM``).

    For models that take unit suffixes (``ScpiDevice.ACCEPTS_SUFFIXES``); a suffix naming
    another unit is -131, as the standard says. ``MIN``/``MAX``/``DEF`` pass through.
    """
    base = unit.upper()

    def convert(token: Token) -> float | str:
        if not isinstance(token, Suffixed):
            return numeric(token)
        suffix = token.suffix
        if not suffix.endswith(base):
            raise ScpiError(INVALID_SUFFIX, suffix)
        prefix = suffix[: -len(base)]
        if not prefix:
            return token.value
        if prefix == "M" and base in _MEGA_UNITS:
            return token.value * 1e6
        if prefix not in _MULTIPLIERS:
            raise ScpiError(INVALID_SUFFIX, suffix)
        return token.value * _MULTIPLIERS[prefix]

    return convert


def limit_word(token: Token) -> str:
    """``MIN``/``MAX``/``DEF`` alone, as in ``VOLT? MAX``."""
    if isinstance(token, Word):
        if token.text in _SPECIAL:
            return _SPECIAL[token.text]
        raise ScpiError(ILLEGAL_VALUE, token.text)
    raise ScpiError(DATA_TYPE_ERROR)


def boolean(token: Token) -> bool:
    """``ON|OFF`` or a number (IEEE 488.2: rounded, non-zero is ON)."""
    if isinstance(token, Word):
        if token.text == "ON":
            return True
        if token.text == "OFF":
            return False
        raise ScpiError(ILLEGAL_VALUE, token.text)
    if isinstance(token, Number):
        if not math.isfinite(token.value):
            raise ScpiError(OUT_OF_RANGE)
        return round(token.value) != 0
    raise ScpiError(DATA_TYPE_ERROR)


def integer(token: Token) -> int:
    """A whole number (``INST:NSEL 2``)."""
    if isinstance(token, Number):
        if not math.isfinite(token.value):
            raise ScpiError(OUT_OF_RANGE)
        return round(token.value)
    raise ScpiError(DATA_TYPE_ERROR)


def word(token: Token) -> Word:
    """Character data as typed (``CH1``, ``ON``); the handler decides what it may be."""
    if isinstance(token, Word):
        return token
    raise ScpiError(DATA_TYPE_ERROR)


def token(value: Token) -> Token:
    """Any token, for commands whose parameters change meaning by position (``OUTP CH1,ON``
    or ``OUTP ON``)."""
    return value


def string(token: Token) -> str:
    if isinstance(token, Text):
        return token.value
    raise ScpiError(DATA_TYPE_ERROR)


def choice(*mnemonics: str) -> Kind:
    """One of several keywords, each in long or short form; returns the long form upper-cased.

    ``choice("CURRent", "VOLTage")`` accepts CURR, CURRENT, VOLT, VOLTAGE.
    """
    patterns = [(HeaderPattern(m), m.upper()) for m in mnemonics]

    def convert(token: Token) -> str:
        if isinstance(token, Word):
            for pattern, canonical in patterns:
                if pattern.matches(token.text, query=False):
                    return canonical
            raise ScpiError(ILLEGAL_VALUE, token.text)
        raise ScpiError(DATA_TYPE_ERROR)

    return convert


def resolve(value: float | str, low: float, high: float, default: float | None = None) -> float:
    """Turn a ``numeric`` value into a float within ``[low, high]`` or raise -222."""
    if value == "MIN":
        return low
    if value == "MAX":
        return high
    if value == "DEF":
        return low if default is None else default
    assert isinstance(value, float)
    # tolerate float noise at the edges, as the instruments' own rounding does
    span = max(abs(low), abs(high), 1.0) * 1e-9
    if not (low - span <= value <= high + span):
        raise ScpiError(OUT_OF_RANGE, f"{value} not in [{low}, {high}]")
    return min(max(value, low), high)
