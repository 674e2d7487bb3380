"""The records of the network package: networks, endpoints and published ports, as plain data.

These are what the state file holds and what the public API returns. Pure data with
``to_dict``/``from_dict`` for the JSON state file; no I/O. Imports only the standard library.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Endpoint", "NetworkRecord", "PortMapping"]


@dataclass(frozen=True)
class NetworkRecord:
    """A bridge network: its id and name, the Linux bridge behind it and its IPv4 subnet."""

    id: str
    name: str
    bridge: str
    subnet: str
    gateway: str
    internal: bool = False
    default: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    created: float = 0.0

    @property
    def prefix(self) -> int:
        return int(self.subnet.split("/")[1])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkRecord:
        return cls(**data)


@dataclass(frozen=True)
class Endpoint:
    """One container's attachment to one network: the address it got and the links made.

    ``ifname`` is the interface inside the container (``eth0``), ``host_veth`` its peer on the
    host (``dy-...``, attached to the network's bridge).
    """

    network_id: str
    container_id: str
    name: str
    ip: str
    prefix: int
    gateway: str
    mac: str
    ifname: str
    host_veth: str
    aliases: tuple[str, ...] = ()
    internal: bool = False

    @property
    def key(self) -> str:
        return endpoint_key(self.network_id, self.container_id)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Endpoint:
        return cls(**{**data, "aliases": tuple(data.get("aliases", ()))})


@dataclass(frozen=True)
class PortMapping:
    """A published port: ``host_ip:host_port/proto`` DNATed to ``container_ip:container_port``.

    ``host_ip`` is ``""`` for every host address (Docker's ``0.0.0.0``).
    """

    proto: str
    host_ip: str
    host_port: int
    container_ip: str
    container_port: int
    network_id: str = ""
    container_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PortMapping:
        return cls(**data)

    def __str__(self) -> str:
        host = self.host_ip or "0.0.0.0"
        return f"{host}:{self.host_port}->{self.container_port}/{self.proto}"


def endpoint_key(network_id: str, container_id: str) -> str:
    """The state-file key of one container's endpoint on one network."""
    return f"{network_id}/{container_id}"
