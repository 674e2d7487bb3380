"""Container tools over the Engine API: top, changes, pause/unpause, rename.

Each handler runs the service call in the pool (``call``) and answers Docker's JSON shape.
"""

from __future__ import annotations

from typing import BinaryIO

from aiohttp import web

from dockyard.api._work import call, engine, json_response

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/containers/{id}/top")
async def top(request: web.Request) -> web.Response:
    svc = engine(request).containers
    ps_args = request.query.get("ps_args") or ""
    return json_response(await call(request, svc.top, request.match_info["id"], ps_args.split()))


@routes.get("/containers/{id}/changes")
async def changes(request: web.Request) -> web.Response:
    svc = engine(request).containers
    return json_response(await call(request, svc.changes, request.match_info["id"]))


@routes.post("/containers/{id}/pause")
async def pause(request: web.Request) -> web.Response:
    await call(request, engine(request).containers.pause, request.match_info["id"])
    return web.Response(status=204)


@routes.post("/containers/{id}/unpause")
async def unpause(request: web.Request) -> web.Response:
    await call(request, engine(request).containers.unpause, request.match_info["id"])
    return web.Response(status=204)


@routes.post("/containers/{id}/rename")
async def rename(request: web.Request) -> web.Response:
    from dockyard import errors

    name = request.query.get("name")
    if not name:
        raise errors.InvalidArgument("Neither old nor new names may be empty")
    await call(request, engine(request).containers.rename, request.match_info["id"], name)
    return web.Response(status=204)


def _stat_header(info: dict[str, object]) -> str:
    import base64
    import json

    return base64.b64encode(json.dumps(info).encode()).decode()


@routes.get("/containers/{id}/archive")
async def archive_get(request: web.Request) -> web.StreamResponse:
    """GET: a tar of ``path``; HEAD (served by the GET route): only its stat header."""
    from dockyard import errors
    from dockyard.api._work import worker_to_response

    svc = engine(request).containers
    ref, path = request.match_info["id"], request.query.get("path")
    if not path:
        raise errors.InvalidArgument("path is required")
    info = await call(request, svc.stat_path, ref, path)
    headers = {"X-Docker-Container-Path-Stat": _stat_header(info)}
    if request.method == "HEAD":
        return web.Response(status=200, headers=headers)
    headers["Content-Type"] = "application/x-tar"

    def job(out: BinaryIO) -> None:
        svc.archive(ref, path, out)

    return await worker_to_response(request, job, headers)


@routes.put("/containers/{id}/archive")
async def archive_put(request: web.Request) -> web.Response:
    from dockyard import errors
    from dockyard.api._work import body_to_worker

    svc = engine(request).containers
    ref, path = request.match_info["id"], request.query.get("path")
    if not path:
        raise errors.InvalidArgument("path is required")
    await call(request, svc.resolve, ref)
    await body_to_worker(request, lambda src: svc.extract(ref, path, src))
    return web.Response(status=200)


@routes.post("/commit")
async def commit(request: web.Request) -> web.Response:
    from dockyard import errors
    from dockyard.api import _params

    q = request.query
    container = q.get("container")
    if not container:
        raise errors.InvalidArgument("container is required")
    repo = q.get("repo") or ""
    ref = f"{repo}:{q['tag']}" if repo and q.get("tag") else repo or None
    changes = q.getall("changes", [])
    svc = engine(request).containers
    image_id = await call(
        request,
        lambda: svc.commit(container, ref, comment=q.get("comment") or "",
                           author=q.get("author") or "", changes=[c for c in changes if c],
                           pause=_params.boolean(q.get("pause"), True)),
    )  # fmt: skip
    return json_response({"Id": image_id}, status=201)


@routes.get("/containers/{id}/export")
async def export(request: web.Request) -> web.StreamResponse:
    from dockyard.api._work import worker_to_response

    svc = engine(request).containers
    ref = request.match_info["id"]
    await call(request, svc.resolve, ref)
    headers = {"Content-Type": "application/x-tar"}
    return await worker_to_response(request, lambda out: svc.export(ref, out), headers)


@routes.get("/containers/{id}/stats")
async def stats(request: web.Request) -> web.StreamResponse:
    """One document (``stream=false``; with ``precpu_stats`` unless ``one-shot``) or one
    per second until the client leaves."""
    import asyncio
    import json

    from dockyard.api import _params
    from dockyard.api._work import STOPPING

    svc = engine(request).containers
    ref = request.match_info["id"]
    record = await call(request, svc.resolve, ref)
    stream = _params.boolean(request.query.get("stream"), True)
    first = await call(request, svc.stats, record.id)
    if not stream:
        if _params.boolean(request.query.get("one-shot")):
            return json_response(first)
        await asyncio.sleep(0.5)
        return json_response(await call(request, svc.stats, record.id, first))
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    previous = first
    try:
        while not request.app[STOPPING].is_set():
            await response.write(json.dumps(previous).encode() + b"\n")
            await asyncio.sleep(1.0)
            if request.transport is None or request.transport.is_closing():
                break
            previous = await call(request, svc.stats, record.id, previous)
    except (ConnectionError, RuntimeError):
        pass
    return response


@routes.post("/containers/{id}/update")
async def update(request: web.Request) -> web.Response:
    body = await request.json() if request.can_read_body else {}
    svc = engine(request).containers
    warnings = await call(request, svc.update, request.match_info["id"], body or {})
    return json_response({"Warnings": warnings})
