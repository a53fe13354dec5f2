"""The framework's own tests: what the whole suite needs once."""

from __future__ import annotations

import pytest

from rig.paths import cache_bytecode


def pytest_configure(config: pytest.Config) -> None:
    """The project's bytecode cached once, before any worker starts: the suite starts a
    few hundred interpreters (`rig run`, simlab, the live printer), and where
    PYTHONDONTWRITEBYTECODE is set (as on the machine this suite is run on) each
    compiled its modules at every start (a fresh clone's suite: 341 s instead of 297 s)."""
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller did it
        return
    cache_bytecode()
