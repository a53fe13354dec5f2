"""Closing, opening and reading switch channels: `ROUTe:CLOSe|OPEN (@list)`; reading a
multifunction module's digital input port: `DIGital:DATA:BYTE? (@list)`.

Both mainframes number a channel `slot·100 + n` and answer `ROUT:CLOS? (@list)` with one
`1`/`0` per channel, so the role methods live here once; a model states its slots and
which modules it knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from instruments.errors import InstrumentReplyError


def channel_list(channels: Sequence[int]) -> str:
    """(101, 102, 305) → "(@101,102,305)"."""
    return "(@" + ",".join(str(c) for c in channels) + ")"


class RouteSwitch:
    SLOTS: ClassVar[int] = 3
    MODULES: ClassVar[dict[str, int]] = {}  # module model -> channels on it
    # modules whose channels are no relays (digital ports, totalizers, DACs): nothing a
    # fault or a supply can be switched through
    RELAYLESS: ClassVar[frozenset[str]] = frozenset()
    # How long after its command a relay's contacts have moved (s), and where that is
    # stated: what a time measured from the command must allow for.
    OPERATE_S: ClassVar[float] = 0.010
    OPERATE_SOURCE: ClassVar[str] = "armature relay operate time, 10 ms (unconfirmed)"

    # write / ask / check_set_errors come from ScpiInstrument, which models mix this into.
    write: Any
    ask: Any
    check_set_errors: Any

    def check_channels(self, channels: Sequence[int]) -> list[int]:
        """Refuse (ValueError, nothing sent) a channel that no slot of this model can have."""
        chans = list(channels)
        if not chans:
            raise ValueError("no channel given")
        largest = max(self.MODULES.values(), default=99)
        for ch in chans:
            slot, n = (
                divmod(ch, 100) if isinstance(ch, int) and not isinstance(ch, bool) else (0, 0)
            )
            if not (1 <= slot <= self.SLOTS and 1 <= n <= largest):
                raise ValueError(
                    f"channel {ch!r} is not slot*100+n with slot 1..{self.SLOTS}, n 1..{largest}"
                )
        return chans

    def close(self, channels: Sequence[int]) -> None:
        self.write(f"ROUT:CLOS {channel_list(self.check_channels(channels))}")
        self.check_set_errors()

    def open(self, channels: Sequence[int]) -> None:
        self.write(f"ROUT:OPEN {channel_list(self.check_channels(channels))}")
        self.check_set_errors()

    def closed(self, channels: Sequence[int]) -> list[bool]:
        """One bool per channel: is it closed now?"""
        chans = self.check_channels(channels)
        query = f"ROUT:CLOS? {channel_list(chans)}"
        reply = self.ask(query).strip()
        fields = [f.strip() for f in reply.split(",")]
        if len(fields) != len(chans) or any(f not in ("0", "1") for f in fields):
            raise InstrumentReplyError(query, reply, f"expected {len(chans)} fields of 0/1")
        return [f == "1" for f in fields]

    def read_digital(self, channel: int) -> int:
        """The eight input lines of a digital port (`DIG:DATA:BYTE? (@301)`), bit 0 = line 0."""
        (ch,) = self.check_channels([channel])
        query = f"DIG:DATA:BYTE? {channel_list([ch])}"
        reply = self.ask(query).strip()
        try:
            value = int(float(reply))
        except ValueError:
            raise InstrumentReplyError(query, reply, "expected an integer 0-255") from None
        if not 0 <= value <= 255:
            raise InstrumentReplyError(query, reply, "expected an integer 0-255")
        return value

    def module_type(self, slot: int) -> str:
        """The module model in `slot` (`SYST:CTYP? <slot·100>`)."""
        if not 1 <= slot <= self.SLOTS:
            raise ValueError(f"slot must be 1..{self.SLOTS}, got {slot!r}")
        query = f"SYST:CTYP? {slot * 100}"
        reply = self.ask(query)
        fields = [f.strip() for f in reply.split(",")]
        if len(fields) != 4:
            raise InstrumentReplyError(query, reply, "expected vendor,model,serial,firmware")
        return fields[1]

    def installed_modules(self, count: int | None = None) -> list[str]:
        """The module model in slots 1..count (all slots by default), slot 1 first."""
        return [self.module_type(slot) for slot in range(1, (count or self.SLOTS) + 1)]
