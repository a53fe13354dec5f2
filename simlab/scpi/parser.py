"""SCPI program-message parsing and vendor-style header patterns.

A program message (one line from a client) holds commands joined by ``;``; each command
is a header, an optional ``?`` and comma-separated parameters. Parsing happens on every
round trip, so header patterns are compiled to one regular expression each, once, when
a model's command table is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simlab.scpi.errors import ScpiError

SYNTAX_ERROR = -102
MAX_CHANNELS = 64  # a channel range wider than any mainframe is rejected, not expanded


@dataclass(frozen=True, slots=True)
class Number:
    """Decimal numeric program data (``1.5``, ``-2E-3``, ``#H1F``)."""

    value: float


@dataclass(frozen=True, slots=True)
class Word:
    """Character program data, upper-cased (``ON``, ``MAX``, ``CURR``, ``CH1``)."""

    text: str


@dataclass(frozen=True, slots=True)
class Text:
    """String program data, quotes removed and doubled quotes unescaped."""

    value: str


@dataclass(frozen=True, slots=True)
class ChannelList:
    """``(@1)``, ``(@1,3)``, ``(@1:4)``, expanded in order."""

    channels: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Suffixed:
    """A number with a unit suffix (``10 KOHM``, ``1.5V``), upper-cased, for models that
    accept suffixes (``parse_command(..., suffixes=True)``); others answer -131."""

    value: float
    suffix: str


Token = Number | Word | Text | ChannelList | Suffixed


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    """One command of a program message."""

    header: str  # upper-case, without the leading colon or the '?'
    absolute: bool  # written with a leading ':' (resets the compound-header path)
    query: bool
    params: tuple[Token, ...]

    @property
    def common(self) -> bool:
        return self.header.startswith("*")


_HEADER = re.compile(r"\*[A-Za-z]+|[A-Za-z][A-Za-z0-9_]*(?::[A-Za-z][A-Za-z0-9_]*)*")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NUMBER_WITH_SUFFIX = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*[A-Za-z]+")
_NON_DECIMAL = re.compile(r"#([HhQqBb])([0-9A-Fa-f]+)")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CHANNEL_ITEM = re.compile(r"\s*(\d+)\s*(?::\s*(\d+)\s*)?")
_BASES = {"H": 16, "Q": 8, "B": 2}


def _split_outside(text: str, sep: str) -> list[str]:
    """Split on ``sep`` where it is outside quotes and parentheses."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def split_message(message: str) -> list[str]:
    """Split a program message into commands on ``;`` (not inside quotes)."""
    return _split_outside(message, ";")


def parse_command(
    text: str, attached_lists: bool = False, suffixes: bool = False
) -> ParsedCommand | None:
    """Parse one command; None for an empty one (``VOLT 1;;`` is tolerated).

    ``attached_lists`` accepts a channel list glued to the value before it
    (``SOUR:VOLT 5(@1,2)``), as some vendors document their syntax.
    Raises ScpiError for malformed input so the caller can queue it.
    """
    s = text.strip()
    if not s:
        return None
    absolute = s.startswith(":")
    if absolute:
        s = s[1:]
    m = _HEADER.match(s)
    if m is None:
        raise ScpiError(SYNTAX_ERROR, "bad header")
    header = m.group(0).upper()
    rest = s[m.end() :]
    query = rest.startswith("?")
    if query:
        rest = rest[1:]
    if rest and not rest[0].isspace() and not query:
        raise ScpiError(SYNTAX_ERROR, "header not followed by a space")
    if absolute and header.startswith("*"):
        raise ScpiError(SYNTAX_ERROR, "':' before a common command")
    body = rest.strip()
    params = parse_params(body, attached_lists, suffixes) if body else ()
    return ParsedCommand(header, absolute, query, params)


_ATTACHED_LIST = re.compile(r"(.*[^\s])\s*(\(@.*\))")


def parse_params(
    text: str, attached_lists: bool = False, suffixes: bool = False
) -> tuple[Token, ...]:
    """Parse comma-separated program data into tokens."""
    tokens: list[Token] = []
    for piece in _split_outside(text, ","):
        piece = piece.strip()
        m = _ATTACHED_LIST.fullmatch(piece) if attached_lists else None
        if m is not None and not piece.startswith("(@"):
            tokens += [parse_token(m.group(1), suffixes), parse_token(m.group(2), suffixes)]
        else:
            tokens.append(parse_token(piece, suffixes))
    return tuple(tokens)


def parse_token(piece: str, suffixes: bool = False) -> Token:
    """Classify one parameter by its syntax (the command decides what it may be)."""
    if not piece:
        raise ScpiError(SYNTAX_ERROR, "empty parameter")
    first = piece[0]
    if first in "\"'":
        return _parse_string(piece)
    if piece.startswith("(@"):
        return _parse_channels(piece)
    if _NUMBER.fullmatch(piece):
        return Number(float(piece))
    if _WORD.fullmatch(piece):
        return Word(piece.upper())
    m = _NON_DECIMAL.fullmatch(piece)
    if m is not None:
        base = _BASES[m.group(1).upper()]
        try:
            return Number(float(int(m.group(2), base)))
        except ValueError:
            raise ScpiError(SYNTAX_ERROR, "bad non-decimal number") from None
    if _NUMBER_WITH_SUFFIX.fullmatch(piece):
        if suffixes:
            number = _NUMBER.match(piece)
            assert number is not None
            return Suffixed(float(number.group(0)), piece[number.end() :].strip().upper())
        raise ScpiError(-131, piece)
    raise ScpiError(SYNTAX_ERROR, f"bad parameter {piece[:20]!r}")


def _parse_string(piece: str) -> Text:
    quote = piece[0]
    if len(piece) < 2 or piece[-1] != quote:
        raise ScpiError(SYNTAX_ERROR, "unterminated string")
    inner = piece[1:-1]
    # a lone quote inside must be doubled
    if inner.replace(quote * 2, "").count(quote):
        raise ScpiError(SYNTAX_ERROR, "bad quote in string")
    return Text(inner.replace(quote * 2, quote))


def _parse_channels(piece: str) -> ChannelList:
    if not piece.endswith(")"):
        raise ScpiError(SYNTAX_ERROR, "unterminated channel list")
    channels: list[int] = []
    for item in piece[2:-1].split(","):
        m = _CHANNEL_ITEM.fullmatch(item)
        if m is None:
            raise ScpiError(SYNTAX_ERROR, "bad channel list")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        step = 1 if hi >= lo else -1
        if abs(hi - lo) + len(channels) >= MAX_CHANNELS:
            raise ScpiError(-222, "channel list too long")
        channels.extend(range(lo, hi + step, step))
    return ChannelList(tuple(channels))


# --- header patterns -------------------------------------------------------------------

_PATTERN_NODE = re.compile(r"\[:?([A-Za-z][A-Za-z0-9]*)(<n>)?:?\]|:?([A-Za-z][A-Za-z0-9]*)(<n>)?")


def _mnemonic_regex(mnemonic: str) -> str:
    """``VOLTage`` -> ``(?:VOLTAGE|VOLT)``: the long form or the upper-case short form."""
    short = re.match(r"[A-Z0-9]*", mnemonic).group(0)  # type: ignore[union-attr]
    long = mnemonic.upper()
    if not short or short == long:
        return re.escape(long)
    return f"(?:{re.escape(long)}|{re.escape(short)})"


class HeaderPattern:
    """A vendor-style header such as ``[SOURce:]VOLTage[:LEVel]`` or ``MEASure:VOLTage?``.

    A mnemonic followed by ``<n>`` takes a numeric suffix that names a channel
    (``SOURce<n>:VOLTage`` matches ``SOUR2:VOLT``, ``CH<n>:VOLTage`` matches ``CH1:VOLT``);
    one per pattern. Compiled once; ``matches`` takes the upper-cased header as typed
    (no leading ':').
    """

    __slots__ = ("_regex", "common", "has_suffix", "query", "text")

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.query = pattern.endswith("?")
        body = pattern[:-1] if self.query else pattern
        self.common = body.startswith("*")
        self.has_suffix = False
        if self.common:
            self._regex = re.compile(re.escape(body.upper()))
            return
        pieces: list[str] = []
        pos = 0
        for m in _PATTERN_NODE.finditer(body):
            if m.start() != pos:
                raise ValueError(f"bad SCPI pattern {pattern!r}")
            pos = m.end()
            optional = m.group(1) is not None
            mnemonic = m.group(1) or m.group(3)
            node = f":{_mnemonic_regex(mnemonic)}"
            if m.group(2) or m.group(4):
                if self.has_suffix:
                    raise ValueError(f"one numeric suffix per pattern: {pattern!r}")
                self.has_suffix = True
                node += r"(?P<n>[0-9]+)?"
            pieces.append(f"(?:{node})?" if optional else node)
        if pos != len(body) or not pieces:
            raise ValueError(f"bad SCPI pattern {pattern!r}")
        self._regex = re.compile("".join(pieces))

    def _match(self, header: str) -> re.Match[str] | None:
        return self._regex.fullmatch(header if self.common else ":" + header)

    def matches(self, header: str, query: bool) -> bool:
        if query != self.query:
            return False
        return self._match(header) is not None

    def suffix(self, header: str) -> int | None:
        """The numeric suffix typed in ``header`` (``SOUR2:VOLT`` -> 2), or None."""
        if not self.has_suffix:
            return None
        m = self._match(header)
        if m is None or m.group("n") is None:
            return None
        return int(m.group("n"))

    def __repr__(self) -> str:
        return f"HeaderPattern({self.text!r})"
