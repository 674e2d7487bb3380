"""Parsing ``-p`` port specs and choosing host ports, as pure functions.

``[ip:][hostPort[-end]:]containerPort[-end][/tcp|udp]`` becomes one ``PortRequest`` per
container port, with Docker's error messages. ``pick_host_port`` chooses a host port given a
predicate saying which ports are free; probing the host for free ports is the caller's I/O.
Imports only the standard library and ``dockyard.errors``.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dockyard import errors

__all__ = ["PROTOCOLS", "PortRequest", "parse_port_spec", "parse_port_specs", "pick_host_port"]

PROTOCOLS = ("tcp", "udp")


@dataclass(frozen=True)
class PortRequest:
    """One container port to publish: on ``host_ip`` (``""`` = every address) and a host port
    chosen from ``host_start..host_end`` (both 0: any free ephemeral port)."""

    container_port: int
    proto: str = "tcp"
    host_ip: str = ""
    host_start: int = 0
    host_end: int = 0

    @property
    def random(self) -> bool:
        return self.host_start == 0


def _split_parts(raw: str) -> tuple[str, str, str]:
    parts = raw.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def _split_proto(raw: str) -> tuple[str, str]:
    parts = raw.split("/")
    if not raw or not parts[0]:
        return "", ""
    if len(parts) == 1 or not parts[1]:
        return "tcp", parts[0]
    return parts[1], parts[0]


def _parse_range(raw: str) -> tuple[int, int]:
    """``"80"`` or ``"8000-8010"``; raises ValueError when malformed."""
    if not raw:
        raise ValueError("empty string specified for ports")
    start_text, sep, end_text = raw.partition("-")
    if not start_text.isdigit() or (sep and not end_text.isdigit()):
        raise ValueError(raw)
    start = int(start_text)
    end = int(end_text) if sep else start
    if not 0 < start <= end <= 65535:
        raise ValueError(raw)
    return start, end


def parse_port_spec(raw: str) -> list[PortRequest]:
    """The container ports one ``-p`` value publishes.

    Raises InvalidArgument with Docker's messages (``invalid containerPort: x``,
    ``invalid hostPort: x``, ``invalid IP address: x``, ``invalid proto: x``, ...).
    """
    ip, host_port, rest = _split_parts(raw)
    proto, container_port = _split_proto(rest)
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    if ip:
        try:
            parsed = ipaddress.ip_address(ip)
        except ValueError:
            raise errors.InvalidArgument(f"invalid IP address: {ip}") from None
        if parsed.version != 4:
            raise errors.InvalidArgument(f"invalid IP address: {ip}: only IPv4 is supported")
        ip = "" if ip == "0.0.0.0" else str(parsed)
    if not container_port:
        raise errors.InvalidArgument(f"no port specified: {raw}<empty>")
    try:
        start, end = _parse_range(container_port)
    except ValueError:
        raise errors.InvalidArgument(f"invalid containerPort: {container_port}") from None
    host_start = host_end = 0
    if host_port:
        try:
            host_start, host_end = _parse_range(host_port)
        except ValueError:
            raise errors.InvalidArgument(f"invalid hostPort: {host_port}") from None
        if end - start != host_end - host_start and end != start:
            raise errors.InvalidArgument(
                f"invalid ranges specified for container and host Ports: "
                f"{container_port} and {host_port}"
            )
    if proto.lower() not in PROTOCOLS:
        raise errors.InvalidArgument(f"invalid proto: {proto}")
    proto = proto.lower()
    if end == start:
        return [PortRequest(start, proto, ip, host_start, host_end)]
    return [
        PortRequest(port, proto, ip, host_start + i, host_start + i)
        if host_start
        else PortRequest(port, proto, ip)
        for i, port in enumerate(range(start, end + 1))
    ]


def parse_port_specs(raws: Iterable[str]) -> list[PortRequest]:
    """Every ``-p`` value of a container, in order. Raises InvalidArgument like
    ``parse_port_spec``."""
    return [req for raw in raws for req in parse_port_spec(raw)]


def pick_host_port(
    request: PortRequest,
    is_free: Callable[[int], bool],
    ephemeral: tuple[int, int] = (32768, 60999),
    rng: random.Random | None = None,
) -> int:
    """A host port for *request* that *is_free* accepts: the requested one, the first free one
    of a requested range, or a random free ephemeral port.

    Raises Conflict (``port is already allocated``) when none is free.
    """
    host = request.host_ip or "0.0.0.0"
    if not request.random:
        for port in range(request.host_start, request.host_end + 1):
            if is_free(port):
                return port
        where = (
            str(request.host_start)
            if request.host_start == request.host_end
            else f"{request.host_start}-{request.host_end}"
        )
        raise errors.Conflict(f"Bind for {host}:{where} failed: port is already allocated")
    low, high = ephemeral
    rng = rng or random.Random()
    start = rng.randint(low, high)
    span = high - low + 1
    for i in range(span):
        port = low + (start - low + i) % span
        if is_free(port):
            return port
    raise errors.Conflict(f"Bind for {host}: no free port in the range {low}-{high}")
