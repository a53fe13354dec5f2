"""A scripted JBD BMS on a real pseudo-terminal, for client tests.

The client opens the pty's slave path through pyserial exactly as it would open
`/dev/ttyUSB0`; a thread on the master side reads each request and answers from a
script, so drops, corrupt and short replies can be staged one request at a time.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator

import pytest

REQUEST_LEN = 7  # a read request has no data bytes


class PtyResponder:
    """Answers JBD read requests: first from `script` (in order), then from `canned`.

    A script entry of None drops that request (no answer), as a sleeping unit does.
    """

    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        self.port = os.ttyname(self._slave)
        self.script: list[bytes | None] = []
        self.canned: dict[int, bytes] = {}
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _answer(self, request: bytes) -> bytes | None:
        self.requests.append(request)
        if self.script:
            return self.script.pop(0)
        return self.canned.get(request[2])

    def _run(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.02)
            if not ready:
                continue
            try:
                buffer += os.read(self._master, 256)
            except OSError:
                return
            while True:
                start = buffer.find(b"\xdd")
                if start < 0:
                    buffer = b""
                    break
                buffer = buffer[start:]
                if len(buffer) < REQUEST_LEN:
                    break
                request, buffer = buffer[:REQUEST_LEN], buffer[REQUEST_LEN:]
                reply = self._answer(request)
                if reply:
                    os.write(self._master, reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        os.close(self._master)
        os.close(self._slave)


@pytest.fixture
def pty_bms() -> Iterator[PtyResponder]:
    responder = PtyResponder()
    yield responder
    responder.close()
