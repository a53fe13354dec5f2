"""A plan starts from the ready DUT the plan before it left, where nothing happened since."""

from __future__ import annotations

from types import SimpleNamespace

from rig.plugin.session import RigSession
from rig.recovery import RecoveryResult

READY = RecoveryResult(True, "release", 2.5, "charge FET on, discharge FET on, protections none")


class _Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def now(self) -> float:
        return self.t


def _session(settle_s: float = 1.0) -> tuple[RigSession, list, _Clock]:
    """A session with just what the ready note reads: the links' transcripts, the clock
    and the spec's settle time (no bench, no simlab)."""
    rig = RigSession.__new__(RigSession)
    links = [SimpleNamespace(count=10), SimpleNamespace(count=20)]
    rig.station = SimpleNamespace(transcripts=links[1:])
    rig.dut_transcript = links[0]
    rig.clock = clock = _Clock()
    rig._spec = SimpleNamespace(test_conditions=SimpleNamespace(settle_s=settle_s))
    rig._ready_mark = None
    return rig, links, clock


def test_a_ready_dut_stands_for_the_next_plan_when_the_bench_was_quiet() -> None:
    rig, _, _ = _session()
    rig.mark_ready(READY, "after test_a")
    kept = rig.still_ready()
    assert kept is not None
    result, since = kept
    assert (result.ready, result.method, result.waited_s, since) == (
        True,
        "ready",
        0.0,
        "after test_a",
    )
    assert result.status == READY.status
    assert rig.still_ready() is None  # for one plan only


def test_any_message_on_any_link_means_a_full_recovery() -> None:
    for link in range(2):
        rig, links, _ = _session()
        rig.mark_ready(READY, "after test_a")
        links[link].count += 1  # a fixture's teardown spoke to the BMS or an instrument
        assert rig.still_ready() is None


def test_time_beyond_the_settle_time_means_a_full_recovery() -> None:
    rig, _, clock = _session(settle_s=1.0)
    rig.mark_ready(READY, "after test_a")
    clock.t += 1.0
    assert rig.still_ready() is not None
    rig.mark_ready(READY, "after test_a")
    clock.t += 1.001
    assert rig.still_ready() is None


def test_a_recovery_that_failed_stands_for_nothing() -> None:
    rig, _, _ = _session()
    rig.mark_ready(READY, "after test_a")
    rig.mark_ready(RecoveryResult(False, "failed", 30.0, "charge FET off"), "after test_b")
    assert rig.still_ready() is None


def test_without_transcripts_nothing_is_kept() -> None:
    rig, _, _ = _session()
    rig.dut_transcript = None
    rig.mark_ready(READY, "after test_a")
    assert rig.still_ready() is None


def test_an_operator_step_means_a_full_recovery() -> None:
    """A person may have changed the bench (no message on a link, no time on simlab's
    clock): the recovery before the next plan runs again."""
    rig, _, _ = _session()
    asked: list[str] = []
    rig.station_config = SimpleNamespace(operator=SimpleNamespace(steps=[], timeout_s=60.0))
    rig.prompter = SimpleNamespace(ask=lambda step_id, *_: asked.append(step_id))
    step = SimpleNamespace(args=("harness", "Connect the harness"), kwargs={})
    item = SimpleNamespace(
        nodeid="test_plans/test_x.py::test_x",
        get_closest_marker=lambda name: None,
        iter_markers=lambda name: [step] if name == "operator_step" else [],
    )
    rig.mark_ready(READY, "after test_a")
    rig.operator_steps("plan", item)
    assert asked == ["harness"]
    assert rig.still_ready() is None
