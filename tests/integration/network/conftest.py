"""Fixtures for the network integration tests: network namespaces standing in for containers,
a NetworkManager with its own nftables table, and small servers run inside namespaces.

Namespaces are made by ``unshare`` in a thread and kept as open fds (path
``/proc/<pid>/fd/<n>``): closing the fd frees the namespace and every link in it, so nothing
is mounted and nothing named outlives a test.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dockyard.network import NetworkManager
from dockyard.network._netns import new_netns, run_in_netns
from dockyard.network.links import LinuxLinks
from dockyard.network.protocol import LinkDriver
from dockyard.network.rawlinks import RawLinks


class Namespaces:
    """Creates network namespaces and closes them all at the end of the test."""

    def __init__(self) -> None:
        self.fds: list[int] = []

    def new(self) -> str:
        fd = new_netns()
        self.fds.append(fd)
        return f"/proc/{os.getpid()}/fd/{fd}"

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()


@pytest.fixture
def namespaces() -> Iterator[Namespaces]:
    ns = Namespaces()
    yield ns
    ns.close()


@pytest.fixture(params=["pyroute2", "rtnl"])
def links(request: pytest.FixtureRequest) -> LinkDriver:
    """Both link drivers: every kernel test is their conformance suite."""
    return LinuxLinks() if request.param == "pyroute2" else RawLinks()


@pytest.fixture
def manager(data_root: Path, links: LinkDriver) -> Iterator[NetworkManager]:
    """A manager on the test's data root, with a table and default bridge of its own (so a
    Dockyard running on the same host is left alone)."""
    mgr = NetworkManager(
        data_root / "network",
        links=links,
        table=f"dockyard-t{os.getpid()}",
        default_bridge=f"dockyard0-{os.getpid() % 100000}",
    )
    yield mgr
    for ep in mgr.endpoints():
        mgr.disconnect(ep.network_id, ep.container_id)
    for net in mgr.list_networks():
        if not net.default:
            mgr.remove_network(net.id)
    mgr.prune_default()


class EchoServer:
    """A TCP (or UDP) echo server whose socket lives in a namespace, served by a thread."""

    def __init__(self, netns: str, port: int, udp: bool = False) -> None:
        kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM

        def make() -> socket.socket:
            sock = socket.socket(socket.AF_INET, kind)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("0.0.0.0", port))
            if not udp:
                sock.listen(8)
            return sock

        self.sock = run_in_netns(netns, make)
        self.sock.settimeout(0.1)
        self.stopped = False
        self.peers: list[tuple[str, int]] = []
        self.thread = threading.Thread(target=self._udp if udp else self._tcp, daemon=True)
        self.thread.start()

    def _tcp(self) -> None:
        while not self.stopped:
            try:
                conn, peer = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.peers.append(peer)
            with conn:
                conn.settimeout(2)
                try:
                    conn.sendall(b"echo:" + conn.recv(100))
                except OSError:
                    pass

    def _udp(self) -> None:
        while not self.stopped:
            try:
                data, peer = self.sock.recvfrom(100)
            except TimeoutError:
                continue
            except OSError:
                return
            self.peers.append(peer)
            self.sock.sendto(b"echo:" + data, peer)

    def close(self) -> None:
        self.stopped = True
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def echo() -> Iterator[Callable[..., EchoServer]]:
    servers: list[EchoServer] = []

    def start(netns: str, port: int, udp: bool = False) -> EchoServer:
        servers.append(EchoServer(netns, port, udp))
        return servers[-1]

    yield start
    for srv in servers:
        srv.close()


def talk(host: str, port: int, netns: str | None = None, timeout: float = 2.0) -> bytes:
    """Send ``hi`` over TCP to ``host:port`` (from inside *netns* if given); the reply."""

    def go() -> bytes:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"hi")
            return s.recv(100)

    return run_in_netns(netns, go) if netns else go()


@pytest.fixture
def tcp_talk() -> Callable[..., bytes]:
    return talk
