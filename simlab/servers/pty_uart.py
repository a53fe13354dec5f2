"""A simulated BMS UART on a pseudo-terminal: the port, the reader thread, the link habits.

A client opens `.port` (the pty slave, e.g. /dev/pts/7) with pyserial exactly as it would
open /dev/ttyUSB0. The server keeps the slave open itself, so a client may close and
reopen the port between requests (many tools do) and find the same unit there.

Framing and replies belong to each protocol's subclass (`feed`, `handle`, `command_of`);
what real units do on the wire, whatever their protocol, lives here and is switched
through `bms.*` (see simlab.comms): sleeping and swallowing the request that wakes it,
dropping requests that come too fast, never answering some commands, trailing bytes
after a reply, replies written in fragments.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty
from collections import Counter
from typing import Any

from simlab.comms import BmsComms

FRAGMENT_GAP_S = 0.002


class PtyUartServer:
    """Serves one simulated BMS on a pty; one reader thread answers requests in order."""

    protocol = ""

    def __init__(self, backend: Any, lock: threading.RLock, idle_reset_s: float = 0.2):
        self.backend = backend
        self.lock = lock
        self.idle_reset_s = idle_reset_s  # a UART frame gap: drop a stale partial frame
        self.port = ""
        self.stats: Counter[str] = Counter()
        self._last_traffic = float("-inf")  # asleep until the first request wakes it
        self._last_reply = float("-inf")
        self._fds: tuple[int, int] | None = None
        self._wake: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> dict[str, Any]:
        return {"port": self.port}

    @property
    def comms(self) -> BmsComms:
        return getattr(self.backend, "comms", None) or BmsComms()

    # -- protocol hooks ----------------------------------------------------------------

    def feed(self, data: bytes) -> list[Any]:
        """Bytes from the client → complete, valid requests."""
        raise NotImplementedError

    def reset_parser(self) -> None:
        raise NotImplementedError

    def has_partial(self) -> bool:
        raise NotImplementedError

    def command_of(self, request: Any) -> int:
        """The code `bms.uart.unanswered` names this request by."""
        raise NotImplementedError

    def handle(self, request: Any) -> list[bytes]:
        """The reply frames to one request (empty: silence). Called under the lab lock."""
        raise NotImplementedError

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes pass unchanged
        self._fds = (master, slave)
        self._wake = os.pipe()
        self.port = os.ttyname(slave)
        name = f"{self.protocol}-uart {self.port}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None or self._fds is None or self._wake is None:
            return
        os.write(self._wake[1], b"x")
        self._thread.join(timeout=2)
        for fd in (*self._fds, *self._wake):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._thread = self._fds = self._wake = None

    def _run(self) -> None:
        assert self._fds is not None and self._wake is not None
        master, wake = self._fds[0], self._wake[0]
        while True:
            timeout = self.idle_reset_s if self.has_partial() else None
            ready, _, _ = select.select([master, wake], [], [], timeout)
            if wake in ready:
                return
            if not ready:
                self.reset_parser()
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            for request in self.feed(data):
                for chunk in self.serve(request):
                    os.write(master, chunk)
                    if len(chunk) and self.comms.uart.fragment_bytes:
                        time.sleep(FRAGMENT_GAP_S)

    # -- one request -------------------------------------------------------------------

    def serve(self, request: Any) -> list[bytes]:
        """The bytes to write for one request, after the link's habits had their say."""
        with self.lock:
            comms = self.comms
            uart = comms.uart
            now = time.monotonic()
            idle, self._last_traffic = now - self._last_traffic, now
            if uart.sleep_after_s > 0 and idle >= uart.sleep_after_s:
                self.stats["asleep"] += 1  # this request only wakes the unit
                return []
            if uart.min_interval_s > 0 and now - self._last_reply < uart.min_interval_s:
                self.stats["too_fast"] += 1
                return []
            if self.command_of(request) in uart.unanswered_codes():
                self.stats["unanswered"] += 1
                return []
            frames = self.handle(request)
        if not frames:
            self.stats["silent"] += 1
            return []
        if uart.reply_delay_s > 0:
            time.sleep(uart.reply_delay_s)  # a slow unit: the link's real time
        data = b"".join(frames) + bytes(uart.trailing_bytes)
        faults = getattr(self.backend, "link_faults", None)
        if faults is not None:
            data = faults.bms_uart(data)  # simlab.faults: a silent or corrupting link
            if not data:
                self.stats["fault_silent"] += 1
                return []
        self.stats["answered"] += 1
        self._last_reply = time.monotonic()
        step = uart.fragment_bytes
        if step:
            return [data[i : i + step] for i in range(0, len(data), step)]
        return [data]
