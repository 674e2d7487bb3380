"""Deciding a container's endpoint on a network: address, MAC, host veth name. Pure.

Imports only the standard library, ``dockyard.errors`` and the package's pure modules.
"""

from __future__ import annotations

from collections.abc import Sequence

from dockyard import errors
from dockyard.network import ipam
from dockyard.network.model import Endpoint, NetworkRecord, endpoint_key
from dockyard.network.store import NetworkState
from dockyard.oci.digest import sha256_hex

__all__ = ["plan_endpoint", "veth_name"]


def veth_name(network_id: str, container_id: str) -> str:
    """``dy-`` and 12 hex digits unique to (network, container): 15 chars, IFNAMSIZ."""
    digest = sha256_hex(f"{network_id}/{container_id}".encode())
    return f"dy-{digest[:12]}"


def plan_endpoint(
    state: NetworkState,
    network: NetworkRecord,
    container_id: str,
    name: str,
    aliases: Sequence[str] = (),
    ip: str | None = None,
    mac: str | None = None,
) -> Endpoint:
    """The endpoint *container_id* gets on *network* (``ifname`` still to be learnt).

    Raises AlreadyExists when the container is already on the network, InvalidArgument for a
    bad *ip* or *mac* (or an *ip* on the default network, as Docker), Conflict when *ip* is
    taken, Unavailable when the subnet is full.
    """
    if endpoint_key(network.id, container_id) in state.endpoints:
        raise errors.AlreadyExists(
            f"endpoint with name {name} already exists in network {network.name}"
        )
    subnet = ipam.parse_subnet(network.subnet)
    requested = None
    if ip is not None:
        if network.default:
            raise errors.InvalidArgument(
                "user specified IP address is supported on user defined networks only"
            )
        requested = ipam.parse_address(ip)
    used = {ipam.parse_address(e.ip) for e in state.endpoints_of(network.id)}
    used.add(ipam.parse_address(network.gateway))
    address = ipam.allocate_address(subnet, used, requested, network.name)
    return Endpoint(
        network_id=network.id,
        container_id=container_id,
        name=name,
        ip=str(address),
        prefix=subnet.prefixlen,
        gateway="" if network.internal else network.gateway,
        mac=ipam.parse_mac(mac) if mac else ipam.mac_from_ip(address),
        ifname="",
        host_veth=veth_name(network.id, container_id),
        aliases=tuple(aliases),
        internal=network.internal,
    )
