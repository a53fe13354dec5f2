"""The cost of the layers, measured in one run on one socket each.

Sets a cell-emulator voltage N times three ways against simlab (a separate process, so
the server does not share our interpreter): raw pyvisa sending the same bytes a checked
set sends (`VOLT ...` then `SYST:ERR?`), the PyMeasure driver, and the station role (limit
check + wiring lookup + driver). Prints time per call and the ratios between layers.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyvisa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from instruments.registry import open_instrument  # noqa: E402
from rig.config import load_station  # noqa: E402
from rig.safety import SafetyManager  # noqa: E402
from rig.simlink import SimlabProcess  # noqa: E402
from rig.station import Station  # noqa: E402

N = 400  # calls per round
ROUNDS = 7  # interleaved, so drift in machine load hits every layer alike; median taken


def per_call(fns: list[Callable[[int], None]]) -> list[float]:
    for fn in fns:
        for i in range(50):  # warm up
            fn(i)
    rounds: list[list[float]] = [[] for _ in fns]
    for _ in range(ROUNDS):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            for i in range(N):
                fn(i)
            rounds[k].append((time.perf_counter() - t0) / N)
    return [statistics.median(r) for r in rounds]


def main() -> int:
    station_file = REPO / "stations" / "sim-16s.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        lab = SimlabProcess(station=station_file, log=Path(tmp) / "simlab.log")
        endpoints = lab.start()
        try:
            resource = endpoints["instruments"]["cellsim_a"]
            rm = pyvisa.ResourceManager("@py")
            raw = rm.open_resource(resource, read_termination="\n", write_termination="\n")

            def raw_set(i: int) -> None:
                raw.write(f"VOLT {3.3 + (i % 10) * 1e-3:g},(@1)")
                if not raw.query("SYST:ERR?").startswith("+0"):
                    raise RuntimeError("instrument error")

            driver = open_instrument("Keysight N6705C", resource, "cellsim_a")
            station = Station.open(load_station(station_file), SafetyManager(), endpoints)
            t_raw, t_driver, t_role = per_call(
                [
                    raw_set,
                    lambda i: driver.set_voltage(1, 3.3 + (i % 10) * 1e-3),
                    lambda i: station.cells.set_voltage(1, 3.3 + (i % 10) * 1e-3),
                ]
            )
            raw.close()
            driver.close()
            station.close()
        finally:
            lab.stop()
    print(f"checked cell-voltage set: median of {ROUNDS} interleaved rounds of {N} calls")
    print(f"raw pyvisa        {t_raw * 1e6:8.1f} us/call")
    print(f"driver (PyMeasure){t_driver * 1e6:8.1f} us/call   driver/raw  {t_driver / t_raw:5.2f}")
    print(f"station role      {t_role * 1e6:8.1f} us/call   role/driver {t_role / t_driver:5.2f}")
    print(f"                                      role/raw    {t_role / t_raw:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
