"""Containers: a placeholder until the container service exists.

``GET /containers/json`` answers an empty list so ``docker ps`` works against the daemon. The
container engineer replaces this module with the real routes (create, start, wait, logs, …).
"""

from __future__ import annotations

from aiohttp import web

from dockyard.api._work import json_response

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/containers/json")
async def list_containers(request: web.Request) -> web.Response:
    return json_response([])
