"""Fixtures: each model's device bound to fresh hardware on a stand-in bench."""

from __future__ import annotations

import pytest

from simlab.scpi.bench import Bench, make_bench


@pytest.fixture
def e36234a() -> Bench:
    return make_bench("Keysight E36234A", "MY60000123")


@pytest.fixture
def dl3021() -> Bench:
    return make_bench("Rigol DL3021", "DL3A000000001")


@pytest.fixture
def n6705c() -> Bench:
    return make_bench("Keysight N6705C", "MY56000456")
