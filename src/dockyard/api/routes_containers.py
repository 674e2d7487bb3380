"""Containers: list, create, inspect, start, stop, kill, restart, wait, logs, remove, prune.

A thin shell over ``engine.containers``, whose requests already have the Engine API's shape
(``Config`` with ``HostConfig``). Attach is in ``routes_attach.py``; ``start`` hands a parked
attach its stream once the command runs, or fails as dockerd does when it cannot (the attach
is released, and the client gets the error and its 126/127). ``--rm`` (``AutoRemove``) is done
here: a task removes the container when it stops (or at once when its start failed), while
this daemon runs. Waits are ``_waits.wait_exit``: they wake as soon as the daemon sees an
attach stream end or stops or removes a container itself. Not here: exec, top, stats, export,
archive.

``wait`` answers its headers at once and its body when the container stops (as dockerd does,
so a client may wait before it starts). ``logs`` streams Docker's multiplexed frames (8-byte
header: stream, 0, 0, 0, big-endian length) unless the container has a TTY.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from dockyard import errors
from dockyard.api import _params, _waits
from dockyard.api._work import call, engine, json_response, stream_chunks
from dockyard.service.engine import Engine

__all__ = ["routes", "setup"]

routes = web.RouteTableDef()
log = logging.getLogger("dockyard.api")

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


START_WAIT_S = 10.0  # how long an attached start waits to see its command run
START_POLL_S = 0.002


def _start_outcome(eng: Engine, container_id: str) -> errors.DockyardError | None:
    """After the attach connected (the shim then runs the runtime's create and start): None
    once the command runs, or ran and ended; the StartError when it could not start.

    The shim's files tell (``runtime/shim/config.py``): ``exit.json`` with the runtime's
    ``start-failed`` mark is a failed start; ``state.json`` naming the pid the runtime left in
    the shim's ``pid_file`` is the adopted, running init. Past START_WAIT_S the command is
    taken as running (the stream and ``wait`` tell the rest)."""
    from dockyard.runtime.shim import client, config
    from dockyard.service.containers import runtimes
    from dockyard.service.containers.start import rootfs_dirs, start_failure

    state_dir = eng.containers.state_dir(container_id)
    try:
        pid_file = config.load(state_dir).pid_file
    except errors.DockyardError:
        return None  # nothing to tell by: the stream and ``wait`` will
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        if client.read_exit(state_dir) is not None:
            if not os.path.exists(os.path.join(state_dir, runtimes.START_FAILED)):
                return None
            record = eng.containers.resolve(container_id)
            return start_failure(state_dir, eng.containers.log_path(container_id),
                                 rootfs_dirs(eng.containers, record))
        state = client.read_state(state_dir) or {}
        pid = int(state.get("pid") or 0)
        if state.get("status") == "running" and pid and (pid_file is None or
                                                         pid == _read_pid(pid_file)):
            return None
        time.sleep(START_POLL_S)
    return None


def _read_pid(path: str) -> int:
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def _start_attached(eng: Engine, container_id: str) -> socket.socket:
    """Start *container_id* for a parked attach; its output stream once the command runs.
    Raises StartError (the command could not start), and what ``start`` raises."""
    from dockyard.runtime.shim import client
    from dockyard.service.containers import networking

    eng.containers.start(container_id, attach=True)
    sock = client.connect_attach(eng.containers.state_dir(container_id))  # the shim goes on
    try:
        failure = _start_outcome(eng, container_id)
    except BaseException:
        sock.close()
        raise
    if failure is not None:
        sock.close()  # the runtime's complaint is the start's error, not the container's output
        networking.release(eng.containers, eng.containers.resolve(container_id))  # as start does
        raise failure
    return sock


_NOT_FOUND_WORDS = ("executable file not found", "no such file or directory",
                    "system cannot find the file specified")


def _docker_error(exc: BaseException) -> BaseException:
    """A failed start as dockerd words it: the docker CLI picks ``run``'s exit code from the
    words (``_NOT_FOUND_WORDS`` 127, "permission denied" 126, else 125), and dockerd answers
    400 for a command that cannot run. The builtin runtime's "no such file or not executable"
    becomes the words of the case ``start_failure`` found."""
    from dockyard.service.containers.start import StartError

    if not isinstance(exc, StartError) or exc.exit_code not in (126, 127):
        return exc
    words = "no such file or directory" if exc.exit_code == 127 else "permission denied"
    message = exc.message.replace("no such file or not executable", words)
    if exc.exit_code == 127 and not any(w in message for w in _NOT_FOUND_WORDS):
        message = f"{message}: {words}"  # crun's "No such file or directory", say
    return errors.InvalidArgument(message)


@routes.post("/containers/{id}/start")
async def start(request: web.Request) -> web.Response:
    from dockyard.api.routes_attach import parked

    eng = engine(request)
    record = await call(request, eng.containers.resolve, request.match_info["id"])
    waiting = parked(request.app, record.id)
    auto_remove = bool(record.host_config.get("AutoRemove"))
    try:
        if waiting is None:
            started = await call(request, eng.containers.start, record.id) is not None
        else:  # a client attached before starting (docker run): the shim waits for it
            sock = await call(request, _start_attached, eng, record.id)
            if waiting.done():
                sock.close()
            else:
                waiting.set_result(sock)
            started = True
    except BaseException as exc:
        error = _docker_error(exc)
        if waiting is not None and not waiting.done():  # release the parked attach
            waiting.set_exception(error if isinstance(error, errors.DockyardError)
                                  else errors.Unavailable("the container did not start"))
        if auto_remove and isinstance(exc, errors.DockyardError):
            await _remove_failed(request, eng, record.id)  # as dockerd: `run --rm` ends
        if error is exc:
            raise
        raise error from exc
    if started and auto_remove:
        _remove_when_stopped(request, record.id)
    return web.Response(status=204 if started else 304)


async def _remove_failed(request: web.Request, eng: Engine, container_id: str) -> None:
    try:
        await call(request, eng.containers.remove, container_id, True)
    except errors.DockyardError as exc:
        log.warning("could not remove %s after its failed start: %s", container_id[:12], exc)
    _waits.hint(request.app, container_id)


def _remove_when_stopped(request: web.Request, container_id: str) -> None:
    """``--rm``: remove the container once it stops (while this daemon runs)."""
    app, eng = request.app, engine(request)
    tasks: set[asyncio.Task[None]] = app[_AUTO_REMOVE]

    async def remove_later() -> None:
        try:
            record = await call(request, eng.containers.resolve, container_id)
            await _waits.wait_exit(app, eng, record)
            await call(request, eng.containers.remove, container_id, True)
        except (errors.DockyardError, ConnectionError):
            pass
        _waits.hint(app, container_id)

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
    record = await call(request, engine(request).containers.resolve, request.match_info["id"])
    try:
        await call(request, engine(request).containers.stop, record.id, _timeout(request))
    finally:
        _waits.hint(request.app, record.id)
    return web.Response(status=204)


@routes.post("/containers/{id}/restart")
async def restart(request: web.Request) -> web.Response:
    await call(request, engine(request).containers.restart, request.match_info["id"],
               _timeout(request))
    return web.Response(status=204)


@routes.post("/containers/{id}/kill")
async def kill(request: web.Request) -> web.Response:
    record = await call(request, engine(request).containers.resolve, request.match_info["id"])
    await call(request, engine(request).containers.kill, record.id,
               request.query.get("signal") or "KILL")
    _waits.hint(request.app, record.id)
    return web.Response(status=204)


@routes.delete("/containers/{id}")
async def remove(request: web.Request) -> web.Response:
    q = request.query
    record = await call(request, engine(request).containers.resolve, request.match_info["id"])
    try:
        await call(request, engine(request).containers.remove, record.id,
                   _params.boolean(q.get("force")), _params.boolean(q.get("v")))
    finally:
        _waits.hint(request.app, record.id)
    return web.Response(status=204)


@routes.post("/containers/{id}/wait")
async def wait(request: web.Request) -> web.StreamResponse:
    eng = engine(request)
    ref = request.match_info["id"]
    condition = request.query.get("condition") or "not-running"
    if condition not in _waits.CONDITIONS:
        raise errors.InvalidArgument(f"invalid condition: {condition!r}")
    record = await call(request, eng.containers.resolve, ref)  # a 404 before the headers
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)  # the client may start the container now
    try:
        code = await _waits.wait_exit(request.app, eng, record, condition, request)
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
