"""The embedded DNS of a user network, asked from inside a container namespace."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

from dockyard.network import NetworkManager, dnsd, dnswire
from dockyard.network._netns import run_in_netns
from dockyard.network.dnsregistry import EmbeddedDns
from dockyard.network.protocol import LinkDriver


def _nxdomain_upstream() -> tuple[socket.socket, threading.Thread]:
    """A resolver on loopback answering NXDOMAIN until it gets ``stop``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            data, peer = sock.recvfrom(4096)
            if data == b"stop":
                return
            q = dnswire.parse_question(data)
            sock.sendto(dnswire.build_response(data, q, dnswire.NXDOMAIN, []), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return sock, thread


def _ask(
    netns: str, server: str, name: str, qtype: int = dnswire.TYPE_A, timeout: float = 3
) -> tuple[int, list]:
    def go() -> tuple[int, list]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(dnswire.build_query(42, name, qtype), (server, 53))
            return dnswire.parse_response_answers(s.recvfrom(4096)[0])

    return run_in_netns(netns, go)


def test_containers_resolve_each_other_by_name(
    data_root: Path, namespaces, links: LinkDriver
) -> None:
    upstream, thread = _nxdomain_upstream()
    dns = EmbeddedDns(upstreams=[upstream.getsockname()])
    manager = NetworkManager(
        data_root / "network", links=links, table=f"dockyard-t{os.getpid()}", registry=dns
    )
    try:
        net = manager.create_network("named")
        ns1 = namespaces.new()
        one = manager.connect(ns1, "named", "5" * 64, "one", aliases=["first"])
        assert dns.serving() == {net.id: (net.gateway, 53)}
        assert _ask(ns1, net.gateway, "one") == (0, [(dnswire.TYPE_A, one.ip)])
        assert _ask(ns1, net.gateway, "first") == (0, [(dnswire.TYPE_A, one.ip)])
        ptr = _ask(ns1, net.gateway, dnswire.ptr_name(one.ip), dnswire.TYPE_PTR)
        assert ptr == (0, [(dnswire.TYPE_PTR, "one")])
        # A container connected later is known at once, and forgotten when it leaves.
        two = manager.connect(namespaces.new(), "named", "6" * 64, "two")
        assert _ask(ns1, net.gateway, "two") == (0, [(dnswire.TYPE_A, two.ip)])
        manager.disconnect("named", "6" * 64)
        # An unknown name goes to the upstream resolver, whose NXDOMAIN comes back.
        assert _ask(ns1, net.gateway, "two") == (dnswire.NXDOMAIN, [])
        assert _ask(ns1, net.gateway, "nobody") == (dnswire.NXDOMAIN, [])
        manager.disconnect("named", "5" * 64)
        manager.remove_network("named")
        assert dns.serving() == {}
    finally:
        dns.close()
        for ep in manager.endpoints():
            manager.disconnect(ep.network_id, ep.container_id)
        for leftover in manager.list_networks():
            manager.remove_network(leftover.id)
        upstream.sendto(b"stop", upstream.getsockname())
        thread.join(timeout=5)
        upstream.close()


def test_dns_helper_process_serves_every_user_network(
    manager: NetworkManager, namespaces, data_root: Path
) -> None:
    """``dnsd.serve`` (what ``python -m dockyard.network.dnsd`` runs) follows the state file."""
    upstream, thread = _nxdomain_upstream()
    stop = threading.Event()
    helper = threading.Thread(
        target=dnsd.serve,
        args=(data_root / "network", stop, [upstream.getsockname()]),
        kwargs={"poll": 0.02, "exit_when_idle": True},
    )
    try:
        net = manager.create_network("helped")
        ns = namespaces.new()
        one = manager.connect(ns, "helped", "a1" * 32, "one")
        helper.start()
        deadline = time.monotonic() + 3
        answer: tuple[int, list] | None = None
        while answer is None and time.monotonic() < deadline:
            try:
                answer = _ask(ns, net.gateway, "one", timeout=0.2)
            except (TimeoutError, ConnectionRefusedError):
                time.sleep(0.02)
        assert answer == (0, [(dnswire.TYPE_A, one.ip)])
        # Known the moment connect returns: the table re-reads the state before answering.
        two = manager.connect(namespaces.new(), "helped", "b2" * 32, "two")
        assert _ask(ns, net.gateway, "two") == (0, [(dnswire.TYPE_A, two.ip)])
        manager.disconnect("helped", "a1" * 32)
        manager.disconnect("helped", "b2" * 32)
        manager.remove_network("helped")
        helper.join(timeout=3)
        assert not helper.is_alive()  # idle: no user network left
    finally:
        stop.set()
        if helper.is_alive() or helper.ident is not None:
            helper.join(timeout=3)
        upstream.sendto(b"stop", upstream.getsockname())
        thread.join(timeout=5)
        upstream.close()
