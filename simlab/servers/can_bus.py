"""The simulated CAN bus: every frame put on it reaches every other attached party.

Parties are the simulated BMS node, the socketcand server (for clients in other
processes) and, for in-process tests, a python-can `virtual` bus. Delivery is
synchronous, in the order frames are sent, so frames broadcast during a time step are
with every listener when the step returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Listener = Callable[["CanFrame", object], None]


@dataclass(frozen=True)
class CanFrame:
    arbitration_id: int
    data: bytes
    extended: bool = False
    timestamp: float = 0.0  # the lab's time when it was sent


class SimCanBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()
        self.frames_sent = 0

    def attach(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def detach(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def send(self, frame: CanFrame, source: object = None) -> None:
        """Deliver `frame` to every listener; `source` (the sender) is told nothing."""
        with self._lock:
            self.frames_sent += 1
            for listener in list(self._listeners):
                listener(frame, source)


class VirtualBusBridge:
    """Joins the simulated bus to a python-can `virtual` channel (same process only)."""

    def __init__(self, bus: SimCanBus, channel: str):
        import can  # the simulated BMS's own CAN controller, as a python-can bus

        self.bus = bus
        self.channel = channel
        self._can = can
        self._vbus: Any = can.Bus(interface="virtual", channel=channel, receive_own_messages=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> dict[str, Any]:
        return {"interface": "virtual", "channel": self.channel}

    def start(self) -> None:
        self.bus.attach(self._out)
        self._thread = threading.Thread(target=self._in, name="can-virtual", daemon=True)
        self._thread.start()

    def _out(self, frame: CanFrame, source: object) -> None:
        if source is self:
            return
        msg = self._can.Message(
            arbitration_id=frame.arbitration_id,
            data=frame.data,
            is_extended_id=frame.extended,
            timestamp=frame.timestamp,
        )
        self._vbus.send(msg)

    def _in(self) -> None:
        while not self._stop.is_set():
            msg = self._vbus.recv(timeout=0.05)
            if msg is not None and not msg.is_error_frame:
                frame = CanFrame(msg.arbitration_id, bytes(msg.data), msg.is_extended_id)
                self.bus.send(frame, source=self)

    def stop(self) -> None:
        self._stop.set()
        self.bus.detach(self._out)
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._vbus.shutdown()
