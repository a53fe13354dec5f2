"""The control channel over TCP: every op, and errors that say what went wrong."""

from __future__ import annotations

import json
import socket

import pytest

from simlab.servers.control import ControlServer
from tests.simlab.simworld import make_rig


class Client:
    def __init__(self, address: str):
        host, _, port = address.rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.file = self.sock.makefile("rwb")

    def raw(self, line: bytes) -> dict:
        self.file.write(line + b"\n")
        self.file.flush()
        return json.loads(self.file.readline())

    def __call__(self, op: str, **kw) -> dict:
        return self.raw(json.dumps({"op": op, **kw}).encode())

    def close(self):
        self.file.close()
        self.sock.close()


@pytest.fixture
def ctl():
    rig = make_rig()
    server = ControlServer(rig.world)
    server.start()
    client = Client(server.address)
    yield rig, client
    client.close()
    server.stop()


def test_ping_time_advance(ctl):
    _, c = ctl
    assert c("ping") == {"ok": True, "pong": True}
    assert c("time") == {"ok": True, "t": 0.0}
    assert c("advance", dt=0.3) == {"ok": True, "t": 0.3}
    assert c("advance", dt=0) == {"ok": True, "t": 0.3}
    assert c("time")["t"] == 0.3


@pytest.mark.parametrize("dt", [-1, "1", None, True, float("inf")])
def test_advance_rejects_bad_dt(ctl, dt):
    _, c = ctl
    reply = c("advance", dt=dt) if dt != float("inf") else c.raw(b'{"op":"advance","dt":1e999}')
    assert reply["ok"] is False and "dt" in reply["error"]
    assert c("time")["t"] == 0.0


def test_set_get_and_errors(ctl):
    _, c = ctl
    assert c("set", path="firmware.cell_ov.delay_s", value=1.3) == {"ok": True, "old": 2.0}
    assert c("get", path="firmware.cell_ov.delay_s") == {"ok": True, "value": 1.3}
    bad = c("set", path="firmware.cell_ov.delay", value=1)
    assert not bad["ok"] and "unknown parameter" in bad["error"]
    assert "firmware.cell_ov.delay_s" in bad["error"]
    bad = c("set", path="firmware.cell_ov.delay_s", value="slow")
    assert not bad["ok"] and "expects a number" in bad["error"]
    bad = c("set", path="firmware.cell_ov.delay_s")
    assert bad == {"ok": False, "error": "'set' needs 'value'"}
    assert "physics.r_path_ohm" in c("params")["params"]


def test_defect_ops(ctl):
    _, c = ctl
    info = c("defects")
    assert info["ok"] and "slow_ov_delay" in info["available"] and info["active"] == []
    assert c("defect", spec="slow_ov_delay:factor=3") == {
        "ok": True,
        "active": "slow_ov_delay:factor=3.0",
    }
    assert c("defects")["active"] == ["slow_ov_delay:factor=3.0"]
    bad = c("defect", spec="nope")
    assert not bad["ok"] and "unknown defect 'nope'" in bad["error"]
    assert c("clear_defects") == {"ok": True}
    assert c("defects")["active"] == []


def test_truth_and_events(ctl):
    rig, c = ctl
    rig.set_cell(9, 3.7)
    c("advance", dt=2.5)
    truth = c("truth")
    assert truth["ok"] and truth["t"] == 2.5
    assert truth["firmware"]["cell_ov"]["threshold_v"] == 3.65
    assert truth["firmware"]["scan_period_s"] == 0.1
    st = truth["state"]
    assert st["charge_fet"] is False and st["discharge_fet"] is True
    assert st["protections"] == ["cell_ov"]
    assert st["cells_v"][8] == 3.7 and st["readings_v"][8] == 3.7
    assert st["pack_v"] == pytest.approx(15 * 3.3 + 3.7)
    assert set(st) >= {"current_a", "soc"}
    ev = c("events", since=0)
    assert ev["next"] == 1 and ev["events"][0]["kind"] == "trip"
    assert ev["events"][0]["t"] == 2.0 and ev["events"][0]["cell"] == 9
    assert c("events", since=1) == {"ok": True, "events": [], "next": 1}
    assert not c("events", since="x")["ok"]


def test_malformed_requests(ctl):
    _, c = ctl
    assert "not JSON" in c.raw(b"advance 1")["error"]
    assert '"op"' in c.raw(b"[1, 2]")["error"]
    bad = c("warp")
    assert not bad["ok"] and "unknown op 'warp'" in bad["error"] and "advance" in bad["error"]
    assert c("ping")["ok"]  # the connection survives errors


def test_many_requests_are_fast(ctl):
    import time

    _, c = ctl
    t0 = time.perf_counter()
    for _ in range(200):
        c("advance", dt=0.05)
    # no delayed-ACK stall per request (40 ms each: 8 s for 200); a loaded machine's
    # scheduling costs milliseconds, not tens of them
    assert time.perf_counter() - t0 < 200 * 0.02
    assert c("time")["t"] == pytest.approx(10.0)
