"""Bring the DUT back to ready: the transition every plan starts from and ends with.

Ready means the BMS answers, both FETs are on and no protection is active, with the
station in its safe state (cells at nominal, charger and load off). The spec's recovery
procedure gets there: make the station safe and wait for the BMS to release; if it does
not within the spec's timeout and the spec allows it, power-cycle the board through
whatever carries its supply (the cell emulators or a battery simulator it runs from, or
on a real module the relay in its supply feed, `wiring.dut_supply`) and wait for it to
boot: the safe state gives the supply back. Where nothing can be power-cycled (a bench
on a real module without that relay, which powers the board itself, or a spec without
`power_cycle`), the wait lasts as long as any stated protection may take to release by
its own rule: only a protection that never releases leaves the board tripped. Each plan
runs this before it starts, so a protection that never released fails its own plan and
not every plan after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dut_drivers.base import BmsLink
from dut_drivers.errors import BmsError
from rig.clock import Clock
from rig.config.spec import DutSpec
from rig.measure import wait_for
from rig.station import Station


class DutUnreachable(Exception):
    """The BMS could not be read at all while the rig tried to bring it back to ready: its
    link is lost (a broken plan, an error), not a BMS proven unrecoverable (a failure)."""


class DutNotReady(Exception):
    """The DUT could not be brought to ready by the spec's recovery procedure."""


@dataclass(frozen=True)
class RecoveryResult:
    ready: bool
    method: str  # "ready" | "release" | "power_cycle" | "failed"
    waited_s: float
    status: str  # the last thing the BMS said, for the record and the error message

    def record(self) -> dict[str, object]:
        return {
            "ready": self.ready,
            "method": self.method,
            "waited_s": round(self.waited_s, 6),
            "status": self.status,
        }


NO_REPLY = "no valid reply"  # the status of a BMS that could not be read at all


def dut_state(dut: BmsLink) -> tuple[bool, str]:
    """(ready?, a one-line description of what the BMS reports)."""
    try:
        s = dut.read_status()
    except BmsError as exc:
        return False, f"{NO_REPLY} ({type(exc).__name__}: {exc})"
    active = sorted(s.protections or ())  # None: the protocol does not say; FETs decide
    ready = s.charge_fet and s.discharge_fet and not active
    text = (
        f"charge FET {'on' if s.charge_fet else 'off'}, "
        f"discharge FET {'on' if s.discharge_fet else 'off'}, "
        f"protections {', '.join(active) or 'none'}"
    )
    return ready, text


def recover(
    station: Station,
    dut: BmsLink,
    clock: Clock,
    spec: DutSpec,
    make_safe: Callable[[], object],
) -> RecoveryResult:
    """Run the spec's recovery procedure; never raises for a DUT that stays tripped."""
    rec = spec.recovery
    t0 = clock.now()
    make_safe()
    clock.sleep(spec.test_conditions.settle_s)  # let the BMS scan the nominal voltages
    last = [""]
    silent = [0]  # polls in a row without a valid reply

    def ready() -> bool:
        ok, last[0] = dut_state(dut)
        silent[0] = silent[0] + 1 if last[0].startswith(NO_REPLY) else 0
        if silent[0] >= SILENT_POLLS:
            raise _LinkSilent  # each such poll costs a full link timeout: stop waiting
        return ok

    def wait(timeout_s: float) -> float | None:
        silent[0] = 0
        try:
            return wait_for(clock, ready, timeout_s, rec.poll_s)
        except _LinkSilent:
            return None

    cycles = rec.power_cycle and station.can_power_off_dut  # a bare module cannot be
    waited = wait(rec.release_timeout_s if cycles else own_release_s(spec))
    if waited is not None:
        method = "ready" if waited == 0 else "release"
        return RecoveryResult(True, method, clock.now() - t0, last[0])
    if cycles and station.power_off_dut():
        clock.sleep(rec.power_off_s)
        make_safe()  # cells back on at nominal, the supply relay open: the board boots
        # give it the settle time before the first question: a board still booting does
        # not answer, and each unanswered question costs the link's whole (wall) timeout
        clock.sleep(spec.test_conditions.settle_s)
        if wait(rec.boot_timeout_s) is not None:
            return RecoveryResult(True, "power_cycle", clock.now() - t0, last[0])
    return RecoveryResult(False, "failed", clock.now() - t0, last[0])


def own_release_s(spec: DutSpec) -> float:
    """The spec's release timeout, or longer: the longest release delay a stated protection
    that does not latch may take (its band's high end), and a settle time for the scan."""
    delays = [
        p.release_delay_s.high
        for name in type(spec.protections).model_fields
        if (p := getattr(spec.protections, name)) is not None
        and not getattr(p, "latching", False)
        and getattr(p, "release_delay_s", None) is not None
    ]
    longest = max(delays, default=0.0) + spec.test_conditions.settle_s
    return max(spec.recovery.release_timeout_s, longest)


# A BMS that gives no valid reply this many polls in a row is not about to be ready (a
# booting board answers within a few): the wait ends rather than spend a link timeout on
# every remaining poll.
SILENT_POLLS = 8


class _LinkSilent(Exception):
    pass
