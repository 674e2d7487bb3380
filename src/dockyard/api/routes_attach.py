"""``POST /containers/{id}/attach``: the container's output (and stdin) over a hijacked
connection, as ``docker run`` without ``-d`` uses it; plus ``/containers/{id}/resize``.

The client attaches *before* it starts the container. The shim of a container started for an
attach holds the process until a client connects to its attach socket, so the attach handler
answers ``101 UPGRADED`` at once and parks a future; ``POST /start`` (``routes_containers``)
starts the container attached when one is parked, connects to the shim's socket and hands it
over. The shim already speaks Docker's stream format (multiplexed frames, raw with a TTY), so
the bytes are copied as they are.

Stdin: after the upgrade, aiohttp hands the connection's raw bytes to the parser we install
(``protocol.set_parser``, as its websockets do). The client half-closes the connection when its
stdin ends (at once without ``-i``); aiohttp would close the connection then, losing the
output still to come, so ``_HalfOpen`` stands between the transport and aiohttp's protocol
and answers ``eof_received`` itself: keep the transport open, end the container's stdin.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from aiohttp import web

from dockyard import errors
from dockyard.api import _params, _waits
from dockyard.api._work import call, engine, watch

__all__ = ["parked", "routes", "setup"]

routes = web.RouteTableDef()

_PARKED = web.AppKey("parked_attaches", dict)  # container id -> Future[socket.socket]


def setup(app: web.Application) -> None:
    app[_PARKED] = {}


def parked(app: web.Application, container_id: str) -> asyncio.Future[socket.socket] | None:
    """The attach waiting for *container_id* to start, if a client is parked on it."""
    future: asyncio.Future[socket.socket] | None = app[_PARKED].get(container_id)
    return future if future is not None and not future.done() else None


class _Stdin:
    """The hijacked connection's raw bytes → the container's stdin (in order, then EOF)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._task = loop.create_task(self._copy(loop, sock))

    async def _copy(self, loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while (data := await self._queue.get()) is not None:
                await loop.sock_sendall(sock, data)
            sock.shutdown(socket.SHUT_WR)

    # the parser interface aiohttp's protocol drives
    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self._queue.put_nowait(data)
        return False, b""

    def feed_eof(self) -> None:
        self._queue.put_nowait(None)

    def close(self) -> None:
        self._task.cancel()


class _HalfOpen(asyncio.Protocol):
    """aiohttp's protocol for one hijacked connection, except that the client's half-close
    keeps the connection open (and ends the container's stdin, once there is one)."""

    def __init__(self, inner: asyncio.Protocol) -> None:
        self.inner = inner
        self.stdin: _Stdin | None = None
        self.eof = False
        self.early: list[bytes] = []  # stdin that came before the container was there

    def data_received(self, data: bytes) -> None:
        if self.stdin is None:
            self.early.append(data)  # the connection is hijacked: these bytes are stdin
            return
        self.inner.data_received(data)

    def eof_received(self) -> bool:
        self.eof = True
        if self.stdin is not None:
            self.stdin.feed_eof()
        return True  # keep the transport half-open: output may still follow

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


def _hold_half_open(request: web.Request) -> _HalfOpen | None:
    transport, inner = request.transport, request.protocol
    if transport is None or inner is None:
        return None
    wrapper = _HalfOpen(inner)
    transport.set_protocol(wrapper)
    return wrapper




async def _copy_out(request: web.Request, response: web.StreamResponse, sock: socket.socket,
                    stdin: bool, half_open: _HalfOpen | None) -> None:
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    feeder = None
    if stdin and request.protocol is not None:
        feeder = _Stdin(loop, sock)
        request.protocol.set_parser(feeder)  # type: ignore[arg-type]
        if half_open is not None:
            for data in half_open.early:  # `echo hi | docker run -i`: input came first
                feeder.feed_data(data)
            half_open.early.clear()
            half_open.stdin = feeder
            if half_open.eof:  # stdin ended before the container started
                feeder.feed_eof()
    try:
        while True:
            receiving = asyncio.ensure_future(loop.sock_recv(sock, 1 << 16))
            try:
                data = await watch(request, receiving)
            finally:
                receiving.cancel()
            if not data:
                break
            await response.write(data)
    finally:
        if feeder is not None:
            feeder.close()


@routes.post("/containers/{id}/attach")
async def attach(request: web.Request) -> web.StreamResponse:
    from dockyard.runtime.shim import client

    eng = engine(request)
    q = request.query
    doc: dict[str, Any] = await call(request, eng.containers.inspect, request.match_info["id"])
    cid = doc["Id"]
    tty = bool((doc.get("Config") or {}).get("Tty"))
    future: asyncio.Future[socket.socket] | None = None
    sock: socket.socket | None = None
    if (doc.get("State") or {}).get("Running"):
        sock = await call(request, client.connect_attach, eng.containers.state_dir(cid))
    else:
        if parked(request.app, cid) is not None:
            raise errors.Conflict(f"container {cid[:12]} has an attach waiting already")
        future = asyncio.get_running_loop().create_future()
        request.app[_PARKED][cid] = future
    upgrade = request.headers.get("Upgrade", "").lower() == "tcp"
    headers = {"Content-Type": f"application/vnd.docker.{'raw' if tty else 'multiplexed'}-stream"}
    if upgrade:
        headers.update({"Connection": "Upgrade", "Upgrade": "tcp"})
    response = web.StreamResponse(status=101 if upgrade else 200,
                                  reason="UPGRADED" if upgrade else None, headers=headers)
    response.force_close()  # the connection is the container's stream: nothing follows it
    half_open = _hold_half_open(request) if upgrade else None
    try:
        await response.prepare(request)
        if future is not None:
            try:
                sock = await watch(request, future)
            finally:
                future.cancel()  # no-op once started; otherwise start runs detached
        assert sock is not None
        with sock:
            await _copy_out(request, response, sock, _params.boolean(q.get("stdin")), half_open)
        _waits.hint(request.app, cid)  # the shim hung up: the command has exited
    except (ConnectionError, errors.DockyardError):
        pass  # the client left, or the start failed (its error went to the start call)
    finally:
        if future is not None and request.app[_PARKED].get(cid) is future:
            del request.app[_PARKED][cid]
    return response


@routes.post("/containers/{id}/resize")
async def resize(request: web.Request) -> web.Response:
    from dockyard.runtime.shim import client

    eng = engine(request)
    try:
        rows, cols = int(request.query.get("h", "0")), int(request.query.get("w", "0"))
    except ValueError as exc:
        raise errors.InvalidArgument(f"invalid size: {exc}") from exc
    record = await call(request, eng.containers.resolve, request.match_info["id"])
    await call(request, client.resize, eng.containers.state_dir(record.id), rows, cols)
    return web.Response(status=200)
