"""Queries per second of simlab's SCPI server against a minimal echo server, one run.

Both servers run as separate processes on loopback; the same client (pyvisa-py, one
socket, TCP_NODELAY as the drivers set it) sends the same query lines to each,
interleaved. The echo server reads a line and, for a query, answers a constant: the
floor any server on this transport costs. simlab's server parses the line, dispatches it
through the model's command table under the lab lock and formats the reply; a
measurement first solves the bench's circuit if anything changed since its last solve
(here nothing does, as between a plan's repeated polls). Prints queries per second and
the ratio simlab/echo (target: at least 0.6); the figures are noisy on a shared 2-core
machine, so take the median of several runs.

Placement: by default the client and both servers are pinned to one CPU, so both servers
are measured under the same conditions. Left to the kernel (`--free`), the two servers
do not land alike: on a 2-core machine the echo server tends to share the client's CPU
and simlab's serving thread the other one, and a cross-CPU wake-up per query then costs
more than everything simlab's server does (the echo server forced onto the other CPU
drops from about 57k to 13k queries/s, what simlab shows there). simlab delays its ACKs
as real instruments do (its default), so a connection can settle in one of two ACK
rhythms for its life; the spread of the rounds shows it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyvisa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rig.simlink import SimlabProcess  # noqa: E402

N = 300  # queries per block
ROUNDS = 31  # paired blocks; each round's ratio compares two back-to-back blocks
QUERIES = ("*OPC?", "VOLT? (@1)", "MEAS:VOLT? (@1)")

ECHO_SERVER = r"""
import json, socket, sys, threading
listener = socket.create_server(("127.0.0.1", 0))
print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
def serve(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffer = b""
    with conn:
        while chunk := conn.recv(65536):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.rstrip(b"\r").endswith(b"?") or b"? " in line:
                    conn.sendall(b"+1.00000000E+00\n")
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"""


def open_client(rm: pyvisa.ResourceManager, resource: str):
    inst = rm.open_resource(resource, read_termination="\n", write_termination="\n")
    inst.timeout = 5000
    session = inst.visalib.sessions[inst.session]
    session.interface.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return inst


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def paired(echo: Callable[[], object], sim: Callable[[], object]) -> tuple[float, float, float]:
    """(median simlab/echo ratio over rounds, best echo rate, best simlab rate)."""
    for fn in (echo, sim):
        for _ in range(200):
            fn()

    def block(fn: Callable[[], object]) -> float:
        t0 = time.perf_counter()
        for _ in range(N):
            fn()
        return N / (time.perf_counter() - t0)

    ratios, echo_rates, sim_rates = [], [], []
    for k in range(ROUNDS):
        if k % 2:
            r_sim, r_echo = block(sim), block(echo)
        else:
            r_echo, r_sim = block(echo), block(sim)
        ratios.append(r_sim / r_echo)
        echo_rates.append(r_echo)
        sim_rates.append(r_sim)
    return statistics.median(ratios), max(echo_rates), max(sim_rates)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--free", action="store_true", help="leave process placement to the kernel")
    args = ap.parse_args()
    if args.free or not hasattr(os, "sched_setaffinity"):
        print("placement: left to the kernel")
    else:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})  # the servers started below inherit it
        print(f"placement: the client and both servers on CPU {cpu} (--free: the kernel's)")
    echo = subprocess.Popen([sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE, text=True)
    rm = pyvisa.ResourceManager("@py")
    with tempfile.TemporaryDirectory() as tmp:
        lab = SimlabProcess(station=REPO / "stations" / "sim-16s.yaml", log=Path(tmp) / "log")
        endpoints = lab.start()
        try:
            assert echo.stdout is not None
            port = json.loads(echo.stdout.readline())["port"]
            echo_client = open_client(rm, f"TCPIP::127.0.0.1::{port}::SOCKET")
            sim_client = open_client(rm, endpoints["instruments"]["cellsim_a"])
            pids = {"echo": echo.pid, "simlab": int(endpoints["pid"])}
            print(f"queries per second: {ROUNDS} paired rounds of {N} queries per server")
            for query in QUERIES:
                before = {k: cpu_s(pid) for k, pid in pids.items()}
                ratio, q_echo, q_sim = paired(
                    lambda q=query: echo_client.query(q), lambda q=query: sim_client.query(q)
                )
                per_query = {
                    k: (cpu_s(pid) - before[k]) / (ROUNDS * N + 200) * 1e6
                    for k, pid in pids.items()
                }
                print(
                    f"  {query:18} best: echo {q_echo:7.0f}/s  simlab {q_sim:7.0f}/s   "
                    f"simlab/echo (median of rounds) {ratio:4.2f}   server CPU per query: "
                    f"echo {per_query['echo']:5.1f} us, simlab {per_query['simlab']:5.1f} us"
                )
            echo_client.close()
            sim_client.close()
        finally:
            lab.stop()
            echo.terminate()
            echo.wait(5)
            rm.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
