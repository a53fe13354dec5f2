"""The safe state tries every step, reports what failed, and is never cut short by a signal."""

import signal

import pytest

from rig.safety import LimitError, SafetyManager, SignalGuard, check_limit


def test_every_step_runs_even_after_failures():
    ran = []
    safety = SafetyManager()

    def boom():
        ran.append("charger")
        raise OSError("link down")

    def interrupted():
        ran.append("cells")
        raise KeyboardInterrupt

    safety.register("cells to nominal", interrupted, priority=40)
    safety.register("load off", lambda: ran.append("load"), priority=10)
    safety.register("charger off", boom, priority=20)
    safety.register("relay open", lambda: ran.append("relay"), priority=30)
    failures = safety.make_safe("test")
    assert ran == ["load", "charger", "relay", "cells"]
    assert [f.action for f in failures] == ["charger off", "cells to nominal"]
    assert "OSError: link down" in failures[0].error
    assert safety.history[-1][0] == "test"


def test_limit_error_names_role_value_and_limit():
    with pytest.raises(LimitError) as err:
        check_limit("cell 3 (cellsim_a:3)", "voltage", 4.5, 0.0, 4.0, "V")
    text = str(err.value)
    assert "cell 3" in text and "4.5 V" in text and "[0, 4]" in text and "not sent" in text
    check_limit("charger", "voltage", 4.0, 0.0, 4.0, "V")  # the limit itself is allowed


@pytest.fixture
def guard():
    """A fresh signal guard on this process, removed again after the test."""
    g = SignalGuard()
    assert g.install()
    yield g
    g.uninstall()


def test_a_signal_outside_the_sequence_interrupts_at_once(guard):
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        signal.raise_signal(signal.SIGTERM)
    assert guard.first is signal.SIGTERM


def test_signals_wait_for_the_end_of_the_safe_state_sequence(guard, monkeypatch):
    monkeypatch.setattr("rig.safety.SIGNALS", guard)
    ran = []
    safety = SafetyManager()

    def load_off():
        ran.append("load")
        signal.raise_signal(signal.SIGINT)  # Ctrl-C mid-sequence
        ran.append("load done")

    def cells():
        signal.raise_signal(signal.SIGINT)  # and a second one
        ran.append("cells")

    safety.register("load off", load_off, priority=10)
    safety.register("charger off", lambda: ran.append("charger"), priority=20)
    safety.register("cells to nominal", cells, priority=40)
    with pytest.raises(KeyboardInterrupt, match="SIGINT"):
        safety.make_safe("interrupted")
    assert ran == ["load", "load done", "charger", "cells"]
    assert safety.history[-1] == ("interrupted", [])  # no step was cut short
    assert guard.received == [signal.SIGINT, signal.SIGINT]


def test_the_end_of_a_run_notes_a_signal_without_raising(guard, monkeypatch):
    monkeypatch.setattr("rig.safety.SIGNALS", guard)
    safety = SafetyManager()
    safety.register("cells", lambda: signal.raise_signal(signal.SIGTERM))
    assert safety.make_safe("end of session", reraise_signal=False) == []
    assert guard.first is signal.SIGTERM


def test_nested_deferral_raises_once_at_the_outermost_end(guard):
    reached = []
    with pytest.raises(KeyboardInterrupt), guard.deferred():
        with guard.deferred():
            signal.raise_signal(signal.SIGTERM)
        reached.append(True)  # the inner block's end did not raise
    assert reached


def test_held_signals_are_ignored(guard):
    guard.hold()
    signal.raise_signal(signal.SIGTERM)  # would end the process without the hold
    signal.raise_signal(signal.SIGINT)
