"""The embedded DNS server of a user network: container names and aliases, else upstream.

One ``DnsServer`` per user network listens on the network's gateway address, port 53, UDP
and TCP. It answers A (and PTR) queries for the names in its ``NameTable`` (container names,
aliases, short ids on that network), answers AAAA for those names with no records, and
forwards every other query byte for byte to the host's resolvers, relaying their answer (or
SERVFAIL when none answers). It runs in threads of whatever long-lived process owns the
network (the daemon, or a helper); the ``NameTable`` is fed by ``NetworkManager``'s update
hook or re-read from the state file. Imports only the standard library, ``dockyard.errors``
and the package's wire codec; never the runtime.
"""

from __future__ import annotations

import contextlib
import ipaddress
import selectors
import socket
import struct
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from dockyard import errors
from dockyard.network import dnswire

__all__ = ["DnsServer", "NameTable"]

Source = Callable[[], Mapping[str, Sequence[str]] | None]


class NameTable:
    """Names → IPv4 addresses of one network, safe to update from any thread.

    *refresh*, when given, is called before each lookup and returns a new mapping, or None
    when nothing changed (``NetworkManager.name_source`` re-reads the state file that way).
    """

    def __init__(
        self, names: Mapping[str, Sequence[str]] | None = None, refresh: Source | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._names: dict[str, tuple[str, ...]] = {}
        self._refresh = refresh
        self.update(names or {})

    def update(self, names: Mapping[str, Sequence[str]]) -> None:
        """Replace the table (the registry update hook)."""
        table = {k.lower().rstrip("."): tuple(v) for k, v in names.items()}
        with self._lock:
            self._names = table

    def _current(self) -> dict[str, tuple[str, ...]]:
        if self._refresh is not None:
            fresh = self._refresh()
            if fresh is not None:
                self.update(fresh)
        with self._lock:
            return self._names

    def resolve(self, name: str) -> tuple[str, ...] | None:
        """The addresses of *name*, or None when the name is not on this network."""
        return self._current().get(name.lower().rstrip("."))

    def reverse(self, ip: str) -> str | None:
        """The first name (in the table's order: a container's name comes before its
        aliases) that has address *ip*, or None."""
        for name, ips in self._current().items():
            if ip in ips:
                return name
        return None


class DnsServer:
    """A DNS server on ``address:port`` answering from *table*, forwarding to *upstreams*."""

    def __init__(
        self,
        address: str,
        table: NameTable,
        upstreams: Sequence[tuple[str, int]],
        port: int = 53,
        timeout: float = 2.0,
    ) -> None:
        self.address = address
        self.port = port
        self.table = table
        self.upstreams = list(upstreams)
        self.timeout = timeout
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dockyard-dns")

    def start(self) -> None:
        """Bind UDP and TCP and serve in a thread. Raises Conflict when the port is taken."""
        try:
            self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._udp.bind((self.address, self.port))
            self.port = self._udp.getsockname()[1]  # port 0 (tests): TCP takes UDP's port
            self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._tcp.bind((self.address, self.port))
            self._tcp.listen(16)
        except OSError as exc:
            self._close_sockets()
            raise errors.Conflict(
                f"cannot serve DNS on {self.address}:{self.port}: {exc.strerror}"
            ) from exc
        self._wake = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name="dockyard-dns", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the sockets (idempotent)."""
        if self._thread is not None and self._wake is not None:
            self._wake[1].send(b"x")
            self._thread.join()
            self._thread = None
            for end in self._wake:
                end.close()
            self._wake = None
        self._pool.shutdown(wait=True)
        self._close_sockets()

    def __enter__(self) -> DnsServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _close_sockets(self) -> None:
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()
        self._udp = self._tcp = None

    def _serve(self) -> None:
        assert self._udp is not None and self._tcp is not None and self._wake is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._udp, selectors.EVENT_READ, "udp")
            sel.register(self._tcp, selectors.EVENT_READ, "tcp")
            sel.register(self._wake[0], selectors.EVENT_READ, "wake")
            while True:
                for key, _ in sel.select():
                    if key.data == "wake":
                        return
                    if key.data == "udp":
                        data, peer = self._udp.recvfrom(4096)
                        self._pool.submit(self._answer_udp, data, peer)
                    else:
                        conn, _ = self._tcp.accept()
                        self._pool.submit(self._answer_tcp, conn)

    def _answer_udp(self, data: bytes, peer: tuple[str, int]) -> None:
        reply = self.answer(data, tcp=False)
        if reply and self._udp is not None:
            with contextlib.suppress(OSError):
                self._udp.sendto(reply, peer)

    def _answer_tcp(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(self.timeout)
            try:
                data = _recv_framed(conn)
                reply = self.answer(data, tcp=True)
                if reply:
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
            except (OSError, ValueError):
                return

    def answer(self, data: bytes, tcp: bool) -> bytes | None:
        """The reply to one query: local answer, upstream answer, or an error reply."""
        try:
            q = dnswire.parse_question(data)
        except ValueError:
            return None
        if q.qtype == dnswire.TYPE_PTR and q.name.endswith(".in-addr.arpa"):
            name = self._reverse(q.name)
            if name is not None:
                rdata = dnswire.encode_name(name)
                return dnswire.build_response(data, q, 0, [(dnswire.TYPE_PTR, rdata)])
        ips = self.table.resolve(q.name)
        if ips is not None:
            answers = []
            if q.qtype == dnswire.TYPE_A:
                answers = [(dnswire.TYPE_A, ipaddress.IPv4Address(ip).packed) for ip in ips]
            return dnswire.build_response(data, q, 0, answers)
        forwarded = self._forward(data, tcp)
        if forwarded is not None:
            return forwarded
        return dnswire.build_response(data, q, dnswire.SERVFAIL, [])

    def _reverse(self, name: str) -> str | None:
        parts = name[: -len(".in-addr.arpa")].split(".")
        if len(parts) != 4:
            return None
        return self.table.reverse(".".join(reversed(parts)))

    def _forward(self, data: bytes, tcp: bool) -> bytes | None:
        for host, port in self.upstreams:
            try:
                if tcp:
                    with socket.create_connection((host, port), timeout=self.timeout) as s:
                        s.sendall(struct.pack("!H", len(data)) + data)
                        return _recv_framed(s)
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.settimeout(self.timeout)
                    s.sendto(data, (host, port))
                    reply, _ = s.recvfrom(65535)
                    if reply[:2] == data[:2]:
                        return reply
            except (OSError, ValueError):
                continue
        return None


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ValueError("connection closed mid-message")
        buf += chunk
    return bytes(buf)


def _recv_framed(sock: socket.socket) -> bytes:
    (length,) = struct.unpack("!H", _recv_exact(sock, 2))
    return _recv_exact(sock, length)
