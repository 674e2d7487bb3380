"""Volumes: list, create, inspect, remove, prune (``/volumes…``), over the volume service.

Filters arrive as Docker's JSON map and go to the service as the CLI's ``key=value`` strings,
so both shells filter alike. Volume events are the service's to emit, not this module's.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dockyard import errors
from dockyard.api import _params
from dockyard.api._work import call, engine, json_response
from dockyard.service.engine import Engine

__all__ = ["routes"]

routes = web.RouteTableDef()


def _filter_args(value: str | None) -> list[str]:
    return [f"{key}={v}" for key, values in _params.filters(value).items() for v in values]


def _list(eng: Engine, filter_args: list[str]) -> dict[str, Any]:
    return {"Volumes": [v.to_json() for v in eng.volumes.list_volumes(filter_args)],
            "Warnings": []}


@routes.get("/volumes")
async def list_volumes(request: web.Request) -> web.Response:
    args = _filter_args(request.query.get("filters"))
    return json_response(await call(request, _list, engine(request), args))


@routes.post("/volumes/create")
async def create(request: web.Request) -> web.Response:
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError as exc:
        raise errors.InvalidArgument(f"invalid volume configuration: {exc}") from exc
    if not isinstance(body, dict):
        raise errors.InvalidArgument("invalid volume configuration: not a JSON object")
    eng = engine(request)
    record = await call(request, eng.volumes.create, str(body.get("Name") or ""),
                        str(body.get("Driver") or "local"), dict(body.get("Labels") or {}),
                        dict(body.get("DriverOpts") or {}))
    return json_response(record.to_json(), status=201)


@routes.post("/volumes/prune")
async def prune(request: web.Request) -> web.Response:
    flt = _params.filters(request.query.get("filters"))
    all_volumes = _params.boolean((flt.pop("all", None) or ["false"])[-1])
    args = [f"{key}={v}" for key, values in flt.items() for v in values]
    removed, freed = await call(request, engine(request).volumes.prune, all_volumes, args)
    return json_response({"VolumesDeleted": removed or None, "SpaceReclaimed": freed})


@routes.get("/volumes/{name}")
async def inspect(request: web.Request) -> web.Response:
    doc = await call(request, engine(request).volumes.inspect, request.match_info["name"])
    return json_response(doc)


@routes.delete("/volumes/{name}")
async def remove(request: web.Request) -> web.Response:
    await call(request, engine(request).volumes.remove, request.match_info["name"],
               _params.boolean(request.query.get("force")))
    return web.Response(status=204)
