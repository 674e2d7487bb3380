"""Images as archives: ``save`` (``GET /images/{name}/get``, ``/images/get?names=``),
``load`` (``POST /images/load``) and ``import`` (``POST /images/create?fromSrc=-``).

Archive bytes flow through pipes between the request/response and a pool thread
(``_work.body_to_worker`` / ``worker_to_response``), never whole in memory.
"""

from __future__ import annotations

import json
from typing import BinaryIO

from aiohttp import web

from dockyard import errors
from dockyard.api._work import body_to_worker, engine, json_response, worker_to_response
from dockyard.service import image_transfer

__all__ = ["import_from_body", "routes"]

routes = web.RouteTableDef()

_TAR = {"Content-Type": "application/x-tar"}


async def _save(request: web.Request, names: list[str]) -> web.StreamResponse:
    if not names:
        raise errors.InvalidArgument("no image names given")
    eng = engine(request)

    def job(out: BinaryIO) -> None:
        image_transfer.save_images(eng, names, out)

    return await worker_to_response(request, job, _TAR)


@routes.get("/images/get")
async def save_many(request: web.Request) -> web.StreamResponse:
    return await _save(request, request.query.getall("names", []))


@routes.get("/images/{name:.+}/get")
async def save_one(request: web.Request) -> web.StreamResponse:
    return await _save(request, [request.match_info["name"]])


@routes.post("/images/load")
async def load(request: web.Request) -> web.Response:
    eng = engine(request)
    platform = request.query.get("platform") or None

    def job(stream: BinaryIO) -> list[str]:
        return image_transfer.load_images(eng, stream, platform)

    lines = await body_to_worker(request, job)
    body = b"".join(json.dumps({"stream": line + "\n"}).encode() + b"\r\n" for line in lines)
    return web.Response(body=body, content_type="application/json")


async def import_from_body(request: web.Request) -> web.Response:
    """``POST /images/create?fromSrc=-``: the body is a rootfs tarball; answers its image id.

    Raises InvalidArgument (a URL source, a bad reference, change or tarball).
    """
    q = request.query
    source = q.get("fromSrc", "")
    if source != "-":
        raise errors.InvalidArgument(
            f"importing from {source!r} is not supported: send the tarball as the body (fromSrc=-)"
        )
    repo, tag = q.get("repo", ""), q.get("tag", "")
    ref = (f"{repo}:{tag}" if tag else repo) or None
    eng = engine(request)
    changes = tuple(q.getall("changes", []))
    message = q.get("message", "")
    platform = q.get("platform") or None

    def job(stream: BinaryIO) -> str:
        req = image_transfer.ImportRequest("-", stream, ref, changes, message, platform)
        return image_transfer.import_image(eng, req)

    image_id = await body_to_worker(request, job)
    return json_response({"status": image_id})
