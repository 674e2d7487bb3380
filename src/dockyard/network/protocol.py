"""The roles the network manager is built from, as small ``typing.Protocol`` interfaces.

Vocabulary: a *network* is a bridge with an IPv4 subnet and a gateway (the bridge's address);
an *endpoint* is one container's attachment to one network (a veth pair: ``dy-...`` on the
bridge, ``ethN`` in the container's network namespace, given by path); a *port mapping*
publishes ``host_ip:host_port/proto`` to an endpoint's ``ip:port``. The manager decides from
the state file; these roles perform on the host. Tests substitute recording fakes.

Imports only the standard library and the package's model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from ipaddress import IPv4Network
from typing import Protocol

from dockyard.network.model import NetworkRecord, PortMapping

__all__ = ["Firewall", "LinkDriver", "NameRegistry", "PortProbe"]


class LinkDriver(Protocol):
    """Bridges and veth pairs (``links.LinuxLinks``)."""

    def host_subnets(self) -> list[IPv4Network]:
        """Subnets of the host's addresses and routes, which new networks must avoid."""
        ...

    def bridge_exists(self, name: str) -> bool: ...

    def ensure_bridge(self, name: str, gateway: str, prefix: int) -> None:
        """Create bridge *name* with ``gateway/prefix``, up (idempotent)."""
        ...

    def remove_link(self, name: str) -> bool:
        """Delete a bridge or veth; False when it was already gone."""
        ...

    def add_veth(
        self,
        bridge: str,
        host_name: str,
        netns_path: str,
        mac: str,
        ip: str,
        prefix: int,
        gateway: str | None,
    ) -> str:
        """Create a veth pair into the namespace at *netns_path*; return the ``ethN`` name."""
        ...

    def loopback_up(self, netns_path: str) -> None:
        """Bring ``lo`` up in the namespace at *netns_path*."""
        ...


class Firewall(Protocol):
    """Dockyard's packet filter and NAT (``firewall.NftFirewall``)."""

    def apply(self, networks: Sequence[NetworkRecord], ports: Sequence[PortMapping]) -> None:
        """Make the rules match *networks* and *ports*; remove them all when both are empty."""
        ...

    def add_ports(self, ports: Sequence[PortMapping]) -> None:
        """Publish *ports* on top of the last ``apply`` (fast path)."""
        ...

    def remove_ports(self, ports: Sequence[PortMapping]) -> None:
        """Withdraw *ports* published earlier."""
        ...

    def open_forwarding(self) -> None:
        """Let Dockyard bridges forward despite another firewall's DROP policy."""
        ...

    def close_forwarding(self) -> None:
        """Undo ``open_forwarding`` (the last network is gone)."""
        ...


class PortProbe(Protocol):
    """Which host ports are free (``publish.HostPorts``)."""

    def is_free(self, proto: str, host_ip: str, port: int) -> bool: ...

    def ephemeral_range(self) -> tuple[int, int]: ...


class NameRegistry(Protocol):
    """Told the names of a user network whenever its endpoints change (feeds the DNS)."""

    def names_changed(self, network: NetworkRecord, names: Mapping[str, Sequence[str]]) -> None:
        """*network*'s names (container names, aliases, short ids) → addresses, now."""
        ...

    def network_removed(self, network: NetworkRecord) -> None:
        """*network* is gone: stop serving it."""
        ...
