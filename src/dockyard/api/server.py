"""The daemon process: bind the API to unix sockets or TCP ports, a pid file, clean shutdown.

``serve(settings, hosts)`` runs until SIGTERM or SIGINT, then stops accepting, ends the open
event streams, and removes its socket files and pid file. A stale socket or pid file (its
daemon dead) is replaced; a live one is an error, so two daemons never share a root.

Hosts are Docker's ``-H`` values: ``unix:///path`` or ``tcp://127.0.0.1:2375``. TCP has no TLS:
bind it to loopback only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from dockyard import errors
from dockyard.api._work import EXECUTOR
from dockyard.api.app import make_app
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings

__all__ = ["Listen", "default_host", "parse_host", "serve"]

log = logging.getLogger("dockyard.api")

SOCKET_MODE = 0o660
SHUTDOWN_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Listen:
    """Where to listen: a unix socket *path*, or a TCP *host* and *port*."""

    path: Path | None = None
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        return f"unix://{self.path}" if self.path is not None else f"tcp://{self.host}:{self.port}"


def default_host(settings: Settings) -> str:
    """``unix:///run/dockyard/dockyard.sock`` for the default root, else ``<root>/run/…``."""
    return f"unix://{settings.exec_root / 'dockyard.sock'}"


def parse_host(value: str) -> Listen:
    """A ``-H`` value. Raises InvalidArgument for another scheme or a malformed address."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        raise errors.InvalidArgument(f"invalid daemon address {value!r}: want unix:// or tcp://")
    if scheme == "unix":
        if not rest.startswith("/"):
            raise errors.InvalidArgument(f"invalid daemon address {value!r}: the path must be absolute")
        return Listen(path=Path(rest))
    if scheme == "tcp":
        host, colon, port = rest.rstrip("/").rpartition(":")
        if not colon or not port.isdigit() or not host:
            raise errors.InvalidArgument(f"invalid daemon address {value!r}: want tcp://HOST:PORT")
        return Listen(host=host.strip("[]"), port=int(port))
    raise errors.InvalidArgument(f"invalid daemon address {value!r}: want unix:// or tcp://")


def _claim_socket(path: Path) -> None:
    """Make way for a new socket at *path*: remove a stale one, refuse a live one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() and not path.is_symlink():
        return
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()
            return
    raise errors.FailedPrecondition(f"a daemon is already listening on {path}")


def _claim_pidfile(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        pid = int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        pid = 0
    if pid and pid != os.getpid():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            pass
        except PermissionError:
            raise errors.FailedPrecondition(f"pid file {path} names a running process ({pid})") from None
        else:
            raise errors.FailedPrecondition(f"pid file {path} names a running daemon ({pid})")
    path.write_text(f"{os.getpid()}\n")


def _warm_up(engine: Engine) -> None:
    """Open the database and run migrations once, before requests race to do it."""
    _ = engine.images, engine.events, engine.snapshotter
    engine.warm_shims()


async def _serve(settings: Settings, listens: list[Listen], pidfile: Path,
                 ready: Callable[[], None] | None) -> None:
    loop = asyncio.get_running_loop()
    engine = Engine(settings)
    app = make_app(engine)
    await loop.run_in_executor(app[EXECUTOR], _warm_up, engine)
    for listen in listens:
        if listen.path is not None:
            _claim_socket(listen.path)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    _claim_pidfile(pidfile)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    try:
        await runner.setup()
        for listen in listens:
            site: web.BaseSite
            if listen.path is not None:
                site = web.UnixSite(runner, str(listen.path))
                await site.start()
                os.chmod(listen.path, SOCKET_MODE)
            else:
                site = web.TCPSite(runner, listen.host, listen.port)
                await site.start()
            log.info("API listen on %s", listen)
        if ready is not None:
            ready()
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()
        engine.close()
        for listen in listens:
            if listen.path is not None:
                try:
                    listen.path.unlink()
                except FileNotFoundError:
                    pass
        try:
            pidfile.unlink()
        except FileNotFoundError:
            pass


def serve(settings: Settings, hosts: list[str], pidfile: Path | None = None,
          ready: Callable[[], None] | None = None) -> None:
    """Serve the Engine API on *hosts* (the default socket when empty) until SIGTERM/SIGINT.

    Raises InvalidArgument (a bad host), FailedPrecondition (another daemon holds the socket or
    pid file), PermissionDenied (cannot bind).
    """
    listens = [parse_host(h) for h in (hosts or [default_host(settings)])]
    pid_path = pidfile or settings.exec_root / "dockyard.pid"
    try:
        asyncio.run(_serve(settings, listens, pid_path, ready))
    except PermissionError as exc:
        raise errors.PermissionDenied(f"cannot listen on {', '.join(map(str, listens))}: {exc}") from exc
