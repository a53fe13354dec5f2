"""Typed instrument errors: each says what was sent and what came back."""

from __future__ import annotations


class InstrumentError(Exception):
    """The instrument reported errors in its SCPI error queue."""

    def __init__(self, instrument: str, errors: list[tuple[int, str]], last_command: str = ""):
        self.instrument = instrument
        self.errors = errors
        self.last_command = last_command
        listed = "; ".join(f"{code},{msg!r}" for code, msg in errors)
        super().__init__(f"{instrument}: error queue after {last_command!r}: {listed}")


class InstrumentReplyError(Exception):
    """A reply that could not be understood (garbled, short, wrong type)."""

    def __init__(self, sent: str, received: str, why: str, instrument: str = ""):
        self.instrument = instrument
        self.sent = sent
        self.received = received
        self.why = why
        who = f"{instrument}: " if instrument else ""
        super().__init__(f"{who}sent {sent!r}, received {received!r}: {why}")

    def naming(self, instrument: str) -> InstrumentReplyError:
        """The same error, naming the instrument (for errors raised below the driver)."""
        return InstrumentReplyError(self.sent, self.received, self.why, instrument)


class InstrumentConnectionError(Exception):
    """The link to the instrument failed: refused, reset, unreachable, closed."""

    def __init__(self, instrument: str, sent: str, why: str):
        self.instrument = instrument
        self.sent = sent
        self.why = why
        during = f"sending {sent!r}" if sent else "connecting"
        super().__init__(f"{instrument}: connection failed while {during}: {why}")


class InstrumentTimeout(Exception):
    """The instrument did not answer in time."""

    def __init__(self, instrument: str, sent: str, timeout_s: float):
        self.instrument = instrument
        self.sent = sent
        super().__init__(f"{instrument}: no reply to {sent!r} within {timeout_s:g} s")


class IdentityError(Exception):
    """`*IDN?` names a different instrument than the station file says is there."""

    def __init__(self, resource: str, expected: str, received: str):
        self.resource = resource
        self.expected = expected
        self.received = received
        super().__init__(
            f"{resource}: station file expects {expected!r} but *IDN? answered {received!r}"
        )


class InstrumentRebooted(Exception):
    """The instrument came back from a power cycle: its outputs and setpoints are at their
    `*RST` defaults, whatever the test had set. Seen by its power-on bit (PON, `*ESR?`)
    when the rig reconnects after the link dropped."""

    def __init__(self, instrument: str, sent: str):
        self.instrument = instrument
        self.sent = sent
        super().__init__(
            f"{instrument}: rebooted (power-on bit set) while {sent!r} was under way; its "
            "outputs and setpoints are back at their *RST defaults"
        )


# A link that failed without saying anything about the instrument's state: worth a
# reconnect and, for a query that changes nothing, another try.
LINK_ERRORS = (InstrumentTimeout, InstrumentConnectionError)
