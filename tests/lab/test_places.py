"""Shared stations through labgrid's coordinator, end to end: a real coordinator on
loopback, two simulated stations registered as places, `rig run --place` contending for
one of them, a run killed mid-plan, every run landing in one PostgreSQL database.

The story, in one module-scoped scenario (each `rig run` is a process with its own
simlab, as on a CI farm): A holds bench-a and stays in its plan until the test lets it
go (a FIFO: nothing sleeps); B runs on bench-b meanwhile; C asks for bench-a and waits;
A ends, C acquires bench-a and stays in its plan; D asks for bench-a and waits; C is
killed with SIGKILL, so its place stays acquired by a dead client, which D reports;
the owner releases it; D runs. D's end-of-run upload takes up C, which never uploaded.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from rig.lab.local import LocalCoordinator
from rig.lab.places import Holding, PlaceClient, PlaceError, PlaceUsageError, Wanted
from rig.lab.schema import Run
from rig.results import read_records
from tests.e2e.conftest import write_plans
from tests.lab.conftest import Console, cli, first_of

GATED_PLAN = '''
    """A plan that stays on its bench until the test opens its gate (RIG_TEST_GATE)."""
    import os
    import select

    from rig.measure import rectangular

    B = [rectangular("test value", 0.01, "the test's own stated accuracy")]


    def test_on_the_bench(station, record):
        """Measures once the gate opens.

        It waits in `select` with a timeout, not in a bare `readline`: a signal that
        lands after Python's last check and before the read begins is only handled when
        the read returns (CPython runs handlers between bytecodes), and a bare read of a
        FIFO returns only when the test closes it. The rig's own waits are reads with a
        timeout, so a signal there waits at most that long.
        """
        gate = os.environ.get("RIG_TEST_GATE")
        if gate:
            with open(gate) as fifo:  # opens once the test opens it to write
                while not select.select([fifo], [], [], 0.2)[0]:
                    pass  # until the test writes or closes its end
                fifo.readline()
        record("bench_voltage", 1.0, "V", low=0.0, high=2.0, budget=B)
'''


@dataclass
class Scenario:
    out: dict[str, str]
    codes: dict[str, int]
    pids: dict[str, int]
    places: Any
    reservations: dict[str, tuple[str, str]]
    db_url: str
    runs: Any


@pytest.fixture(scope="module")
def scenario(postgres, coordinator: LocalCoordinator, tmp_path_factory) -> Scenario:
    tmp = tmp_path_factory.mktemp("places")
    plans = write_plans(tmp / "plans", test_gated=GATED_PLAN)
    runs = tmp / "runs"
    db_url = postgres.create_database("places")
    admin = PlaceClient(coordinator.address)
    admin.add_place("bench-a", {"kind": "sim16s"}, comment="simulated 16S station A")
    admin.add_place("bench-b", {"kind": "sim16s"}, comment="simulated 16S station B")
    gates = {}
    for name in ("a", "c", "d"):
        gates[name] = tmp / f"gate-{name}"
        os.mkfifo(gates[name])

    def start(place: str, gate: str | None = None, **env: str) -> Console:
        args = ["run", "--runs-dir", str(runs), "--no-report", "--plans", str(plans)]
        args += ["--place", place, "--coordinator", coordinator.address, "--db", db_url]
        return Console(*args, env={"RIG_TEST_GATE": str(gates[gate]) if gate else "", **env})

    a = start("bench-a", gate="a")
    a.wait_for(r"place bench-a acquired")
    b = start("kind=sim16s")  # a tag filter: the free one of the two, bench-b
    waiting = {"c": start("bench-a", gate="c"), "d": start("bench-a", gate="d")}
    e = start("bench-a")  # stopped while it waits: it leaves nothing behind
    held_by_a = [w.wait_for(r"waiting for bench-a: bench-a held by") for w in waiting.values()]
    e.wait_for(r"waiting for bench-a: bench-a held by")
    e.proc.send_signal(signal.SIGTERM)
    codes = {"e": e.finish(), "b": b.finish()}  # B, on bench-b, ran while A held bench-a
    a_in_plan = os.open(gates["a"], os.O_WRONLY)  # returns once A's plan has opened its gate
    a.proc.send_signal(signal.SIGTERM)  # a CI runner's SIGTERM, mid-plan
    codes["a"] = a.finish()
    os.close(a_in_plan)
    # labgrid hands bench-a to the older of the two reservations: call that run C
    got = first_of(waiting, r"place bench-a acquired after waiting")
    c, d = waiting[got], waiting["d" if got == "c" else "c"]
    c_gate, d_gate = gates[got], gates["d" if got == "c" else "c"]
    held_by_c = d.wait_for(rf"bench-a held by .*\(process {c.proc.pid}\)")
    in_plan = os.open(c_gate, os.O_WRONLY)  # returns once C's plan has opened its gate
    os.kill(c.proc.pid, signal.SIGKILL)  # mid-plan
    codes["c"] = c.finish()
    os.close(in_plan)
    dead = d.wait_for(r"a dead client holds it")
    released = cli("place", "release", "bench-a", "--coordinator", coordinator.address)
    d.wait_for(r"place bench-a acquired after waiting")
    with d_gate.open("w") as gate:  # D measures and ends
        gate.write("go\n")
    codes["d"] = d.finish()
    places = admin.places()
    reservations = admin.reservations()
    admin.close()
    return Scenario(
        out={
            "a": a.text,
            "b": b.text,
            "e": e.text,
            "c": c.text,
            "d": d.text,
            "held_by_a": "".join(held_by_a),
            "held_by_c": held_by_c,
            "dead": dead,
            "released": released[1],
        },
        codes={**codes, "release": released[0]},
        pids={"a": a.proc.pid, "b": b.proc.pid, "c": c.proc.pid, "d": d.proc.pid, "e": e.proc.pid},
        places=places,
        reservations=reservations,
        db_url=db_url,
        runs=runs,
    )


def stored_runs(scenario: Scenario) -> dict[str, Any]:
    engine = create_engine(scenario.db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = conn.execute(select(Run)).mappings().all()
    engine.dispose()
    return {r["run_id"]: dict(r) for r in rows}


def run_of(scenario: Scenario, key: str) -> list[dict[str, Any]]:
    """The store of run `key` (a, b, c, d): its run ID ends in its process ID."""
    (run_dir,) = scenario.runs.glob(f"*-{scenario.pids[key] % 100000:05d}")
    return read_records(run_dir)


def test_a_second_run_waits_for_the_held_place_then_runs(scenario):
    assert f"(process {scenario.pids['a']})" in scenario.out["held_by_a"]
    a, c = run_of(scenario, "a"), run_of(scenario, "c")
    a_end = next(r for r in a if r["type"] == "run_end")["ended"]
    c_start = next(r for r in c if r["type"] == "run_start")["started"]
    assert c_start > a_end  # C opened the station only once A had given bench-a back
    (c_place,) = [r for r in c if r["type"] == "place"]
    assert c_place["place"] == "bench-a" and c_place["waited_s"] > 0
    assert c_place["holder"].split("/")[0].endswith(f":{scenario.pids['c']}")


def test_a_signal_mid_plan_releases_the_place(scenario):
    assert scenario.codes["a"] == 143, scenario.out["a"][-3000:]
    assert "Overall verdict: INTERRUPTED" in scenario.out["a"]
    assert "place bench-a released" in scenario.out["a"]


def test_a_signal_while_waiting_leaves_nothing(scenario):
    assert scenario.codes["e"] == 143, scenario.out["e"]
    assert "interrupted (SIGTERM) while waiting for a place: nothing ran" in scenario.out["e"]
    assert not list(scenario.runs.glob(f"*-{scenario.pids['e'] % 100000:05d}"))
    assert scenario.reservations == {}  # every reservation cancelled, the dead run's too


def test_another_station_runs_at_the_same_time(scenario):
    assert scenario.codes["b"] == 0, scenario.out["b"][-3000:]
    a, b = run_of(scenario, "a"), run_of(scenario, "b")
    ports = [
        {
            r["endpoints"]["control"],
            r["endpoints"]["dut"]["port"],  # the BMS's pty
            *r["endpoints"]["instruments"].values(),
        }
        for run in (a, b)
        for r in run
        if r["type"] == "simlab"
    ]
    assert not ports[0] & ports[1]  # each its own simlab: no endpoint shared
    b_span = [next(r for r in b if r["type"] == t)["at"] for t in ("run_start", "run_end")]
    a_end = next(r for r in a if r["type"] == "run_end")["at"]
    assert b_span[1] < a_end  # B began and ended while A still held bench-a
    assert {r["place"] for r in b if r["type"] == "place"} == {"bench-b"}


def test_a_killed_run_leaves_its_place_to_a_dead_client_which_its_owner_releases(scenario):
    assert scenario.codes["c"] == -signal.SIGKILL
    assert f"(process {scenario.pids['c']})" in scenario.out["held_by_c"]
    assert f"(process {scenario.pids['c']}) since" in scenario.out["dead"]
    assert "that process is gone, a dead client holds it" in scenario.out["dead"]
    assert scenario.codes["release"] == 0, scenario.out["released"]
    assert "bench-a released (it was held by" in scenario.out["released"]
    assert scenario.codes["d"] == 0, scenario.out["d"][-3000:]
    assert "place bench-a acquired after waiting" in scenario.out["d"]
    assert all(p.holder is None for p in scenario.places.values())  # all given back


def test_every_run_lands_in_one_postgresql_database(scenario):
    stored = stored_runs(scenario)
    ids = {
        k: next(r for r in run_of(scenario, k) if r["type"] == "run_start")["run_id"]
        for k in "abcd"
    }
    assert set(stored) == set(ids.values())
    assert {k: stored[ids[k]]["verdict"] for k in "abcd"} == {
        "a": "INTERRUPTED",
        "b": "PASS",
        "c": "INCOMPLETE",  # killed: uploaded by D's end-of-run upload, as the store left it
        "d": "PASS",
    }
    assert not stored[ids["c"]]["complete"]
    assert [p["place"] for p in stored[ids["c"]]["places"]] == ["bench-a"]
    said = f"earlier run {ids['c']} added as well (INCOMPLETE, incomplete)"
    assert said in scenario.out["d"].replace("\n", "")


def test_a_place_filter_is_checked_before_anything_starts():
    with pytest.raises(PlaceUsageError, match="tag filter"):
        Wanted.parse("Kind=chamber")
    assert Wanted.parse("kind=chamber,size=l").filter == {"kind": "chamber", "size": "l"}
    assert Wanted.parse("bench-a").filter == {"name": "bench-a"}


def test_a_place_nobody_has_is_refused_and_its_reservation_cancelled(coordinator):
    client = PlaceClient(coordinator.address)
    said: list[str] = []
    try:
        with pytest.raises(PlaceError, match="no place matches nowhere"):
            Holding(client, said.append).take([Wanted.parse("nowhere")])
        assert client.reservations() == {}
    finally:
        client.close()


def test_a_coordinator_that_is_not_there_is_one_clear_error():
    from rig.lab.local import free_port

    with pytest.raises(PlaceError, match=r"coordinator is unavailable: .*(refused|failed)"):
        PlaceClient(f"127.0.0.1:{free_port()}")
