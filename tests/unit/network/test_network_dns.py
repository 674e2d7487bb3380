"""The embedded DNS server on loopback: local names, PTR, and forwarding to an upstream."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from dockyard.network import dnswire
from dockyard.network.dns import DnsServer, NameTable


class FakeUpstream:
    """A resolver on 127.0.0.1 that answers NXDOMAIN to everything, counting queries."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.asked: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            if data == b"stop":
                return
            q = dnswire.parse_question(data)
            self.asked.append(q.name)
            self.sock.sendto(dnswire.build_response(data, q, dnswire.NXDOMAIN, []), peer)

    def close(self) -> None:
        self.sock.sendto(b"stop", ("127.0.0.1", self.port))
        self.thread.join()
        self.sock.close()


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    up = FakeUpstream()
    yield up
    up.close()


@pytest.fixture
def server(upstream: FakeUpstream) -> Iterator[DnsServer]:
    table = NameTable({"web": ["172.18.0.2"], "db": ["172.18.0.3"], "alias": ["172.18.0.3"]})
    srv = DnsServer("127.0.0.1", table, [("127.0.0.1", upstream.port)], port=0, timeout=1)
    srv.start()
    yield srv
    srv.stop()


def _ask_udp(port: int, name: str, qtype: int = dnswire.TYPE_A) -> tuple[int, list]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(dnswire.build_query(0x1234, name, qtype), ("127.0.0.1", port))
        data, _ = s.recvfrom(4096)
    assert data[:2] == b"\x12\x34"
    return dnswire.parse_response_answers(data)


def _ask_tcp(port: int, name: str) -> tuple[int, list]:
    query = dnswire.build_query(7, name, dnswire.TYPE_A)
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(struct.pack("!H", len(query)) + query)
        (length,) = struct.unpack("!H", s.recv(2))
        data = b""
        while len(data) < length:
            data += s.recv(length - len(data))
    return dnswire.parse_response_answers(data)


def test_container_names_resolve_over_udp_and_tcp(
    server: DnsServer, upstream: FakeUpstream
) -> None:
    assert _ask_udp(server.port, "web") == (0, [(dnswire.TYPE_A, "172.18.0.2")])
    assert _ask_udp(server.port, "ALIAS.") == (0, [(dnswire.TYPE_A, "172.18.0.3")])
    assert _ask_tcp(server.port, "db") == (0, [(dnswire.TYPE_A, "172.18.0.3")])
    assert upstream.asked == []


def test_aaaa_for_a_local_name_is_empty_not_forwarded(
    server: DnsServer, upstream: FakeUpstream
) -> None:
    assert _ask_udp(server.port, "web", dnswire.TYPE_AAAA) == (0, [])
    assert upstream.asked == []


def test_reverse_lookup_of_a_container_address(server: DnsServer) -> None:
    name = dnswire.ptr_name("172.18.0.2")
    assert _ask_udp(server.port, name, dnswire.TYPE_PTR) == (0, [(dnswire.TYPE_PTR, "web")])


def test_unknown_names_are_forwarded_and_nxdomain_relayed(
    server: DnsServer, upstream: FakeUpstream
) -> None:
    assert _ask_udp(server.port, "nothere") == (dnswire.NXDOMAIN, [])
    assert upstream.asked == ["nothere"]


def test_table_updates_are_seen_and_unreachable_upstream_is_servfail(
    upstream: FakeUpstream,
) -> None:
    table = NameTable({})
    dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dead.bind(("127.0.0.1", 0))  # bound, never answers
    with DnsServer("127.0.0.1", table, [dead.getsockname()], port=0, timeout=0.2) as srv:
        assert _ask_udp(srv.port, "late")[0] == dnswire.SERVFAIL
        table.update({"late": ["10.0.0.5"]})
        assert _ask_udp(srv.port, "late") == (0, [(dnswire.TYPE_A, "10.0.0.5")])
    dead.close()
