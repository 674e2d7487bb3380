"""IP address management as pure functions: pick subnets, gateways, addresses and MACs.

Nothing here reads the host or a file: the caller passes the subnets already in use (by other
networks and by the host's addresses and routes) and the addresses already handed out, and
persists the answer (see ``store.py``). Imports only the standard library and
``dockyard.errors``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network

from dockyard import errors

__all__ = [
    "DEFAULT_POOLS",
    "allocate_address",
    "choose_subnet",
    "default_gateway",
    "mac_from_ip",
    "parse_address",
    "parse_mac",
    "parse_subnet",
]


def _default_pools() -> tuple[IPv4Network, ...]:
    # Docker's defaults: 172.17-31.0.0/16, then 192.168.0.0/16 cut into /20s.
    first = [IPv4Network(f"172.{n}.0.0/16") for n in range(17, 32)]
    second = list(IPv4Network("192.168.0.0/16").subnets(new_prefix=20))
    return (*first, *second)


DEFAULT_POOLS: tuple[IPv4Network, ...] = _default_pools()
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


def parse_subnet(text: str) -> IPv4Network:
    """``"10.5.0.0/16"`` as a network. Raises InvalidArgument for anything else (IPv4 only)."""
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise errors.InvalidArgument(f"invalid subnet {text!r}: {exc}") from exc
    if not isinstance(net, IPv4Network) or "/" not in text:
        raise errors.InvalidArgument(f"invalid subnet {text!r}: an IPv4 CIDR is required")
    if net.prefixlen > 30:
        raise errors.InvalidArgument(f"invalid subnet {text}: too small for containers")
    return net


def parse_address(text: str, what: str = "IP address") -> IPv4Address:
    """An IPv4 address. Raises InvalidArgument naming *what* when *text* is not one."""
    try:
        return IPv4Address(text)
    except ValueError as exc:
        raise errors.InvalidArgument(f"invalid {what}: {text!r}") from exc


def default_gateway(subnet: IPv4Network) -> IPv4Address:
    """The gateway Docker gives a subnet: its first host address."""
    return subnet.network_address + 1


def check_gateway(subnet: IPv4Network, gateway: IPv4Address) -> None:
    """Raises InvalidArgument unless *gateway* is a host address inside *subnet*."""
    if gateway not in subnet or gateway in (subnet.network_address, subnet.broadcast_address):
        raise errors.InvalidArgument(f"gateway {gateway} is not a host address of {subnet}")


def choose_subnet(
    taken: Iterable[IPv4Network], pools: Iterable[IPv4Network] = DEFAULT_POOLS
) -> IPv4Network:
    """The first pool that overlaps none of *taken* (other networks, host addresses, routes).

    Raises Unavailable when every pool clashes.
    """
    busy = [t for t in taken if t.prefixlen > 0]  # a default route clashes with nothing
    for pool in pools:
        if not any(pool.overlaps(t) for t in busy):
            return pool
    raise errors.Unavailable(
        "could not find an available, non-overlapping IPv4 address pool among the defaults "
        "to assign to the network"
    )


def check_subnet_free(subnet: IPv4Network, others: dict[str, IPv4Network]) -> None:
    """Raises Conflict when *subnet* overlaps another Dockyard network's (named in *others*)."""
    for name, other in others.items():
        if subnet.overlaps(other):
            raise errors.Conflict(
                f"invalid pool request: Pool overlaps with other one on this address space "
                f"({subnet} overlaps network {name}'s {other})"
            )


def allocate_address(
    subnet: IPv4Network,
    used: Iterable[IPv4Address],
    requested: IPv4Address | None = None,
    network: str = "",
) -> IPv4Address:
    """An address of *subnet* not in *used* (which includes the gateway): *requested* or the
    lowest free one.

    Raises InvalidArgument when *requested* is outside the subnet, Conflict when it is taken,
    Unavailable when the subnet is full.
    """
    taken = set(used)
    if requested is not None:
        if requested not in subnet or requested in (
            subnet.network_address,
            subnet.broadcast_address,
        ):
            raise errors.InvalidArgument(
                f"invalid address {requested}: it does not belong to network {network} ({subnet})"
            )
        if requested in taken:
            raise errors.Conflict(f"Address already in use: {requested} on network {network}")
        return requested
    for host in subnet.hosts():
        if host not in taken:
            return host
    raise errors.Unavailable(f"no available IPv4 addresses on network {network} ({subnet})")


def mac_from_ip(ip: IPv4Address) -> str:
    """Docker's MAC for an address: ``02:42`` then the four bytes of the IP."""
    return ":".join(["02", "42", *(f"{b:02x}" for b in ip.packed)])


def parse_mac(text: str) -> str:
    """A unicast MAC in lower case. Raises InvalidArgument for a malformed or multicast one."""
    if not _MAC.match(text):
        raise errors.InvalidArgument(f"invalid MAC address: {text!r}")
    if int(text[:2], 16) & 1:
        raise errors.InvalidArgument(f"invalid MAC address: {text}: a multicast address")
    return text.lower()
