"""SCPI error codes and the instrument error queue.

Clients loop on ``SYST:ERR?`` until ``+0``; a twin that reports the same standard codes
as the real instrument lets drivers' error handling be tested without hardware.
"""

from __future__ import annotations

from collections import deque

#: Standard SCPI-99 / IEEE 488.2 messages for the codes the simulated lab raises.
MESSAGES: dict[int, str] = {
    0: "No error",
    -100: "Command error",
    -101: "Invalid character",
    -102: "Syntax error",
    -104: "Data type error",
    -108: "Parameter not allowed",
    -109: "Missing parameter",
    -113: "Undefined header",
    -114: "Header suffix out of range",
    -131: "Invalid suffix",
    -200: "Execution error",
    -213: "Init ignored",
    -221: "Settings conflict",
    -222: "Data out of range",
    -224: "Illegal parameter value",
    -230: "Data corrupt or stale",
    -300: "Device-specific error",
    -350: "Queue overflow",
    -410: "Query INTERRUPTED",
}

QUEUE_OVERFLOW = -350


class ScpiError(Exception):
    """Raised while parsing or executing one command; the device queues it and moves on."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code},{MESSAGES.get(code, 'Error')}{': ' + detail if detail else ''}")


def format_error(code: int) -> str:
    """Render one queue entry the way SYST:ERR? answers: ``-222,"Data out of range"``."""
    return f'{code:+d},"{MESSAGES.get(code, "Error")}"'


class ErrorQueue:
    """FIFO of error codes, 20 deep as IEEE 488.2 instruments typically are.

    When full, the newest entry is replaced by -350 so a client still learns that
    errors were lost (SCPI-99 21.8.2).
    """

    DEPTH = 20

    def __init__(self) -> None:
        self._codes: deque[int] = deque()

    def push(self, code: int) -> None:
        if len(self._codes) < self.DEPTH:
            self._codes.append(code)
        elif self._codes[-1] != QUEUE_OVERFLOW:
            self._codes[-1] = QUEUE_OVERFLOW

    def pop(self) -> int:
        """Oldest code, or 0 when empty."""
        return self._codes.popleft() if self._codes else 0

    def clear(self) -> None:
        self._codes.clear()

    def __len__(self) -> int:
        return len(self._codes)

    def codes(self) -> list[int]:
        """Snapshot, oldest first (for tests and diagnostics)."""
        return list(self._codes)
