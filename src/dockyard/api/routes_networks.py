"""Networks: list, inspect, create, remove, prune, connect, disconnect (``/networks…``), over
the network service (``engine.networks``).

Filters arrive as Docker's JSON map and go to the service as the CLI's ``key=value`` strings,
so ``docker network ls --filter`` and ``dockyard network ls --filter`` agree. Network events
are the service's to emit. A running container is connected at once (through its network
namespace); a created or stopped one gets the network added to its ``NetworkingConfig``, which
the container service joins at start (compose connects containers before starting them).
Imports aiohttp, the api helpers and the service layer only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from dockyard import errors
from dockyard.api import _params
from dockyard.api._work import call, engine, json_response
from dockyard.service.engine import Engine
from dockyard.service.networks import PSEUDO_NETWORKS

if TYPE_CHECKING:
    from dockyard.metadata.containers import ContainerRecord

__all__ = ["routes"]

routes = web.RouteTableDef()


def _filter_args(value: str | None) -> list[str]:
    return [f"{key}={v}" for key, values in _params.filters(value).items() for v in values]


async def _body(request: web.Request, what: str) -> dict[str, Any]:
    """The request's JSON object (``{}`` without a body). Raises InvalidArgument."""
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise errors.InvalidArgument(f"invalid {what}: {exc}") from exc
    if not isinstance(body, dict):
        raise errors.InvalidArgument(f"invalid {what}: not a JSON object")
    return body


def _ipam(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(subnet, gateway)`` of a create body's first IPAM pool. Raises InvalidArgument for
    more than one pool (Dockyard's bridges hold one IPv4 subnet)."""
    pools = list((body.get("IPAM") or {}).get("Config") or [])
    if len(pools) > 1:
        raise errors.InvalidArgument("only one IPAM pool per network is supported")
    if not pools:
        return None, None
    pool = pools[0] or {}
    return pool.get("Subnet") or None, pool.get("Gateway") or None


def _create(eng: Engine, body: dict[str, Any]) -> str:
    name = str(body.get("Name") or "")
    if not name:
        raise errors.InvalidArgument("network name is required")
    if body.get("EnableIPv6"):
        raise errors.InvalidArgument("IPv6 networks are not supported")
    subnet, gateway = _ipam(body)
    net = eng.networks.create(name, str(body.get("Driver") or "bridge"), subnet, gateway,
                              bool(body.get("Internal")), dict(body.get("Labels") or {}))
    return net.id


def _endpoints(record: ContainerRecord) -> dict[str, Any]:
    """The ``NetworkingConfig.EndpointsConfig`` a created container will join at start."""
    return dict((record.extra.get("NetworkingConfig") or {}).get("EndpointsConfig") or {})


def _remember(eng: Engine, record: ContainerRecord, endpoints: dict[str, Any]) -> None:
    extra = dict(record.extra)
    extra["NetworkingConfig"] = {**(extra.get("NetworkingConfig") or {}),
                                 "EndpointsConfig": endpoints}
    eng.containers.records.update_extra(record.id, extra)


def _connect(eng: Engine, network: str, body: dict[str, Any]) -> None:
    """Connect a running container now; a stopped one joins at its next start (its
    ``NetworkingConfig``), as Docker does (connected already: a no-op then, as in dockerd).
    Raises NotFound, InvalidArgument, Conflict, PermissionDenied (``host``/``none``, or a
    running container connected already: dockerd's 403)."""
    ref = str(body.get("Container") or "")
    if not ref:
        raise errors.InvalidArgument("no container given to connect")
    config = body.get("EndpointConfig") or {}
    aliases = [str(a) for a in config.get("Aliases") or []]
    ip = (config.get("IPAMConfig") or {}).get("IPv4Address") or None
    mac = config.get("MacAddress") or None
    record = eng.containers.resolve(ref)
    live = eng.containers.live(record)
    if live.running and live.pid:
        try:
            eng.networks.connect(network, record.id, record.name, f"/proc/{live.pid}/ns/net",
                                 aliases, ip, mac)
        except errors.AlreadyExists as exc:  # dockerd forbids it (403), with this message
            raise errors.PermissionDenied(exc.message) from exc
        return
    if network in PSEUDO_NETWORKS:
        raise errors.PermissionDenied(f"container cannot be connected to {network} network")
    net = eng.networks.get(network)
    endpoints = _endpoints(record)
    if net.name in endpoints or net.id in endpoints:
        return  # dockerd keeps the first config of a stopped container and answers 200
    entry: dict[str, Any] = {"Aliases": aliases or None}
    if ip:
        entry["IPAMConfig"] = {"IPv4Address": ip}
    if mac:
        entry["MacAddress"] = mac
    endpoints[net.name] = entry
    _remember(eng, record, endpoints)


def _disconnect(eng: Engine, network: str, body: dict[str, Any]) -> None:
    ref = str(body.get("Container") or "")
    if not ref:
        raise errors.InvalidArgument("no container given to disconnect")
    record = eng.containers.resolve(ref)
    done = eng.networks.disconnect(network, record.id)
    endpoints = _endpoints(record)
    net = eng.networks.get(network)
    kept = {k: v for k, v in endpoints.items() if k not in (net.name, net.id)}
    if kept != endpoints:
        _remember(eng, record, kept)
        done = True
    if not done and not body.get("Force"):  # dockerd's words (running or not), as a 403
        the = "" if eng.containers.live(record).running else "the "
        raise errors.PermissionDenied(
            f"container {record.id} is not connected to {the}network {net.name}")


@routes.get("/networks")
async def list_networks(request: web.Request) -> web.Response:
    args = _filter_args(request.query.get("filters"))
    return json_response(await call(request, engine(request).networks.list_networks, args))


@routes.post("/networks/create")
async def create(request: web.Request) -> web.Response:
    body = await _body(request, "network configuration")
    network_id = await call(request, _create, engine(request), body)
    return json_response({"Id": network_id, "Warning": ""}, status=201)


@routes.post("/networks/prune")
async def prune(request: web.Request) -> web.Response:
    args = _filter_args(request.query.get("filters"))
    removed = await call(request, engine(request).networks.prune, args)
    return json_response({"NetworksDeleted": removed or None})


@routes.get("/networks/{id}")
async def inspect(request: web.Request) -> web.Response:
    doc = await call(request, engine(request).networks.inspect, request.match_info["id"])
    return json_response(doc)


@routes.delete("/networks/{id}")
async def remove(request: web.Request) -> web.Response:
    await call(request, engine(request).networks.remove, request.match_info["id"])
    return web.Response(status=204)


@routes.post("/networks/{id}/connect")
async def connect(request: web.Request) -> web.Response:
    body = await _body(request, "connect request")
    await call(request, _connect, engine(request), request.match_info["id"], body)
    return web.Response(status=200)


@routes.post("/networks/{id}/disconnect")
async def disconnect(request: web.Request) -> web.Response:
    body = await _body(request, "disconnect request")
    await call(request, _disconnect, engine(request), request.match_info["id"], body)
    return web.Response(status=200)
