"""The swarm and plugin routes of a daemon that is not in a swarm and holds no plugins.

Dockyard has no swarm mode. dockerd on a host where swarm is inactive still has these routes
and answers them with 503 and a sentence that says why; clients rely on that (the docker SDK's
test tear-downs call ``POST /swarm/leave``, ``docker node ls`` prints the sentence), so a 404
would read as a broken daemon. ``GET /plugins`` lists none, as dockerd with no plugins does.

Imports only ``errors`` and aiohttp.
"""

from __future__ import annotations

from aiohttp import web

from dockyard import errors
from dockyard.api._work import json_response

__all__ = ["routes"]

routes = web.RouteTableDef()

NOT_A_MANAGER = ('This node is not a swarm manager. Use "docker swarm init" or '
                 '"docker swarm join" to connect this node to swarm and try again.')
NOT_IN_SWARM = "This node is not part of a swarm"

# (method, path) of every swarm-mode route of the Engine API
_MANAGER_ROUTES = (
    ("GET", "/swarm"), ("POST", "/swarm/update"), ("GET", "/swarm/unlockkey"),
    ("GET", "/nodes"), ("GET", "/nodes/{id}"), ("DELETE", "/nodes/{id}"),
    ("POST", "/nodes/{id}/update"),
    ("GET", "/services"), ("POST", "/services/create"), ("GET", "/services/{id}"),
    ("DELETE", "/services/{id}"), ("POST", "/services/{id}/update"),
    ("GET", "/services/{id}/logs"),
    ("GET", "/tasks"), ("GET", "/tasks/{id}"), ("GET", "/tasks/{id}/logs"),
    ("GET", "/secrets"), ("POST", "/secrets/create"), ("GET", "/secrets/{id}"),
    ("DELETE", "/secrets/{id}"), ("POST", "/secrets/{id}/update"),
    ("GET", "/configs"), ("POST", "/configs/create"), ("GET", "/configs/{id}"),
    ("DELETE", "/configs/{id}"), ("POST", "/configs/{id}/update"),
)
# routes that need the node to be in a swarm, manager or not
_MEMBER_ROUTES = (("POST", "/swarm/leave"), ("POST", "/swarm/unlock"))


async def _not_a_manager(request: web.Request) -> web.Response:
    raise errors.Unavailable(NOT_A_MANAGER)


async def _not_in_swarm(request: web.Request) -> web.Response:
    raise errors.Unavailable(NOT_IN_SWARM)


for _method, _path in _MANAGER_ROUTES:
    routes.route(_method, _path)(_not_a_manager)
for _method, _path in _MEMBER_ROUTES:
    routes.route(_method, _path)(_not_in_swarm)


@routes.get("/plugins")
async def plugins(request: web.Request) -> web.Response:
    return json_response([])
