"""The run's CPU placement: the rig and its simlab on one CPU, the live printer on the
others, every CPU back to all of them at the end (`rig.cpus`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rig.cpus import Placement, least_busy

REPO = Path(__file__).resolve().parents[2]
MULTI = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs Linux and two CPUs or more",
)


def test_the_cpu_idle_longest_since_the_first_reading_is_chosen():
    before = {0: 100, 1: 100, 2: 100}
    after = {0: 110, 1: 150, 2: 120}
    assert least_busy({0, 1, 2}, before, after) == 1
    assert least_busy({0, 2}, before, after) == 2  # only among the CPUs allowed
    assert least_busy({3, 1}, {}, {}) == 1  # nothing known: the lowest number


def test_off_leaves_placement_to_the_kernel(monkeypatch):
    monkeypatch.setenv("RIG_CPUS", "off")
    assert Placement.choose() is None


def test_one_cpu_is_nothing_to_place(monkeypatch):
    monkeypatch.delenv("RIG_CPUS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert Placement.choose() is None


@MULTI
def test_pin_places_every_thread_and_process_and_release_gives_every_cpu_back(tmp_path):
    """In a process of its own (the test's worker keeps its CPUs): a thread started before
    the pin and one after it, a process together and one apart."""
    script = textwrap.dedent(
        """
        import json, os, subprocess, sys, threading
        from rig.cpus import Placement

        def cpus(tid):
            for line in open(f"/proc/self/task/{tid}/status"):
                if line.startswith("Cpus_allowed_list:"):
                    return line.split()[1]

        def of(pid):
            out = {}
            for tid in os.listdir(f"/proc/{pid}/task"):
                for line in open(f"/proc/{pid}/task/{tid}/status"):
                    if line.startswith("Cpus_allowed_list:"):
                        out[tid] = line.split()[1]
            return sorted(set(out.values()))

        stop = threading.Event()
        early = threading.Thread(target=stop.wait); early.start()
        sleeper = [sys.executable, "-c", "import sys; sys.stdin.read()"]
        together = subprocess.Popen(sleeper, stdin=subprocess.PIPE)
        apart = subprocess.Popen(sleeper, stdin=subprocess.PIPE)
        placement = Placement.choose()
        placement.pin(together=[together.pid], apart=[apart.pid])
        late = threading.Thread(target=stop.wait); late.start()
        child = subprocess.Popen(sleeper, stdin=subprocess.PIPE)
        pinned = {"self": of(os.getpid()), "together": of(together.pid),
                  "apart": of(apart.pid), "started after": of(child.pid)}
        placement.release()
        released = {"self": of(os.getpid()), "together": of(together.pid),
                    "apart": of(apart.pid)}
        for p in (together, apart, child):
            p.communicate(b"")
        stop.set()
        print(json.dumps({"session": placement.session,
                          "others": sorted(placement.others),
                          "allowed": sorted(placement.allowed),
                          "pinned": pinned, "released": released}))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "RIG_CPUS": ""}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    session = str(seen["session"])
    assert session not in [str(c) for c in seen["others"]]
    for name in ("self", "together", "started after"):
        assert seen["pinned"][name] == [session], name
    others = {str(c) for c in seen["others"]}
    (apart,) = seen["pinned"]["apart"]
    assert set(_expand(apart)) == others
    everything = set(str(c) for c in seen["allowed"])
    for name, lists in seen["released"].items():
        assert [set(_expand(x)) for x in lists] == [everything], name


def _expand(cpu_list: str) -> list[str]:
    """'0-2,5' as ['0', '1', '2', '5']."""
    out: list[str] = []
    for piece in cpu_list.split(","):
        low, _, high = piece.partition("-")
        out += [str(n) for n in range(int(low), int(high or low) + 1)]
    return out


@MULTI
def test_release_without_pin_and_twice_is_harmless(monkeypatch):
    monkeypatch.delenv("RIG_CPUS", raising=False)
    placement = Placement.choose()
    assert placement is not None
    before = os.sched_getaffinity(0)
    placement.release()
    placement.release()
    assert os.sched_getaffinity(0) == before
