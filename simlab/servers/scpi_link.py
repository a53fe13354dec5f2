"""What every link to a simulated SCPI instrument shares, whatever carries the bytes.

A twin is reached over a raw socket (port 5025), HiSLIP or a serial line; each server
frames messages its own way, and hands each program message here: it runs under the
lab's lock (a command never lands inside a simulation step), and the instrument's link
faults (simlab.faults) bend how it answers on every transport alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from simlab.faults import GARBAGE_REPLY, HARDWARE_ERROR, NO_FAULT, ScpiFaultState
from simlab.scpi.device import ScpiDevice
from simlab.scpi.errors import ErrorQueue

SYNTAX_ERROR = -102


class ScpiLink:
    """One instrument's side of a link: run program messages, apply its link faults."""

    def __init__(
        self,
        device: ScpiDevice,
        lock: threading.RLock,
        faults: Callable[[], ScpiFaultState] | None = None,
    ) -> None:
        self.device = device
        self.lock = lock
        # How the link behaves right now (simlab.faults); None: always clean.
        self.faults: Callable[[], ScpiFaultState] = faults or (lambda: NO_FAULT)
        self.down_until = 0.0  # a rebooting instrument accepts no connection before this
        self.last_command_at = time.monotonic()  # for an outboard watchdog (simlab.serve)
        self._flooded = False

    @property
    def resource(self) -> str:
        """The VISA resource string a client opens."""
        raise NotImplementedError

    def refuses_connections(self) -> bool:
        """Off the network (a disconnect fault) or still booting: nobody home."""
        return self.faults().disconnected or time.monotonic() < self.down_until

    def execute(self, raw: bytes) -> str | None:
        """Run one program message (without its terminator); the reply, or None."""
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            with self.lock:
                self.device.push_error(SYNTAX_ERROR)
            return None
        if not text.strip():
            return None
        with self.lock:
            return self.device.handle(text)

    def flood(self, raw: bytes) -> None:
        """A failing instrument: its queue overflows once, then every setting it is sent
        adds a hardware error (queries still answer)."""
        with self.lock:
            if not self._flooded:
                self._flooded = True
                for _ in range(len(self.device.errors) - 1, ErrorQueue.DEPTH):
                    self.device.push_error(HARDWARE_ERROR)
            elif b"?" not in raw:
                self.device.push_error(HARDWARE_ERROR)

    def answer(self, raw: bytes, fault: ScpiFaultState) -> bytes | None:
        """The bytes a program message is answered with on the wire (before framing), the
        link's faults applied: None when it is not a query."""
        if fault.flood:
            self.flood(raw)
        reply = self.execute(raw)
        if reply is None:
            return None
        # latin-1: a binary block (scope bytes) travels one char a byte
        data = reply.encode("latin-1", "replace") + b"\n"
        if fault.garbage:
            data = GARBAGE_REPLY + b"\n"
        if fault.delay_s:
            time.sleep(fault.delay_s)  # the wire's real time, not the lab's
        return data

    def drop_connections(self) -> None:
        """Close every open connection (the instrument rebooted or left the network)."""
