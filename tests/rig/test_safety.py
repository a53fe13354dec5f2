"""The safe state tries every step, reports what failed, and survives a Ctrl-C mid-way."""

import pytest

from rig.safety import LimitError, SafetyManager, check_limit


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
