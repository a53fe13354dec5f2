"""How the simulated BMS behaves on its wire: the habits of real units, switchable.

Addressable as `bms.<...>` (`--sim-set bms.uart.sleep_after_s=30`). Protection
behaviour is the firmware's (`firmware.*`); these are the link's. Times here are wall
time: they model a UART or CAN link, which runs in real time even when the lab's
virtual time stands still. Settings for a protocol the station does not serve are
ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FRAME_ORDERS = ("in_order", "reversed", "swapped")


@dataclass
class UartComms:
    # After this long without traffic the unit sleeps, and the request that wakes it
    # gets no reply (clients resend). 0: never sleeps.
    sleep_after_s: float = 0.0
    # A request arriving sooner than this after the previous reply is dropped (a unit
    # polled too fast). 0: no limit.
    min_interval_s: float = 0.0
    # Commands this (older) firmware never answers, comma-separated hex: "0x97,0x98".
    unanswered: str = ""
    # Bytes of 0x00 sent after each reply's last byte (RS485 adapters, line noise).
    trailing_bytes: int = 0
    # Replies written in chunks of this many bytes with a short gap. 0: whole.
    fragment_bytes: int = 0
    # The unit takes this long (wall time) before it answers a request. 0: at once.
    reply_delay_s: float = 0.0

    def unanswered_codes(self) -> set[int]:
        codes = set()
        for item in filter(None, (s.strip() for s in self.unanswered.split(","))):
            codes.add(int(item, 16))
        return codes


@dataclass
class JbdComms:
    # Bytes a newer firmware appends to basic info (0x03), counted in its length.
    extra_bytes: int = 0


@dataclass
class DalyComms:
    # Order of the frames of a multi-frame reply (0x95, 0x96, ...): in_order, reversed,
    # or swapped (each pair of neighbours exchanged).
    frame_order: str = "in_order"
    # The last frame of a multi-frame reply is sent twice.
    repeat_last: bool = False
    # This frame number (1-based) of a multi-frame reply is never sent. 0: none.
    drop_frame: int = 0


@dataclass
class BleComms:
    # Replies go out as notifications of at most this many bytes (and at most the
    # connection's ATT MTU - 3): JK modules send 128-byte pieces, many others 20.
    chunk_bytes: int = 128
    # Every Nth notification is lost on the air (0: none): a reply arrives incomplete.
    drop_every: int = 0
    # Every Nth request is answered with the reply to another request (0: never).
    wrong_reply_every: int = 0


@dataclass
class CanComms:
    # Broadcast period of the inverter frames (0x351 ...), in the lab's time.
    period_s: float = 1.0
    # The BMS stops broadcasting (a lost CAN node).
    silent: bool = False
    # What the BMS asks of the inverter (0x351) while charging/discharging is allowed;
    # a tripped path asks for 0 A.
    charge_voltage_per_cell_v: float = 3.45
    charge_current_a: float = 50.0
    discharge_current_a: float = 100.0
    discharge_voltage_per_cell_v: float = 2.8
    # No inverter keep-alive (0x305) for this long (lab time): the link is lost (0: never).
    keepalive_timeout_s: float = 10.0


@dataclass
class BmsComms:
    # +1: current sign as the protocol documents it; -1: firmware reports it inverted.
    current_sign: int = 1
    uart: UartComms = field(default_factory=UartComms)
    jbd: JbdComms = field(default_factory=JbdComms)
    daly: DalyComms = field(default_factory=DalyComms)
    can: CanComms = field(default_factory=CanComms)
    ble: BleComms = field(default_factory=BleComms)

    def validate(self) -> None:
        if self.current_sign not in (1, -1):
            raise ValueError("bms.current_sign must be 1 or -1")
        u = self.uart
        if u.sleep_after_s < 0 or u.min_interval_s < 0 or u.reply_delay_s < 0:
            raise ValueError("bms.uart times must be >= 0")
        if u.trailing_bytes < 0 or u.fragment_bytes < 0 or self.jbd.extra_bytes < 0:
            raise ValueError("bms byte counts must be >= 0")
        try:
            u.unanswered_codes()
        except ValueError:
            raise ValueError(
                f"bms.uart.unanswered must be comma-separated hex codes, got {u.unanswered!r}"
            ) from None
        if self.daly.frame_order not in FRAME_ORDERS:
            raise ValueError(f"bms.daly.frame_order must be one of {', '.join(FRAME_ORDERS)}")
        if self.daly.drop_frame < 0:
            raise ValueError("bms.daly.drop_frame must be >= 0")
        b = self.ble
        if b.chunk_bytes < 1 or b.drop_every < 0 or b.wrong_reply_every < 0:
            raise ValueError("bms.ble.chunk_bytes must be >= 1, drop/wrong counts >= 0")
        if self.can.period_s <= 0:
            raise ValueError("bms.can.period_s must be > 0")
        if self.can.keepalive_timeout_s < 0:
            raise ValueError("bms.can.keepalive_timeout_s must be >= 0")
