"""The cost of a BMS status poll per protocol, and how soon a silent CAN BMS is noticed.

For each shipped simulated station, starts simlab as its own process (as a run does),
opens the DUT through the station file and the protocol registry, and times
`read_status()` (each UART poll is several request/reply exchanges on the pty; a CAN
poll drains the socketcand socket) and a JBD configuration read. Then silences the CAN
BMS and polls every 0.1 s of virtual time until the link reports it lost, printing how
long after its last broadcast that was. Prints rates and ratios measured in this run;
asserts nothing.
"""

from __future__ import annotations

import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dut_drivers.errors import BmsSilent  # noqa: E402
from rig.clock import VirtualClock  # noqa: E402
from rig.config import load_station  # noqa: E402
from rig.simlink import SimControl, SimlabProcess  # noqa: E402
from rig.station.station import open_dut  # noqa: E402

STATIONS = {
    "jbd": "stations/sim-16s.yaml",
    "daly": "stations/sim-16s-daly.yaml",
    "pylontech_can": "stations/sim-16s-pylon-can.yaml",
}
POLLS = 300
ROUNDS = 5


def cells_on(endpoints: dict) -> None:
    """The BMS is powered from its cells: switch the emulators on at 3.3 V (raw SCPI)."""
    for name, resource in endpoints["instruments"].items():
        if not name.startswith("cellsim"):
            continue
        host, port = resource.split("::")[1:3]
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"VOLT 3.3,(@1:4);:OUTP ON,(@1:4);*OPC?\n")
            sock.recv(64)


def per_call(fn, n: int) -> float:
    times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n)
    return statistics.median(times)


def main() -> int:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for protocol, station in STATIONS.items():
            path = REPO / station
            lab = SimlabProcess(station=path, log=Path(tmp) / f"{protocol}.log")
            endpoints = lab.start()
            control = SimControl(endpoints["control"])
            cells_on(endpoints)
            clock = VirtualClock(control)
            link = open_dut(load_station(path), endpoints, clock=clock)
            try:
                link.read_status()  # first frames / wake-up out of the timing
                results[protocol] = per_call(link.read_status, POLLS)
                if protocol == "jbd":
                    cfg = per_call(link.read_protection_config, 10)  # type: ignore[attr-defined]
                    print(f"jbd: full EEPROM configuration read {cfg * 1e3:.1f} ms")
                if protocol == "pylontech_can":
                    clock.sleep(0.45)
                    last = int(clock.now())  # broadcasts fall on whole seconds
                    control.set("bms.can.silent", True)
                    try:
                        while True:
                            clock.sleep(0.1)
                            link.read_status()
                    except BmsSilent:
                        late = clock.now() - last
                        print(
                            f"pylontech_can: silent BMS reported {late:.2f} s (virtual) after "
                            f"its last broadcast; stated limit silence_s "
                            f"{link.silence_s:g} s + one poll"  # type: ignore[attr-defined]
                        )
            finally:
                link.close()
                control.close()
                lab.stop()
    base = results["jbd"]
    for protocol, seconds in results.items():
        print(
            f"{protocol:14s} read_status {seconds * 1e3:7.3f} ms  {1 / seconds:8.0f} polls/s"
            f"  ({seconds / base:4.2f} x jbd)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
