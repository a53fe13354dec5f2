"""The throwaway servers the lab's tests start: a port taken before the server binds it."""

from __future__ import annotations

import socket

import pytest

from rig.lab.local import LocalPostgres, postgres_bindir


def test_a_port_taken_before_postgres_binds_it_is_traded_for_another():
    """free_port() closes its socket before PostgreSQL binds the port, so another process
    can take it in between (seen once in the suite: six errors). The first start picks
    a new port instead of failing."""
    if postgres_bindir() is None:
        pytest.skip("no PostgreSQL server binaries (system package or pgserver)")
    server = LocalPostgres()
    taken = server.port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        try:
            server.start()
            assert server.port != taken
            url = server.create_database("t_traded")
            assert f":{server.port}/" in url
        finally:
            server.close()
