"""The base of every simulated SCPI instrument: dispatch, error queue, common commands.

A model is a subclass with a table of ``Command`` lines (pattern, handler, parameter
kinds, channel-list rule, when to run the physics), so its command tree reads like the
programming guide and the parsing, checking and error reporting live here once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

from simlab import changes
from simlab.hardware import InstrumentHardware, LoadInput, SourceChannel
from simlab.scpi import params as p
from simlab.scpi.errors import ErrorQueue, ScpiError, format_error
from simlab.scpi.parser import (
    ChannelList,
    HeaderPattern,
    ParsedCommand,
    Token,
    parse_command,
    split_message,
)

log = logging.getLogger(__name__)

UNDEFINED_HEADER = -113
PARAMETER_NOT_ALLOWED = -108
MISSING_PARAMETER = -109
SUFFIX_OUT_OF_RANGE = -114


class Chans(Enum):
    """Whether a command takes a ``(@list)`` and whether it may be left out."""

    NONE = "none"
    OPTIONAL = "optional"  # missing -> the selected channel (INST:NSEL)
    REQUIRED = "required"  # missing -> -109


class Solve(Enum):
    """When the bench physics must run around a command."""

    NONE = "none"
    BEFORE = "before"  # measured values are read: recompute them first
    AFTER = "after"  # a setting changed the hardware: let the circuit settle


@dataclass(frozen=True, slots=True)
class Arg:
    kind: p.Kind
    required: bool = True


def opt(kind: p.Kind) -> Arg:
    """An optional positional parameter (the handler receives None when it is absent)."""
    return Arg(kind, required=False)


@dataclass(frozen=True, slots=True)
class Command:
    """One line of a model's command table."""

    pattern: HeaderPattern
    handler: Callable[..., str | None]
    args: tuple[Arg, ...]
    chans: Chans
    solve: Solve


def command(
    pattern: str,
    handler: Callable[..., str | None],
    *args: p.Kind | Arg,
    chans: Chans = Chans.NONE,
    solve: Solve | None = None,
) -> Command:
    """Declare a command; settings run the physics after, queries by default do not."""
    compiled = HeaderPattern(pattern)
    if solve is None:
        solve = Solve.NONE if compiled.query else Solve.AFTER
    arg_specs = tuple(a if isinstance(a, Arg) else Arg(a) for a in args)
    return Command(compiled, handler, arg_specs, chans, solve)


def measure(pattern: str, handler: Callable[..., str | None], *args: p.Kind | Arg, **kw: Any):
    """Declare a measurement query: the physics runs before the value is read."""
    return command(pattern, handler, *args, solve=Solve.BEFORE, **kw)


# IEEE 488.2 standard event status register bits
ESR_OPC = 0x01
ESR_QYE = 0x04
ESR_DDE = 0x08
ESR_EXE = 0x10
ESR_CME = 0x20
STB_EAV = 0x04  # error/event queue not empty
STB_ESB = 0x20
STB_MSS = 0x40


@functools.lru_cache(maxsize=4096)
def _split(message: str) -> tuple[str, ...]:
    """Clients repeat the same few program messages; split each once."""
    return tuple(split_message(message))


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A parsed command with its parameters sorted into values and channel lists."""

    parsed: ParsedCommand
    positional: tuple[Token, ...]
    lists: tuple[ChannelList, ...]


@functools.lru_cache(maxsize=4096)
def _parse(text: str, attached_lists: bool, suffixes: bool) -> _Prepared | None:
    """Parsing is pure and its result immutable, so a repeated command is parsed once.
    A malformed command raises every time (exceptions are not cached)."""
    parsed = parse_command(text, attached_lists, suffixes=suffixes)
    if parsed is None:
        return None
    lists = tuple(t for t in parsed.params if isinstance(t, ChannelList))
    positional = tuple(t for t in parsed.params if not isinstance(t, ChannelList))
    return _Prepared(parsed, positional, lists)


# One command of a resolved program message: what to run, or the error code to queue.
_Step = tuple[Command, _Prepared, int | None, str] | int


def _esr_bit(code: int) -> int:
    if -199 <= code <= -100:
        return ESR_CME
    if -299 <= code <= -200:
        return ESR_EXE
    if -399 <= code <= -300:
        return ESR_DDE
    if -499 <= code <= -400:
        return ESR_QYE
    return 0


class ScpiDevice:
    """A simulated instrument answering SCPI program messages against its hardware.

    Subclasses set the identity, ``COMMANDS`` and ``reset_state``; ``check_hardware``
    rejects a hardware object with the wrong channel layout at construction.
    """

    VENDOR: ClassVar[str] = ""
    MODEL: ClassVar[str] = ""
    FIRMWARE: ClassVar[str] = ""
    SCPI_VERSION: ClassVar[str] = "1999.0"
    OPTIONS: ClassVar[str | None] = None  # *OPT? reply; None: the model has no *OPT?
    NUMBER_FORMAT: ClassVar[str] = "{:+.8E}"
    INT_FORMAT: ClassVar[str] = "{:+d}"
    COMMANDS: ClassVar[tuple[Command, ...]] = ()
    # accept a channel list glued to the value before it (`SOUR:VOLT 5(@1,2)`)
    ATTACHED_CHANNEL_LISTS: ClassVar[bool] = False
    REPLY_TERMINATION: ClassVar[str] = "\n"
    # Models whose manuals allow unit suffixes on numbers (``OUT 10 KOHM``) set this; the
    # rest answer a suffix with -131 as SCPI-99 requires of a command without units.
    ACCEPTS_SUFFIXES: ClassVar[bool] = False

    _table: ClassVar[tuple[Command, ...]] = ()
    _cache: ClassVar[dict[tuple[str, bool], Command | None]] = {}
    _plans: ClassVar[dict[str, tuple[_Step, ...]]] = {}
    _CACHE_LIMIT = 4096

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._table = cls.COMMANDS + COMMON_COMMANDS  # model lines first: they may override
        cls._cache = {}
        cls._plans = {}

    def __init__(
        self, hardware: InstrumentHardware, serial: str, solve: Callable[[], None]
    ) -> None:
        self.check_hardware(hardware)
        self.hardware = hardware
        self._known_channels: frozenset[int] | None = None
        self.serial = serial
        self._solve_fn = solve
        self.errors = ErrorQueue()
        self.esr = 0
        self.ese = 0
        self.sre = 0
        self.selected_channel = 1
        self.reset_state()  # power-on state is the *RST state

    # --- hooks for models ---------------------------------------------------------------

    @classmethod
    def build_hardware(cls, modules: list[str] | None = None) -> InstrumentHardware:
        """Fresh hardware with the channels this model has."""
        raise NotImplementedError

    def check_hardware(self, hardware: InstrumentHardware) -> None:
        """Raise ValueError if ``hardware`` is not shaped like this model."""

    def reset_state(self) -> None:
        """Model defaults after ``*RST``: outputs off, setpoints 0."""

    def after_solve(self) -> None:
        """Run after each physics solve (e.g. latch a protection trip)."""

    # --- helpers for handlers -------------------------------------------------------------

    def solve(self) -> None:
        self._solve_fn()
        self.after_solve()

    def fmt(self, value: float) -> str:
        return self.NUMBER_FORMAT.format(value)

    def fmt_each(self, chans: list[int], value: Callable[[int], float]) -> str:
        """One formatted number per channel, comma-separated, as multi-channel queries answer."""
        return ",".join(self.fmt(value(ch)) for ch in chans)

    def fmt_int(self, value: int) -> str:
        return self.INT_FORMAT.format(value)

    def source(self, channel: int) -> SourceChannel:
        return self.hardware.sources[channel]

    def load(self, channel: int = 1) -> LoadInput:
        return self.hardware.loads[channel]

    def channel_numbers(self) -> list[int]:
        return sorted(self.hardware.sources or self.hardware.loads)

    def resolve_channels(self, channels: tuple[int, ...] | None, required: bool) -> list[int]:
        """Validate a channel list; a missing one means the selected channel or -109."""
        if channels is None:
            if required:
                raise ScpiError(MISSING_PARAMETER, "channel list required")
            return [self.selected_channel]
        known = self._known_channels
        if known is None:  # fixed by the hardware: looked up once
            known = self._known_channels = frozenset(self.channel_numbers())
        for ch in channels:
            if ch not in known:
                raise ScpiError(-222, f"no channel {ch}")
        return list(channels)

    # --- error queue and status -----------------------------------------------------------

    def push_error(self, code: int) -> None:
        """Queue an error and set its event status bit (also used by the TCP server)."""
        self.errors.push(code)
        self.esr |= _esr_bit(code)

    def status_byte(self) -> int:
        stb = STB_EAV if len(self.errors) else 0
        if self.esr & self.ese:
            stb |= STB_ESB
        if stb & self.sre:
            stb |= STB_MSS
        return stb

    # --- execution ------------------------------------------------------------------------

    def handle(self, message: str) -> str | None:
        """Execute a program message; return the query replies joined by ``;`` or None.

        A failing command is not executed: its error is queued and the next one runs.
        """
        plan = self._plan(message)
        if len(plan) == 1:  # one command, what clients mostly send: no list, no join
            return self._step(plan[0])
        replies = [reply for reply in map(self._step, plan) if reply is not None]
        return ";".join(replies) if replies else None

    def _step(self, step: _Step) -> str | None:
        """Run one command of a message: a query's reply ("" if it had none), else None."""
        if type(step) is int:
            self.push_error(step)
            return None
        cmd, prepared, suffix, text = step  # type: ignore[misc]
        try:
            reply = self._execute(cmd, prepared, suffix)
        except ScpiError as exc:
            self.push_error(exc.code)
            return None
        except Exception:  # a simulator bug must not take the connection down
            log.exception("%s: command %r failed", self.MODEL, text)
            self.push_error(-300)
            return None
        return (reply or "") if prepared.parsed.query else None

    def _plan(self, message: str) -> tuple[_Step, ...]:
        """What a program message resolves to, command by command: the table line, the
        parsed parameters and the channel suffix, or the error code of a command that does
        not parse or names no header. Both depend only on the model and the text (the
        compound-header path starts afresh with each message), so clients' repeated
        messages are resolved once per model."""
        plans = type(self)._plans
        plan = plans.get(message)
        if plan is not None:
            return plan
        steps: list[_Step] = []
        path: tuple[str, ...] = ()
        cacheable = True
        for text in _split(message):
            try:
                prepared = _parse(text, self.ATTACHED_CHANNEL_LISTS, self.ACCEPTS_SUFFIXES)
                if prepared is None:
                    continue
                parsed = prepared.parsed
                cmd, header = self._lookup(parsed, path)
                if not parsed.common:
                    path = tuple(header.split(":")[:-1])
                steps.append((cmd, prepared, cmd.pattern.suffix(header), text))
            except ScpiError as exc:
                steps.append(exc.code)
            except Exception:  # a simulator bug: logged and queued each time it is sent
                log.exception("%s: command %r failed", self.MODEL, text)
                steps.append(-300)
                cacheable = False
        plan = tuple(steps)
        if not cacheable:
            return plan
        if len(plans) >= self._CACHE_LIMIT:
            plans.clear()
        plans[message] = plan
        return plan

    def _lookup(self, parsed: ParsedCommand, path: tuple[str, ...]) -> tuple[Command, str]:
        """Find the table line; a relative header is tried under the previous path first."""
        candidates = [parsed.header]
        if path and not parsed.absolute and not parsed.common:
            candidates.insert(0, ":".join((*path, parsed.header)))
        cache = type(self)._cache
        for header in candidates:
            key = (header, parsed.query)
            if key in cache:
                found = cache[key]
            else:
                found = next(
                    (c for c in self._table if c.pattern.matches(header, parsed.query)), None
                )
                if len(cache) >= self._CACHE_LIMIT:
                    cache.clear()
                cache[key] = found
            if found is not None:
                return found, header
        raise ScpiError(UNDEFINED_HEADER, parsed.header)

    def _execute(self, cmd: Command, prepared: _Prepared, suffix: int | None) -> str | None:
        lists, positional = prepared.lists, prepared.positional
        if len(lists) > 1 or (lists and cmd.chans is Chans.NONE):
            raise ScpiError(PARAMETER_NOT_ALLOWED, "channel list")
        if len(positional) > len(cmd.args):
            raise ScpiError(PARAMETER_NOT_ALLOWED)
        values: list[Any] = []
        for i, arg in enumerate(cmd.args):
            if i < len(positional):
                values.append(arg.kind(positional[i]))
            elif arg.required:
                raise ScpiError(MISSING_PARAMETER)
            else:
                values.append(None)
        if cmd.chans is not Chans.NONE:
            given = lists[0].channels if lists else None
            if suffix is not None:
                if given is not None:
                    raise ScpiError(PARAMETER_NOT_ALLOWED, "channel suffix and channel list")
                if suffix not in self.channel_numbers():
                    raise ScpiError(SUFFIX_OUT_OF_RANGE, f"no channel {suffix}")
                given = (suffix,)
            values.append(self.resolve_channels(given, cmd.chans is Chans.REQUIRED))
        if cmd.solve is Solve.BEFORE:
            self.solve()
        elif not prepared.parsed.query:
            changes.touch()  # a setting may write the hardware: the next solve must run
        reply = cmd.handler(self, *values)
        if cmd.solve is Solve.AFTER:
            self.solve()
        return reply

    # --- common commands (IEEE 488.2) and SYSTem ----------------------------------------

    def _idn(self) -> str:
        return f"{self.VENDOR},{self.MODEL},{self.serial},{self.FIRMWARE}"

    def _rst(self) -> None:
        self.reset_state()

    def _cls(self) -> None:
        self.errors.clear()
        self.esr = 0

    def _opc(self) -> None:
        self.esr |= ESR_OPC

    def _opc_query(self) -> str:
        return "1"

    def _wai(self) -> None:
        """Commands execute sequentially here, so there is nothing to wait for."""

    def _opt(self) -> str:
        if self.OPTIONS is None:
            raise ScpiError(UNDEFINED_HEADER, "*OPT?")
        return self.OPTIONS

    def _esr_query(self) -> str:
        value, self.esr = self.esr, 0
        return self.fmt_int(value)

    def _ese(self, value: int) -> None:
        if not 0 <= value <= 255:
            raise ScpiError(-222)
        self.ese = value

    def _ese_query(self) -> str:
        return self.fmt_int(self.ese)

    def _sre(self, value: int) -> None:
        if not 0 <= value <= 255:
            raise ScpiError(-222)
        self.sre = value & ~STB_MSS

    def _sre_query(self) -> str:
        return self.fmt_int(self.sre)

    def _stb_query(self) -> str:
        return self.fmt_int(self.status_byte())

    def _tst_query(self) -> str:
        return self.fmt_int(0)

    def _error_query(self) -> str:
        return format_error(self.errors.pop())

    def _error_count(self) -> str:
        return self.fmt_int(len(self.errors))

    def _version(self) -> str:
        return self.SCPI_VERSION


def _virtual(name: str) -> Callable[..., str | None]:
    """Call the device's own method, so a model may override a common command's reply
    (a five-field ``*IDN?``, a vendor's ``SYST:ERR?`` format)."""

    def call(dev: ScpiDevice, *args: Any) -> str | None:
        return getattr(dev, name)(*args)

    call.__name__ = name
    return call


COMMON_COMMANDS: tuple[Command, ...] = (
    command("*IDN?", _virtual("_idn")),
    command("*RST", _virtual("_rst")),
    command("*CLS", _virtual("_cls"), solve=Solve.NONE),
    command("*OPC", _virtual("_opc"), solve=Solve.NONE),
    command("*OPC?", _virtual("_opc_query")),
    command("*WAI", _virtual("_wai"), solve=Solve.NONE),
    command("*OPT?", _virtual("_opt")),
    command("*ESR?", _virtual("_esr_query")),
    command("*ESE", _virtual("_ese"), p.integer, solve=Solve.NONE),
    command("*ESE?", _virtual("_ese_query")),
    command("*SRE", _virtual("_sre"), p.integer, solve=Solve.NONE),
    command("*SRE?", _virtual("_sre_query")),
    command("*STB?", _virtual("_stb_query")),
    command("*TST?", _virtual("_tst_query")),
    command("SYSTem:ERRor[:NEXT]?", _virtual("_error_query")),
    command("SYSTem:ERRor:COUNt?", _virtual("_error_count")),
    command("SYSTem:VERSion?", _virtual("_version")),
)
