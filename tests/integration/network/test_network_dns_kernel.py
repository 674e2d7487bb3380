"""The embedded DNS of a user network, asked from inside a container namespace."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

from dockyard.network import NetworkManager, dnswire
from dockyard.network._netns import run_in_netns
from dockyard.network.dnsregistry import EmbeddedDns
from dockyard.network.firewall import NftFirewall


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


def _ask(netns: str, server: str, name: str, qtype: int = dnswire.TYPE_A) -> tuple[int, list]:
    def go() -> tuple[int, list]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(3)
            s.sendto(dnswire.build_query(42, name, qtype), (server, 53))
            return dnswire.parse_response_answers(s.recvfrom(4096)[0])

    return run_in_netns(netns, go)


def test_containers_resolve_each_other_by_name(data_root: Path, namespaces) -> None:
    upstream, thread = _nxdomain_upstream()
    dns = EmbeddedDns(upstreams=[upstream.getsockname()])
    manager = NetworkManager(
        data_root / "network", firewall=NftFirewall(f"dockyard-t{os.getpid()}"), registry=dns
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
