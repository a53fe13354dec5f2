"""Fuzz: whatever a client sends, ``handle()`` answers or queues errors, never raises."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlab.scpi import MODELS
from simlab.scpi.bench import make_bench
from simlab.scpi.errors import MESSAGES

FRAGMENTS = [
    "VOLT",
    "VOLT?",
    "CURR",
    ":SOUR:",
    "MEAS:VOLT?",
    "OUTP",
    "ON",
    "OFF",
    "MAX",
    "MIN",
    "(@1)",
    "(@1:4)",
    "(@",
    ",",
    ";",
    ":",
    " ",
    "?",
    "*IDN?",
    "*RST",
    "*CLS",
    "SYST:ERR?",
    "1.5",
    "-3E2",
    "1e999",
    '"',
    "'",
    "#H",
    "INST:NSEL",
    "CH2",
    "FUNC",
    "CURR:LIM:NEG",
    "-0.5",
]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("model", list(MODELS))
@FUZZ
@given(text=st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=80))
def test_random_text_never_crashes(model: str, text: str) -> None:
    _check(model, text)


@pytest.mark.parametrize("model", list(MODELS))
@FUZZ
@given(parts=st.lists(st.sampled_from(FRAGMENTS), max_size=12))
def test_scpi_like_garbage_never_crashes(model: str, parts: list[str]) -> None:
    _check(model, "".join(parts))


def _check(model: str, text: str) -> None:
    bench = make_bench(model)
    reply = bench.device.handle(text)
    assert reply is None or isinstance(reply, str)
    assert "\n" not in (reply or "")
    codes = bench.device.errors.codes()
    assert all(code in MESSAGES and code != -300 for code in codes), codes
