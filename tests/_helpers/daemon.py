"""Talking to an Engine API daemon on a unix socket, for the compat tests and the benchmarks."""

from __future__ import annotations

import socket
from pathlib import Path


def answers_ping(sock: Path) -> bool:
    """The daemon on *sock* answers ``GET /_ping`` with 200 (within 2 s)."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(str(sock))
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: dockyard\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False
