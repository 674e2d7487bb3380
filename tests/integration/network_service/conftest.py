"""Fixtures for the network service's kernel tests: an Engine on the test's data root whose
host objects (nftables table, default bridge) carry this session's own names, namespaces
standing in for containers, and servers run inside them (helpers in ``netsvc_support``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from netsvc_support import BRIDGE, TABLE, Server, cleanup

from dockyard.network._netns import new_netns
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings


@pytest.fixture
def host_names(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    monkeypatch.setenv("DOCKYARD_NFT_TABLE", TABLE)
    monkeypatch.setenv("DOCKYARD_DEFAULT_BRIDGE", BRIDGE)
    return {"DOCKYARD_NFT_TABLE": TABLE, "DOCKYARD_DEFAULT_BRIDGE": BRIDGE}


@pytest.fixture
def engine(data_root: Path, host_names: dict[str, str]) -> Iterator[Engine]:
    eng = Engine(Settings.resolve(data_root))
    yield eng
    cleanup(eng)


@pytest.fixture
def netns() -> Iterator[Callable[[], str]]:
    """Makes empty network namespaces (``/proc/<pid>/fd/<n>``), closed after the test."""
    fds: list[int] = []

    def make() -> str:
        fds.append(new_netns())
        return f"/proc/{os.getpid()}/fd/{fds[-1]}"

    yield make
    for fd in fds:
        os.close(fd)


@pytest.fixture
def server() -> Iterator[Callable[[str, int, bytes], Server]]:
    servers: list[Server] = []

    def start(ns: str, port: int, tag: bytes) -> Server:
        servers.append(Server(ns, port, tag))
        return servers[-1]

    yield start
    for srv in servers:
        srv.close()
