"""How handlers get work done without blocking the event loop.

Every Engine call (SQLite, disk, registry I/O) runs in the daemon's thread pool through
``call``. Long operations stream: ``stream_chunks`` runs a job that writes chunks (container
logs) as it goes, ``json_lines`` one that emits Docker JSON messages (pull and push progress); ``body_to_worker`` and ``worker_to_response`` connect a
job to the request or response body through an OS pipe, so a multi-gigabyte ``load`` or
``save`` never sits in memory and a slow peer slows the job down (the pipe is the back-pressure).

The event-loop end of each pipe is non-blocking and waited on with ``add_reader`` /
``add_writer``; the job's end is an ordinary blocking file. Imports aiohttp and the service
layer's Engine only.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from functools import partial
from typing import Any, BinaryIO, TypeVar

from aiohttp import web

from dockyard.api import versions
from dockyard.api._errors import stream_error
from dockyard.service.engine import Engine

__all__ = ["ENGINE", "EXECUTOR", "STOPPING", "body_to_worker", "call", "engine", "json_lines", "json_response",
           "request_version", "stream_chunks", "watch",
           "worker_to_response"]

T = TypeVar("T")
Emit = Callable[[dict[str, Any]], None]

ENGINE = web.AppKey("engine", Engine)
EXECUTOR = web.AppKey("executor", Executor)
STOPPING = web.AppKey("stopping", asyncio.Event)  # set when the daemon shuts down
CHUNK = 1 << 16
QUEUE_MAX = 64  # chunks a streaming job may run ahead of its client
CLIENT_CHECK_S = 0.5  # how often a quiet stream checks that its client is still there
log = logging.getLogger("dockyard.api")
_DONE = object()


def request_version(request: web.Request) -> str:
    """The API version of *request*: its ``/v1.NN`` prefix, else the newest."""
    return request.match_info.get("api_version") or versions.MAX_API_VERSION


def engine(request: web.Request) -> Engine:
    return request.app[ENGINE]


async def call(request: web.Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in the thread pool; its exceptions propagate."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(request.app[EXECUTOR], partial(fn, *args, **kwargs))


def json_response(obj: Any, status: int = 200) -> web.Response:
    """A JSON answer with ``Content-Type: application/json`` exactly (no charset): the docker
    client reads error bodies only under that exact type."""
    return web.Response(body=json.dumps(obj).encode(), status=status,
                        headers={"Content-Type": "application/json"})


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: a job whose client went away ends quietly


def _line(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\r\n"


def _client_left(request: web.Request) -> bool:
    return request.transport is None or request.transport.is_closing()


async def watch(request: web.Request, future: asyncio.Future[T]) -> T:
    """*future*'s result, unless the client leaves or the daemon stops first: then raise
    ConnectionResetError (a pool job behind *future* runs on; the caller makes it stop)."""
    while True:
        done, _ = await asyncio.wait([future], timeout=CLIENT_CHECK_S)
        if done:
            return future.result()
        if _client_left(request) or request.app[STOPPING].is_set():
            raise ConnectionResetError("the client went away, or the daemon is stopping")


async def stream_chunks(
    request: web.Request,
    job: Callable[[Callable[[bytes], None]], None],
    headers: Mapping[str, str],
    trailer: Callable[[BaseException], bytes] | None = None,
) -> web.StreamResponse:
    """Run ``job(write)`` in the pool and stream every chunk it writes, as it writes it.

    An error before the first chunk is an ordinary HTTP error (the middleware maps it); a
    later one ends the stream with ``trailer(exc)`` (when given). ``write`` blocks while the
    client is ``QUEUE_MAX`` chunks behind, and raises BrokenPipeError once the client has gone,
    which ends the job (a ``logs --follow`` of a silent container included).
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue(QUEUE_MAX)
    left = threading.Event()

    def write(data: bytes) -> None:
        handed = asyncio.run_coroutine_threadsafe(queue.put(data), loop)
        while True:
            if left.is_set():
                handed.cancel()
                raise BrokenPipeError("the client went away")
            try:
                handed.result(timeout=CLIENT_CHECK_S)
                return
            except concurrent.futures.TimeoutError:
                continue

    def run() -> None:
        try:
            job(write)
        finally:
            asyncio.run_coroutine_threadsafe(queue.put(_DONE), loop)

    future = loop.run_in_executor(request.app[EXECUTOR], run)
    future.add_done_callback(_consume)
    response: web.StreamResponse | None = None
    try:
        while True:
            getter = asyncio.ensure_future(queue.get())
            try:
                item = await watch(request, getter)
            except ConnectionResetError:  # nobody to answer, or the daemon is stopping
                return response if response is not None else web.StreamResponse(headers=headers)
            finally:
                getter.cancel()
            if item is _DONE:
                break
            if response is None:
                response = web.StreamResponse(headers=headers)
                await response.prepare(request)
            await response.write(item)
        await asyncio.wait([future])
        exc = future.exception()
        if response is None:
            if exc is not None:
                raise exc
            response = web.StreamResponse(headers=headers)
            await response.prepare(request)
        elif exc is not None and trailer is not None:
            await response.write(trailer(exc))
    except ConnectionError:
        if response is None:
            raise
    finally:
        left.set()
        while not queue.empty():  # unblock a job waiting to hand over a chunk
            queue.get_nowait()
    return response  # aiohttp ends the body (and shrugs off a client that left)


async def json_lines(request: web.Request, job: Callable[[Emit], None]) -> web.StreamResponse:
    """Run ``job(emit)`` in the pool and stream every object it emits as one JSON line.

    An error before the first object is an ordinary HTTP error; after that the stream ends
    with Docker's ``{"errorDetail": …}`` object, as dockerd does.
    """

    def run(write: Callable[[bytes], None]) -> None:
        job(lambda obj: write(_line(obj)))

    return await stream_chunks(request, run, {"Content-Type": "application/json"},
                               lambda exc: _line(stream_error(exc)))


async def _wait_fd(loop: asyncio.AbstractEventLoop, fd: int, writable: bool) -> None:
    waiter: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not waiter.done():
            waiter.set_result(None)

    (loop.add_writer if writable else loop.add_reader)(fd, ready)
    try:
        await waiter
    finally:
        (loop.remove_writer if writable else loop.remove_reader)(fd)


async def _write_all(loop: asyncio.AbstractEventLoop, fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            await _wait_fd(loop, fd, writable=True)


async def _read_some(loop: asyncio.AbstractEventLoop, fd: int) -> bytes:
    while True:
        try:
            return os.read(fd, CHUNK)
        except BlockingIOError:
            await _wait_fd(loop, fd, writable=False)


async def body_to_worker(request: web.Request, job: Callable[[BinaryIO], T]) -> T:
    """Run ``job(stream)`` in the pool, *stream* reading the request body as it arrives.

    Returns the job's result or raises its error. A job that stops reading early (an error)
    closes its end: the rest of the body is not fed.
    """
    loop = asyncio.get_running_loop()
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)

    def run() -> T:
        with open(read_fd, "rb", buffering=CHUNK) as stream:
            return job(stream)

    future = loop.run_in_executor(request.app[EXECUTOR], run)
    future.add_done_callback(_consume)
    try:
        async for chunk in request.content.iter_chunked(CHUNK):
            if future.done():
                break
            try:
                await _write_all(loop, write_fd, chunk)
            except BrokenPipeError:
                break
    finally:
        os.close(write_fd)
    return await future


async def worker_to_response(
    request: web.Request, job: Callable[[BinaryIO], None], headers: Mapping[str, str]
) -> web.StreamResponse:
    """Run ``job(out)`` in the pool and stream what it writes to *out* as the response body.

    An error before the first byte is an ordinary HTTP error; a later one cuts the response
    short (a truncated tar is what a reader notices). A client that goes away makes the job's
    next write fail with BrokenPipeError, which ends it.
    """
    loop = asyncio.get_running_loop()
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)

    def run() -> None:
        with open(write_fd, "wb", buffering=CHUNK) as out:
            job(out)

    future = loop.run_in_executor(request.app[EXECUTOR], run)
    future.add_done_callback(_consume)
    response: web.StreamResponse | None = None
    try:
        while chunk := await _read_some(loop, read_fd):
            if response is None:
                response = web.StreamResponse(headers=headers)
                await response.prepare(request)
            await response.write(chunk)
    except ConnectionError:
        if response is None:
            raise
        return response  # the client left; closing our end stops the job (EPIPE)
    finally:
        os.close(read_fd)
    try:
        await future
    except Exception as exc:
        if response is None:
            raise  # nothing sent yet: an ordinary HTTP error
        log.error("stream cut short: %s", exc)
        if request.transport is not None:
            request.transport.abort()  # a truncated body is what the client notices
        return response
    if response is None:
        response = web.StreamResponse(headers=headers)
        await response.prepare(request)
    return response
