"""Helpers of the network service's kernel tests (a uniquely named module, so the tests can
import it whatever other ``conftest`` modules the session loaded)."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import pytest

from dockyard.network._netns import run_in_netns
from dockyard.service.container_network import detach_container
from dockyard.service.engine import Engine

TABLE = f"dockyard-s{os.getpid()}"
BRIDGE = f"dockyard0s{os.getpid() % 100000}"


def cleanup(engine: Engine) -> None:
    """Detach every container, remove every network (the default one too) and wait for the DNS
    helper to leave."""
    service = engine.networks
    for ep in service.manager.endpoints():
        detach_container(engine, ep.container_id)
    for net in service.manager.list_networks():
        if not net.default:
            service.manager.remove_network(net.id)
    service.manager.prune_default()
    deadline = time.monotonic() + 5
    while service.dns_helper_pid() and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = service.dns_helper_pid()
    if pid:  # it should have left by itself (--exit-when-idle); do not leak it anyway
        os.kill(pid, signal.SIGTERM)
        pytest.fail(f"the DNS helper {pid} outlived the last user network")


class Server:
    """A TCP server in a namespace answering ``<tag>:<what it got>`` to each connection."""

    def __init__(self, ns: str, port: int, tag: bytes) -> None:
        def make() -> socket.socket:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("0.0.0.0", port))
            sock.listen(8)
            return sock

        self.sock = run_in_netns(ns, make)
        self.sock.settimeout(0.1)
        self.tag = tag
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    conn.sendall(self.tag + b":" + conn.recv(100))
                except OSError:
                    pass

    def close(self) -> None:
        self.stopped = True
        self.thread.join(timeout=2)
        self.sock.close()


def talk(host: str, port: int, ns: str | None = None, timeout: float = 2.0) -> bytes:
    """Send ``hi`` to ``host:port`` over TCP (from inside *ns* if given); the reply."""

    def go() -> bytes:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"hi")
            return s.recv(100)

    return run_in_netns(ns, go) if ns else go()
