"""The embedded DNS of a user network, asked from inside a container namespace."""

from __future__ import annotations

import socket
import threading

from dockyard.network import NetworkManager, dnswire
from dockyard.network._netns import run_in_netns
from dockyard.network.dns import DnsServer, NameTable


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


def _ask(netns: str, server: str, name: str) -> tuple[int, list]:
    def go() -> tuple[int, list]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(3)
            s.sendto(dnswire.build_query(42, name, dnswire.TYPE_A), (server, 53))
            return dnswire.parse_response_answers(s.recvfrom(4096)[0])

    return run_in_netns(netns, go)


def test_containers_resolve_each_other_by_name(manager: NetworkManager, namespaces) -> None:
    net = manager.create_network("named")
    ns1 = namespaces.new()
    one = manager.connect(ns1, "named", "5" * 64, "one", aliases=["first"])
    upstream, thread = _nxdomain_upstream()
    table = NameTable(refresh=manager.name_source("named"))
    with DnsServer(net.gateway, table, [upstream.getsockname()], timeout=2):
        assert _ask(ns1, net.gateway, "one") == (0, [(dnswire.TYPE_A, one.ip)])
        assert _ask(ns1, net.gateway, "first") == (0, [(dnswire.TYPE_A, one.ip)])
        # A container connected after the server started is known at once.
        two = manager.connect(namespaces.new(), "named", "6" * 64, "two")
        assert _ask(ns1, net.gateway, "two") == (0, [(dnswire.TYPE_A, two.ip)])
        # An unknown name goes to the upstream resolver, whose NXDOMAIN comes back.
        assert _ask(ns1, net.gateway, "nobody") == (dnswire.NXDOMAIN, [])
        manager.disconnect("named", "6" * 64)
        assert _ask(ns1, net.gateway, "two") == (dnswire.NXDOMAIN, [])
    upstream.sendto(b"stop", upstream.getsockname())
    thread.join(timeout=5)
    upstream.close()
