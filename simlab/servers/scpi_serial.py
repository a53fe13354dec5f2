"""An SCPI instrument's RS-232 (or USB-CDC) port on a pseudo-terminal: `ASRL/dev/pts/N::INSTR`.

A client opens the pty's slave exactly as it opens /dev/ttyUSB0 behind a USB-serial
adapter: with pyserial directly, or through pyvisa-py's ASRL session. The port has the
model's line settings (simlab.scpi.links): a client that opens it at another baud rate
gets what a real instrument gives then, which is nothing: the bytes arrive as framing
errors and no command is understood. The server reads the settings the client put on
the line from the pty itself (termios), so a wrong baud rate in a station file shows up
in CI as it would on the bench. (Linux ptys refuse word lengths other than 8 bits and
parity, so those are checked on a bench only.)

Commands end with LF (a CR before it is ignored); replies end with the model's
terminator (LF, or CR LF for the instruments that send it). Link faults apply as on the
other transports: a disconnected or rebooting instrument answers nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import termios
import threading
import time
import tty
from collections import Counter
from collections.abc import Callable

from simlab.faults import ScpiFaultState
from simlab.scpi.device import ScpiDevice
from simlab.scpi.links import SerialLine
from simlab.servers.scpi_link import ScpiLink

log = logging.getLogger(__name__)

_MAX_LINE = 1 << 16  # an instrument's input buffer: a line longer than this is dropped

_BAUDS = {
    getattr(termios, f"B{rate}"): rate
    for rate in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)
    if hasattr(termios, f"B{rate}")
}
_SIZES = {termios.CS5: 5, termios.CS6: 6, termios.CS7: 7, termios.CS8: 8}


def line_settings(fd: int) -> tuple[int | None, int, str, int]:
    """(baud, data bits, parity N/E/O, stop bits) that the terminal at `fd` is set to."""
    _iflag, _oflag, cflag, _lflag, ispeed, _ospeed, _cc = termios.tcgetattr(fd)
    bits = _SIZES.get(cflag & termios.CSIZE, 8)
    parity = "N" if not cflag & termios.PARENB else ("O" if cflag & termios.PARODD else "E")
    stop = 2 if cflag & termios.CSTOPB else 1
    return _BAUDS.get(ispeed), bits, parity, stop


class ScpiSerialServer(ScpiLink):
    """Serve ``device`` on a pty with the model's serial line settings."""

    def __init__(
        self,
        device: ScpiDevice,
        lock: threading.RLock,
        line: SerialLine,
        faults: Callable[[], ScpiFaultState] | None = None,
    ) -> None:
        super().__init__(device, lock, faults)
        self.line = line
        self.port = ""
        self.stats: Counter[str] = Counter()
        self._fds: tuple[int, int] | None = None
        self._wake: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None

    @property
    def resource(self) -> str:
        return f"ASRL{self.port}::INSTR"

    def start(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes pass unchanged
        attrs = termios.tcgetattr(slave)
        speed = getattr(termios, f"B{self.line.baud}")
        attrs[4] = attrs[5] = speed  # the port comes up at the model's rate
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self._fds = (master, slave)
        self._wake = os.pipe()
        self.port = os.ttyname(slave)
        name = f"scpi-serial-{self.device.MODEL} {self.port}"
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

    def __enter__(self) -> ScpiSerialServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def settings_match(self) -> bool:
        """The client's line settings are the instrument's: otherwise it reads noise."""
        assert self._fds is not None
        baud, bits, parity, stop = line_settings(self._fds[1])
        line = self.line
        wanted = (line.baud, line.data_bits, line.parity, line.stop_bits)
        return (baud, bits, parity, stop) == wanted

    def _run(self) -> None:
        assert self._fds is not None and self._wake is not None
        master, wake = self._fds[0], self._wake[0]
        buffer = b""
        while True:
            ready, _, _ = select.select([master, wake], [], [])
            if wake in ready:
                return
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return  # EIO: no client holds the slave open; the server's own fd keeps it
            fault = self.faults()
            if self.refuses_connections():
                self.stats["unpowered"] += 1
                buffer = b""
                continue
            if not self.settings_match():
                self.stats["framing"] += 1  # the bytes arrive as framing errors
                buffer = b""
                continue
            self.last_command_at = time.monotonic()
            lines = (buffer + chunk).split(b"\n")
            buffer = lines.pop()
            if len(buffer) > _MAX_LINE:
                buffer = b""
            for raw in lines:
                data = self.answer(raw, fault)
                if data is None:
                    continue
                if self.line.reply_end != "\n":
                    data = data[:-1] + self.line.reply_end.encode()
                try:
                    os.write(master, data)
                except OSError:
                    return
                self.stats["answered"] += 1
