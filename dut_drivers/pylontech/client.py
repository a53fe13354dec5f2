"""A Pylontech-style BMS on a CAN bus (python-can): the rig listens as an inverter would.

The BMS broadcasts; nothing is polled. The link keeps the latest frame of each id with
the time it arrived, on the run's clock (virtual against simlab, wall time on a bench),
and answers a status from those. A status needs every status frame (0x351, 0x355, 0x356,
0x359, 0x35C) to be younger than `silence_s`: a BMS that stopped broadcasting is a
`BmsSilent` error naming the bus, the frames awaited and how long they have been
missing, never an old value passed off as new. Right after opening, the link waits up
to `silence_s` for a first full set.

It sends the inverter's keep-alive (0x305) once per `period_s` while reading, as an
inverter does; some BMSs stop talking without it.

Capabilities are what the frames carry: no cell voltages, no balancing, no cycle count,
no configuration. FET states are the BMS's charge/discharge enable requests (0x35C).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from dut_drivers.base import BmsBase, BmsStatus, DutIdentity, LinkTiming
from dut_drivers.errors import BmsError, BmsSilent
from dut_drivers.pylontech import frames as F
from dut_drivers.registry import PROTOCOLS

WAIT_STEP_S = 0.1  # how finely the link waits for frames


class PylontechCanBms(BmsBase):
    protocol = "pylontech_can"
    CAPABILITIES = PROTOCOLS["pylontech_can"].capabilities

    def __init__(
        self,
        bus: Any,
        name: str,
        clock: Any | None = None,
        period_s: float = 1.0,
        silence_s: float | None = None,
        current_sign: int = 1,
        keepalive: bool = True,
        transcript: Any | None = None,
    ) -> None:
        super().__init__()
        self.bus = bus
        self.name = name  # for messages: "socketcand:can0@127.0.0.1:4000"
        self.clock = clock
        self.period_s = period_s
        self.silence_s = silence_s if silence_s is not None else 3 * period_s
        self.current_sign = current_sign
        self.keepalive = keepalive
        self.transcript = transcript
        self.frames_received = 0
        self.bad_frames: list[str] = []
        self._latest: dict[int, tuple[float, dict[str, Any] | BmsError]] = {}
        # The bus's timestamp of each status broadcast (its first frame, 0x351).
        self._broadcasts: deque[float] = deque(maxlen=1000)
        self._broadcast_count = 0
        self._opened = self._now()
        self._last_keepalive = float("-inf")

    # -- time and frames ---------------------------------------------------------------

    def _now(self) -> float:
        return self.clock.now() if self.clock is not None else time.monotonic()

    def _virtual(self) -> bool:
        return bool(getattr(self.clock, "virtual", False))

    def _record(self, direction: str, ident: int, data: bytes) -> None:
        if self.transcript is not None:
            self.transcript.append(
                {"dir": direction, "id": f"{ident:03X}", "data": data.hex(" "), "t": self._now()}
            )

    def _take(self, msg: Any) -> None:
        if msg.is_error_frame or msg.is_remote_frame or msg.is_extended_id:
            return
        data = bytes(msg.data)
        self._record("rx", msg.arbitration_id, data)
        if msg.arbitration_id not in (*F.STATUS_FRAMES, F.NAME):
            return  # other nodes' traffic, or ids this link does not use
        self.frames_received += 1
        if msg.arbitration_id == F.LIMITS:
            self._broadcasts.append(float(msg.timestamp))
            self._broadcast_count += 1
        try:
            decoded: dict[str, Any] | BmsError = F.decode(msg.arbitration_id, data)
        except BmsError as exc:
            self.bad_frames.append(str(exc))
            decoded = exc
        self._latest[msg.arbitration_id] = (self._now(), decoded)

    def drain(self, wait_s: float = 0.0) -> None:
        """Take every frame that has arrived; wait up to `wait_s` (wall) for the first."""
        msg = self.bus.recv(timeout=wait_s)
        while msg is not None:
            self._take(msg)
            msg = self.bus.recv(timeout=0)

    def _send_keepalive(self) -> None:
        now = self._now()
        if not self.keepalive or now - self._last_keepalive < self.period_s:
            return
        import can

        data = bytes(8)
        self.bus.send(can.Message(arbitration_id=F.KEEPALIVE, data=data, is_extended_id=False))
        self._record("tx", F.KEEPALIVE, data)
        self._last_keepalive = now

    def _missing(self, ids: tuple[int, ...]) -> list[int]:
        now = self._now()
        return [
            i for i in ids if i not in self._latest or now - self._latest[i][0] > self.silence_s
        ]

    def _wait_for(self, ids: tuple[int, ...]) -> None:
        """Until every id in `ids` is fresh, for at most `silence_s` of the clock."""
        self._send_keepalive()
        self.drain()
        start = self._now()
        # Wait only for frames not yet seen since opening; a frame that went stale means
        # the BMS stopped, and that is told now, not after another wait.
        while any(i not in self._latest for i in self._missing(ids)):
            if self._now() - start >= self.silence_s:
                break
            if self._virtual():
                self.clock.sleep(WAIT_STEP_S)  # frames come as simulated time passes
                self.drain(wait_s=0.0)
            else:
                self.drain(wait_s=WAIT_STEP_S)
            self._send_keepalive()
        missing = self._missing(ids)
        if missing and self._virtual():
            self.drain(wait_s=0.2)  # frames of the last step still on the wire
            missing = self._missing(ids)
        if missing:
            now = self._now()
            ages = [
                f"{F.frame_name(i)} "
                + (
                    f"last {now - self._latest[i][0]:.2f} s ago"
                    if i in self._latest
                    else "never received"
                )
                for i in missing
            ]
            raise BmsSilent(
                f"{self.name}: BMS silent: no fresh frame within {self.silence_s:g} s: "
                + "; ".join(ages)
            )

    def _signals(self, ident: int) -> dict[str, Any]:
        decoded = self._latest[ident][1]
        if isinstance(decoded, BmsError):
            raise decoded
        return decoded

    # -- the interface -----------------------------------------------------------------

    def read_status(self) -> BmsStatus:
        self._wait_for(F.STATUS_FRAMES)
        limits = self._signals(F.LIMITS)
        soc = self._signals(F.SOC_SOH)
        meas = self._signals(F.MEASUREMENTS)
        alarms = self._signals(F.ALARMS)
        request = self._signals(F.REQUEST)
        return BmsStatus(
            pack_voltage=round(meas["PackVoltage"], 3),
            current=round(meas["PackCurrent"] * self.current_sign, 3),
            remaining_capacity_ah=None,
            full_capacity_ah=None,
            cycles=None,
            soc_percent=float(soc["StateOfCharge"]),
            charge_fet=bool(request["ChargeEnable"]),
            discharge_fet=bool(request["DischargeEnable"]),
            protections=F.protections(alarms),
            balancing=None,
            cell_count=None,
            temperatures_c=(round(meas["Temperature"], 2),),
            alarms=F.warnings(alarms),
            limits=F.limits(limits),
            soh_percent=float(soc["StateOfHealth"]),
        )

    def read_temperatures(self) -> list[float]:
        return list(self.read_status().temperatures_c)

    def identity(self) -> DutIdentity:
        self._wait_for((*F.STATUS_FRAMES, F.NAME))
        name = self._signals(F.NAME)["Name"]
        modules = int(self._signals(F.ALARMS)["ModuleCount"])
        return DutIdentity(
            protocol=self.protocol,
            hardware="",
            firmware="",
            model=f"{name} ({modules} module{'s' if modules != 1 else ''})",
            manufacturer=name,
            not_reported=("hardware", "firmware", "serial", "production_date", "cell_count"),
        )

    def hold_keepalive(self, held: bool) -> None:
        """Withhold the inverter's keep-alive (True) or send it again (False): how a
        plan shows the BMS a lost inverter link while it still listens."""
        self.keepalive = not held
        if not held:
            self._last_keepalive = float("-inf")

    def link_timing(self) -> LinkTiming:
        """The timestamps of the status broadcasts received so far (the latest ones)."""
        self.drain()
        return LinkTiming("broadcast", self._broadcast_count, broadcasts=tuple(self._broadcasts))

    def close(self) -> None:
        self.bus.shutdown()


def open_link(info: Any, options: Any) -> PylontechCanBms:
    """Registry entry point: open the python-can bus the station names."""
    import can

    if not options.can_interface:
        raise ValueError("the pylontech_can protocol needs dut.can.interface")
    kwargs = dict(options.can_options)
    bus = can.Bus(
        interface=options.can_interface,
        channel=options.can_channel,
        bitrate=options.can_bitrate,
        **kwargs,
    )
    where = f"{options.can_interface}:{options.can_channel}"
    if "host" in kwargs:
        where += f"@{kwargs['host']}:{kwargs.get('port')}"
    return PylontechCanBms(
        bus,
        where,
        clock=options.clock,
        silence_s=options.silence_s,
        current_sign=options.current_sign,
        transcript=options.transcript,
    )
