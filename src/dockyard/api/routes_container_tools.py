"""Container tools over the Engine API: top, changes, pause/unpause, rename.

Each handler runs the service call in the pool (``call``) and answers Docker's JSON shape.
"""

from __future__ import annotations

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
