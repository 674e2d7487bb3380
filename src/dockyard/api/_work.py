"""How handlers get work done without blocking the event loop.

Every Engine call (SQLite, disk, registry I/O) runs in the daemon's thread pool through
``call``. Long operations stream: ``json_lines`` runs a job that emits Docker JSON messages
(pull and push progress) as it goes; ``body_to_worker`` and ``worker_to_response`` connect a
job to the request or response body through an OS pipe, so a multi-gigabyte ``load`` or
``save`` never sits in memory and a slow peer slows the job down (the pipe is the back-pressure).

The event-loop end of each pipe is non-blocking and waited on with ``add_reader`` /
``add_writer``; the job's end is an ordinary blocking file. Imports aiohttp and the service
layer's Engine only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from functools import partial
from typing import Any, BinaryIO, TypeVar

from aiohttp import web

from dockyard.api import versions
from dockyard.api._errors import stream_error
from dockyard.service.engine import Engine

__all__ = ["ENGINE", "EXECUTOR", "body_to_worker", "call", "engine", "json_lines", "json_response",
           "request_version", "worker_to_response"]

T = TypeVar("T")
Emit = Callable[[dict[str, Any]], None]

ENGINE = web.AppKey("engine", Engine)
EXECUTOR = web.AppKey("executor", Executor)
CHUNK = 1 << 16
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


async def _start_json(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    return response


async def json_lines(request: web.Request, job: Callable[[Emit], None]) -> web.StreamResponse:
    """Run ``job(emit)`` in the pool and stream every object it emits as one JSON line.

    An error before the first object is an ordinary HTTP error (the middleware maps it); after
    that the stream ends with Docker's ``{"errorDetail": …}`` object, as dockerd does.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    def emit(obj: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, obj)

    future = loop.run_in_executor(request.app[EXECUTOR], job, emit)
    future.add_done_callback(_consume)
    future.add_done_callback(lambda _: queue.put_nowait(_DONE))
    response: web.StreamResponse | None = None
    try:
        while (item := await queue.get()) is not _DONE:
            if response is None:
                response = await _start_json(request)
            await response.write(_line(item))
        exc = future.exception()
        if response is None:
            if exc is not None:
                raise exc
            response = await _start_json(request)
        elif exc is not None:
            await response.write(_line(stream_error(exc)))
    except ConnectionError:
        if response is None:
            raise
    return response  # aiohttp ends the body (and shrugs off a client that left)


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
