"""Deciding published ports (host port choice, clashes) and probing the host for free ports.

``plan_ports`` is pure given a ``PortProbe``; ``HostPorts`` is the probe of the real host: a
port is free when nothing in Dockyard's state maps it and a socket can bind it. Imports only
the standard library, ``dockyard.errors`` and the package's pure modules.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Sequence

from dockyard import errors
from dockyard.network.model import Endpoint, PortMapping
from dockyard.network.ports import PortRequest, parse_port_spec, pick_host_port
from dockyard.network.protocol import PortProbe

__all__ = ["HostPorts", "plan_ports"]


class HostPorts:
    """The ``PortProbe`` of the calling thread's network namespace."""

    def is_free(self, proto: str, host_ip: str, port: int) -> bool:
        """Whether a socket could bind ``host_ip:port``; raises InvalidArgument when
        *host_ip* is not an address of this host (Docker fails the same way)."""
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        with socket.socket(socket.AF_INET, kind) as sock:
            if kind == socket.SOCK_STREAM:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host_ip or "0.0.0.0", port))
            except OSError as exc:
                if exc.errno == errno.EADDRNOTAVAIL:
                    raise errors.InvalidArgument(
                        f"cannot publish port {port} on {host_ip}: "
                        "it is not an address of this host"
                    ) from exc
                return False
        return True

    def ephemeral_range(self) -> tuple[int, int]:
        try:
            with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
                low, high = f.read().split()
            return int(low), int(high)
        except (OSError, ValueError):
            return 32768, 60999


def _clashes(existing: Sequence[PortMapping], proto: str, host_ip: str, port: int) -> bool:
    return any(
        m.proto == proto
        and m.host_port == port
        and (not m.host_ip or not host_ip or m.host_ip == host_ip)
        for m in existing
    )


def plan_ports(
    existing: Sequence[PortMapping],
    endpoint: Endpoint,
    requests: Sequence[PortRequest | str],
    probe: PortProbe,
) -> list[PortMapping]:
    """The mappings that publish *requests* (parsed, or ``-p`` strings) to *endpoint*.

    Raises InvalidArgument for a malformed spec, Conflict (``port is already allocated``) when
    a requested host port is taken by Dockyard or by a socket on the host.
    """
    parsed = [
        r for req in requests for r in (parse_port_spec(req) if isinstance(req, str) else [req])
    ]
    planned: list[PortMapping] = []
    ephemeral = probe.ephemeral_range()
    for req in parsed:
        taken = [*existing, *planned]

        def free(port: int, req: PortRequest = req, taken: list[PortMapping] = taken) -> bool:
            return not _clashes(taken, req.proto, req.host_ip, port) and probe.is_free(
                req.proto, req.host_ip, port
            )

        host_port = pick_host_port(req, free, ephemeral)
        planned.append(
            PortMapping(
                proto=req.proto,
                host_ip=req.host_ip,
                host_port=host_port,
                container_ip=endpoint.ip,
                container_port=req.container_port,
                network_id=endpoint.network_id,
                container_id=endpoint.container_id,
            )
        )
    return planned
