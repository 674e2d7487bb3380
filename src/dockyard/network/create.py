"""Deciding a new network: its id, bridge name, subnet and gateway. Pure.

The manager calls ``plan_network`` under the state lock with the subnets the host uses, then
creates the bridge. Imports only the standard library, ``dockyard.errors`` and the package's
pure modules.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping, Sequence
from ipaddress import IPv4Network

from dockyard import errors
from dockyard.network import ipam
from dockyard.network.model import NetworkRecord
from dockyard.network.store import NetworkState

__all__ = ["DEFAULT_BRIDGE", "DEFAULT_NETWORK", "bridge_name", "plan_network"]

DEFAULT_NETWORK = "bridge"
DEFAULT_BRIDGE = "dockyard0"
PREDEFINED = ("bridge", "host", "none")
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def bridge_name(network_id: str, default: bool = False) -> str:
    """``dockyard0`` for the default network, else ``dockyard-<6 hex>`` (15 chars, IFNAMSIZ)."""
    return DEFAULT_BRIDGE if default else f"dockyard-{network_id[:6]}"


def plan_network(
    state: NetworkState,
    host_subnets: Sequence[IPv4Network],
    name: str,
    subnet: str | None = None,
    gateway: str | None = None,
    internal: bool = False,
    labels: Mapping[str, str] | None = None,
    default: bool = False,
) -> NetworkRecord:
    """The record of a new network named *name*; the caller stores it and makes the bridge.

    Without *subnet*, the first default pool that clashes with no other network and no host
    address or route. Raises InvalidArgument (bad name, subnet or gateway), AlreadyExists
    (name taken), PermissionDenied (a predefined name), Conflict (subnet overlaps another
    network's), Unavailable (no pool left).
    """
    if not _NAME.match(name):
        raise errors.InvalidArgument(
            f"invalid network name {name!r}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )
    if name in PREDEFINED and not default:
        raise errors.PermissionDenied(f"{name} is a pre-defined network and cannot be created")
    if any(n.name == name for n in state.networks.values()):
        raise errors.AlreadyExists(f"network with name {name} already exists")
    others = {n.name: ipam.parse_subnet(n.subnet) for n in state.networks.values()}
    if subnet is not None:
        net = ipam.parse_subnet(subnet)
        ipam.check_subnet_free(net, others)
    else:
        if gateway is not None:
            raise errors.InvalidArgument("a gateway needs a subnet (--subnet) to go with it")
        net = ipam.choose_subnet([*others.values(), *host_subnets])
    if gateway is not None:
        gw = ipam.parse_address(gateway, "gateway")
        ipam.check_gateway(net, gw)
    else:
        gw = ipam.default_gateway(net)
    network_id = os.urandom(32).hex()
    while any(n.id[:6] == network_id[:6] for n in state.networks.values()):
        network_id = os.urandom(32).hex()
    return NetworkRecord(
        id=network_id,
        name=name,
        bridge=bridge_name(network_id, default),
        subnet=str(net),
        gateway=str(gw),
        internal=internal,
        default=default,
        labels=dict(labels or {}),
        created=time.time(),
    )
