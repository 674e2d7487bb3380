"""Local images: list, inspect, history, tag, remove, prune, search.

Transfers (save, load, import) are in ``routes_image_transfer.py``; pull and push in
``routes_registry.py``. Shapes follow the Engine API: ``/images/json`` has one entry per image
(its tags in ``RepoTags``), times are Unix seconds.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dockyard import errors
from dockyard.api import _params, versions
from dockyard.api._work import call, engine, json_response, request_version
from dockyard.oci import reference
from dockyard.service.engine import Engine

__all__ = ["image_summaries", "routes"]

routes = web.RouteTableDef()


def _familiar(ref: str) -> str:
    try:
        return reference.parse(ref).familiar()
    except errors.InvalidArgument:
        return ref


def image_summaries(
    eng: Engine, all_images: bool, filters: dict[str, list[str]], api_version: str
) -> list[dict[str, Any]]:
    """``GET /images/json``: one summary per image, newest first. Raises InvalidArgument."""
    by_id: dict[str, dict[str, Any]] = {}
    for row in eng.images.list_images(all_images, filters):
        summary = by_id.get(row.id)
        if summary is None:
            summary = by_id[row.id] = {
                "Containers": len(eng.images.users(row.id)),
                "Created": _params.rfc3339_to_unix(row.created),
                "Id": row.id,
                "Labels": row.labels or {},
                "ParentId": "",
                "RepoDigests": [_familiar(d) for d in row.repo_digests],
                "RepoTags": [],
                "SharedSize": -1,
                "Size": row.size,
            }
            if not versions.at_least(api_version, "1.44"):
                summary["VirtualSize"] = row.size
        if row.repository != "<none>":
            summary["RepoTags"].append(f"{row.repository}:{row.tag}")
    return list(by_id.values())


@routes.get("/images/json")
async def list_images(request: web.Request) -> web.Response:
    q = request.query
    flt = _params.filters(q.get("filters"))
    if q.get("filter"):  # API < 1.25: a reference pattern of its own
        flt.setdefault("reference", []).append(q["filter"])
    summaries = await call(request, image_summaries, engine(request),
                           _params.boolean(q.get("all")), flt, request_version(request))
    return json_response(summaries)


@routes.get("/images/search")
async def search(request: web.Request) -> web.Response:
    return json_response([])  # no index to search: Dockyard talks to registries only


@routes.post("/images/prune")
async def prune(request: web.Request) -> web.Response:
    flt = _params.filters(request.query.get("filters"))
    dangling = flt.pop("dangling", ["true"])
    all_images = not _params.boolean(dangling[-1])
    results, freed = await call(request, engine(request).images.prune, all_images, flt)
    return json_response({"ImagesDeleted": results or None, "SpaceReclaimed": freed})


def _inspect(eng: Engine, name: str, api_version: str) -> dict[str, Any]:
    doc = eng.images.inspect(name)
    if not versions.at_least(api_version, "1.44"):
        doc["VirtualSize"] = doc["Size"]
        doc.setdefault("Container", "")
    return doc


@routes.get("/images/{name:.+}/json")
async def inspect(request: web.Request) -> web.Response:
    doc = await call(request, _inspect, engine(request), request.match_info["name"],
                     request_version(request))
    return json_response(doc)


@routes.get("/images/{name:.+}/history")
async def history(request: web.Request) -> web.Response:
    rows = await call(request, engine(request).images.history, request.match_info["name"])
    for row in rows:
        row["Created"] = _params.rfc3339_to_unix(str(row.get("Created") or ""))
    return json_response(rows)


@routes.post("/images/{name:.+}/tag")
async def tag(request: web.Request) -> web.Response:
    repo = request.query.get("repo", "")
    if not repo:
        raise errors.InvalidArgument("repository name must have at least one component")
    tag_ = request.query.get("tag", "")
    target = f"{repo}:{tag_}" if tag_ else repo
    await call(request, engine(request).images.tag, request.match_info["name"], target)
    return web.Response(status=201)


@routes.delete("/images/{name:.+}")
async def remove(request: web.Request) -> web.Response:
    q = request.query
    report = await call(request, engine(request).images.remove, request.match_info["name"],
                        _params.boolean(q.get("force")), not _params.boolean(q.get("noprune")))
    items = [{"Untagged": u} for u in report.untagged] + [{"Deleted": d} for d in report.deleted]
    return json_response(items)
