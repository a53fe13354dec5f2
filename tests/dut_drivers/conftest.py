"""A simulated BMS served on a real pty, for driver round trips against simlab's twin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from simlab.servers.dut import DUT_SERVERS
from tests.simlab.simworld import Rig, make_rig


@pytest.fixture
def twin() -> Iterator[Callable[..., tuple[Rig, Any]]]:
    """twin(protocol, **sets) → (rig, server): a World at 3.3 V/cell, charger on, served."""
    started: list[Any] = []

    def make(protocol: str, **sets: Any) -> tuple[Rig, Any]:
        rig = make_rig(noise=0.0)
        rig.charger.voltage_set, rig.charger.output_on = 53.0, True
        for path, value in sets.items():
            rig.world.set(path.replace("__", "."), value)
        rig.world.advance(1.0)
        server = DUT_SERVERS[protocol].create(rig.world, rig.world.lock)
        server.start()
        started.append(server)
        return rig, server

    yield make
    for server in started:
        server.stop()
