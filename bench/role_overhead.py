"""The cost of the layers, measured in one run on one socket.

Against simlab (a separate process, so the server does not share our interpreter), one
N6705C connection is driven three ways, interleaved: raw pyvisa on the driver's own VISA
session sending the bytes a checked set sends (`VOLT ...` then `SYST:ERR?`), the PyMeasure
driver, and the station role (limit check + wiring lookup + driver) over that same
driver. The same for a measurement (`MEAS:VOLT? (@1)`). Prints time per call and the
ratios between layers; the role should stay under 1.15x the driver.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from instruments.registry import open_instrument  # noqa: E402
from rig.config import load_station  # noqa: E402
from rig.simlink import SimlabProcess  # noqa: E402
from rig.station.roles import CellChannel, Cells  # noqa: E402

N = 150  # calls per block
ROUNDS = 31  # each round times one block per layer back to back, in rotating order


def per_call(fns: list[Callable[[int], object]]) -> tuple[list[float], list[float]]:
    """Median time per call of each layer, and the median over rounds of each layer's time
    relative to the first's: a shared machine's load drifts, and a ratio of blocks timed
    back to back sees the same load on both sides."""
    for fn in fns:
        for i in range(50):  # warm up
            fn(i)
    times: list[list[float]] = [[] for _ in fns]
    ratios: list[list[float]] = [[] for _ in fns]
    for r in range(ROUNDS):
        this = [0.0] * len(fns)
        for k in [(r + j) % len(fns) for j in range(len(fns))]:
            t0 = time.perf_counter()
            for i in range(N):
                fns[k](i)
            this[k] = (time.perf_counter() - t0) / N
        for k in range(len(fns)):
            times[k].append(this[k])
            ratios[k].append(this[k] / this[0])
    return [statistics.median(t) for t in times], [statistics.median(q) for q in ratios]


def report(what: str, times: list[float], ratios: list[float]) -> None:
    t_raw, t_driver, t_role = times
    _, driver_raw, role_raw = ratios
    print(f"{what}: {ROUNDS} rounds of {N} calls per layer, one socket (medians)")
    print(f"  raw pyvisa         {t_raw * 1e6:8.1f} us/call")
    print(f"  driver (PyMeasure) {t_driver * 1e6:8.1f} us/call   driver/raw  {driver_raw:5.2f}")
    print(f"  station role       {t_role * 1e6:8.1f} us/call   role/raw    {role_raw:5.2f}")
    print(f"                                          role/driver {role_raw / driver_raw:5.2f}")


def main() -> int:
    station_file = REPO / "stations" / "sim-16s.yaml"
    config = load_station(station_file)
    with tempfile.TemporaryDirectory() as tmp:
        lab = SimlabProcess(station=station_file, log=Path(tmp) / "simlab.log")
        endpoints = lab.start()
        try:
            resource = endpoints["instruments"]["cellsim_a"]
            driver = open_instrument("Keysight N6705C", resource, "cellsim_a")
            raw = driver.adapter.connection  # the driver's own pyvisa session and socket
            cells = Cells(
                {1: CellChannel("cellsim_a", driver, 1)}, config.limits, config.safe_state
            )

            def volts(i: int) -> float:
                return 3.3 + (i % 10) * 1e-3

            def raw_set(i: int) -> None:
                raw.write(f"VOLT {volts(i):g},(@1)")
                if not raw.query("SYST:ERR?").startswith("+0"):
                    raise RuntimeError("instrument error")

            sets = per_call(
                [
                    raw_set,
                    lambda i: driver.set_voltage(1, volts(i)),
                    lambda i: cells.set_voltage(1, volts(i)),
                ]
            )
            reads = per_call(
                [
                    lambda i: float(raw.query("MEAS:VOLT? (@1)")),
                    lambda i: driver.measure_voltage(1),
                    lambda i: cells.measure_voltage(1),
                ]
            )
            driver.close()
        finally:
            lab.stop()
    report("checked cell-voltage set", *sets)
    report("cell-voltage measurement", *reads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
