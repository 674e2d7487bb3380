"""Containers: list, create, inspect, start, stop, kill, restart, wait, logs, remove, prune.

A thin shell over ``engine.containers``, whose requests already have the Engine API's shape
(``Config`` with ``HostConfig``). Attach is in ``routes_attach.py``; ``start`` hands a parked
attach its stream. ``--rm`` (``AutoRemove``) is done here: a task removes the container when it
stops, while this daemon runs. Not here yet: exec, top, stats, export, archive.

``wait`` answers its headers at once and its body when the container stops (as dockerd does,
so a client may wait before it starts). ``logs`` streams Docker's multiplexed frames (8-byte
header: stream, 0, 0, 0, big-endian length) unless the container has a TTY.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
from collections.abc import Callable
from typing import Any

from aiohttp import web

from dockyard import errors
from dockyard.api import _params
from dockyard.api._work import call, engine, json_response, stream_chunks, watch
from dockyard.service.engine import Engine

__all__ = ["routes", "setup"]

routes = web.RouteTableDef()

_AUTO_REMOVE = web.AppKey("auto_remove_tasks", set)


def setup(app: web.Application) -> None:
    app[_AUTO_REMOVE] = set()

_STREAMS = {"stdin": 0, "stdout": 1, "stderr": 2}


@routes.get("/containers/json")
async def list_containers(request: web.Request) -> web.Response:
    q = request.query
    limit = _int(q.get("limit"), "limit")
    rows = await call(request, engine(request).containers.list, _params.boolean(q.get("all")),
                      _params.filters(q.get("filters")), limit if limit and limit > 0 else -1)
    return json_response(rows)


@routes.post("/containers/create")
async def create(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError as exc:
        raise errors.InvalidArgument(f"invalid container configuration: {exc}") from exc
    if not isinstance(body, dict):
        raise errors.InvalidArgument("invalid container configuration: not a JSON object")
    host_config = body.pop("HostConfig", None) or {}
    body.pop("NetworkingConfig", None)
    result = await call(request, engine(request).containers.create, body, host_config,
                        request.query.get("name") or None)
    return json_response({"Id": result.id, "Warnings": result.warnings}, status=201)


@routes.post("/containers/prune")
async def prune(request: web.Request) -> web.Response:
    flt = _params.filters(request.query.get("filters"))
    until = (flt.pop("until", None) or [""])[-1] or None
    labels = flt.pop("label", None)
    if flt:
        raise errors.InvalidArgument(f"invalid filter '{sorted(flt)[0]}'")
    report = await call(request, engine(request).containers.prune, until, labels)
    return json_response(report)


@routes.get("/containers/{id}/json")
async def inspect(request: web.Request) -> web.Response:
    return json_response(await call(request, engine(request).containers.inspect,
                                    request.match_info["id"]))


def _start_attached(eng: Engine, container_id: str) -> socket.socket:
    from dockyard.runtime.shim import client

    eng.containers.start(container_id, attach=True)
    return client.connect_attach(eng.containers.state_dir(container_id))


@routes.post("/containers/{id}/start")
async def start(request: web.Request) -> web.Response:
    from dockyard.api.routes_attach import parked

    eng = engine(request)
    record = await call(request, eng.containers.resolve, request.match_info["id"])
    waiting = parked(request.app, record.id)
    if waiting is None:
        info = await call(request, eng.containers.start, record.id)
        started = info is not None
    else:  # a client attached before starting (docker run): the shim waits for it
        try:
            sock = await call(request, _start_attached, eng, record.id)
        except errors.DockyardError as exc:
            if not waiting.done():
                waiting.set_exception(exc)
            raise
        if waiting.done():
            sock.close()
        else:
            waiting.set_result(sock)
        started = True
    if started and record.host_config.get("AutoRemove"):
        _remove_when_stopped(request, record.id)
    return web.Response(status=204 if started else 304)


def _remove_when_stopped(request: web.Request, container_id: str) -> None:
    """``--rm``: remove the container once it stops (while this daemon runs)."""
    eng = engine(request)
    tasks: set[asyncio.Task[None]] = request.app[_AUTO_REMOVE]

    async def remove_later() -> None:
        try:
            await call(request, eng.containers.wait, container_id)
            await call(request, eng.containers.remove, container_id, True)
        except errors.DockyardError:
            pass

    task = asyncio.get_running_loop().create_task(remove_later())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def _int(value: str | None, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise errors.InvalidArgument(f"invalid {what}: {value!r}") from exc


def _timeout(request: web.Request) -> int | None:
    return _int(request.query.get("t") or request.query.get("timeout"), "timeout")


@routes.post("/containers/{id}/stop")
async def stop(request: web.Request) -> web.Response:
    await call(request, engine(request).containers.stop, request.match_info["id"], _timeout(request))
    return web.Response(status=204)


@routes.post("/containers/{id}/restart")
async def restart(request: web.Request) -> web.Response:
    await call(request, engine(request).containers.restart, request.match_info["id"],
               _timeout(request))
    return web.Response(status=204)


@routes.post("/containers/{id}/kill")
async def kill(request: web.Request) -> web.Response:
    await call(request, engine(request).containers.kill, request.match_info["id"],
               request.query.get("signal") or "KILL")
    return web.Response(status=204)


@routes.delete("/containers/{id}")
async def remove(request: web.Request) -> web.Response:
    q = request.query
    await call(request, engine(request).containers.remove, request.match_info["id"],
               _params.boolean(q.get("force")), _params.boolean(q.get("v")))
    return web.Response(status=204)


@routes.post("/containers/{id}/wait")
async def wait(request: web.Request) -> web.StreamResponse:
    eng = engine(request)
    ref = request.match_info["id"]
    condition = request.query.get("condition") or "not-running"
    record = await call(request, eng.containers.resolve, ref)  # a 404 before the headers
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)  # the client may start the container now
    try:
        code = await watch(request, asyncio.ensure_future(call(request, _wait, eng, record.id,
                                                               condition)))
        body: dict[str, Any] = {"StatusCode": code, "Error": None}
    except errors.DockyardError as exc:
        body = {"StatusCode": -1, "Error": {"Message": exc.message}}
    except ConnectionError:
        return response  # the client left, or the daemon is stopping
    try:
        await response.write(json.dumps(body).encode() + b"\n")
    except ConnectionError:
        pass
    return response


def _wait(eng: Engine, container_id: str, condition: str) -> int:
    """The exit code; Docker's 125/126/127 when the runtime could not start the command (a
    container started for an attach reports that only after the start call returned)."""
    from dockyard.service.containers import runtimes
    from dockyard.service.containers.start import rootfs_dirs, start_failure

    record = eng.containers.resolve(container_id)
    state_dir = eng.containers.state_dir(container_id)
    code = eng.containers.wait(container_id, condition)
    if os.path.exists(os.path.join(state_dir, runtimes.START_FAILED)):
        failure = start_failure(state_dir, eng.containers.log_path(container_id),
                                rootfs_dirs(eng.containers, record))
        return failure.exit_code
    return code


def _log_job(eng: Engine, ref: str, q: Any, tty: bool) -> Callable[[Callable[[bytes], None]], None]:
    from dockyard.runtime.logs import format_time

    wanted = {name for name in ("stdout", "stderr") if _params.boolean(q.get(name))}
    tail_value = q.get("tail") or "all"
    tail = None if tail_value == "all" else _int(tail_value, "tail")
    stamps = _params.boolean(q.get("timestamps"))
    follow = _params.boolean(q.get("follow"))

    def job(write: Callable[[bytes], None]) -> None:
        entries = eng.containers.logs(ref, follow=follow, tail=tail,
                                      since=q.get("since") or None, until=q.get("until") or None)
        for entry in entries:
            if entry.stream not in wanted:
                continue
            text = (format_time(entry.time_ns, fixed=True) + " " if stamps else "") + entry.text
            data = text.encode()
            if tty:
                write(data)
            else:
                write(struct.pack(">BxxxL", _STREAMS[entry.stream], len(data)) + data)

    return job


@routes.get("/containers/{id}/logs")
async def logs(request: web.Request) -> web.StreamResponse:
    eng = engine(request)
    ref = request.match_info["id"]
    q = request.query
    if not (_params.boolean(q.get("stdout")) or _params.boolean(q.get("stderr"))):
        raise errors.InvalidArgument("Bad parameters: you must choose at least one stream")
    doc = await call(request, eng.containers.inspect, ref)
    tty = bool((doc.get("Config") or {}).get("Tty"))
    kind = "raw-stream" if tty else "multiplexed-stream"
    return await stream_chunks(request, _log_job(eng, ref, q, tty),
                               {"Content-Type": f"application/vnd.docker.{kind}"})
