"""Typed BMS link errors; each carries the bytes sent and received, shown in hex."""

from __future__ import annotations


class BmsError(Exception):
    """Base of every BMS link error."""

    def __init__(self, message: str, sent: bytes = b"", received: bytes = b""):
        self.sent = sent
        self.received = received
        if sent or received:
            message = (
                f"{message} (sent {sent.hex(' ') or '-'}; received {received.hex(' ') or '-'})"
            )
        super().__init__(message)


class BmsTimeout(BmsError):
    """No reply, or a reply cut short, within the timeout."""


class BmsFrameError(BmsError):
    """A reply with a bad start/end byte, length, register or layout."""


class BmsChecksumError(BmsFrameError):
    """A reply whose checksum does not match its content."""


class BmsNack(BmsError):
    """The BMS answered with an error status."""


class BmsCapabilityError(BmsError):
    """The protocol, or this unit's firmware, does not provide what was asked for."""


class BmsIncomplete(BmsTimeout):
    """A multi-frame reply arrived with frames missing (the message names them)."""


class BmsSilent(BmsTimeout):
    """A broadcasting BMS stopped sending: its last frame is older than the stated limit."""
