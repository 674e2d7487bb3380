"""``EmbeddedDns``: the ``NameRegistry`` that runs one DNS server per user network.

The manager tells it a user network's names whenever they change; the first time it starts a
``DnsServer`` on the network's gateway address, port 53, and afterwards swaps the names in.
``network_removed`` stops that network's server. The servers are threads of the process that
owns the registry, so that process must live as long as the containers want names (the
daemon, or a helper process in daemonless mode). Upstream resolvers default to the host's
``/etc/resolv.conf`` without loopback ones (the containers' view). Never imports runtime/.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence

from dockyard.network.dns import DnsServer, NameTable
from dockyard.network.model import NetworkRecord
from dockyard.network.resolvconf import parse_resolv_conf

__all__ = ["EmbeddedDns", "host_upstreams"]

log = logging.getLogger(__name__)


def host_upstreams(path: str = "/etc/resolv.conf") -> list[tuple[str, int]]:
    """The host's resolvers as ``(ip, 53)``: every IPv4 nameserver of *path* (loopback ones
    included: the server runs on the host, where they answer)."""
    try:
        with open(path) as f:
            conf = parse_resolv_conf(f.read())
    except OSError:
        return []
    return [(s, 53) for s in conf.nameservers if ":" not in s]


class EmbeddedDns:
    """One ``DnsServer`` per user network, fed by ``NetworkManager``'s update hook."""

    def __init__(self, upstreams: Sequence[tuple[str, int]] | None = None, port: int = 53) -> None:
        self.upstreams = list(upstreams) if upstreams is not None else host_upstreams()
        self.port = port
        self._lock = threading.Lock()
        self._servers: dict[str, DnsServer] = {}

    def names_changed(self, network: NetworkRecord, names: Mapping[str, Sequence[str]]) -> None:
        """Serve *names* on *network*'s gateway, starting its server the first time.

        Raises Conflict when the gateway's port 53 is taken by another program.
        """
        with self._lock:
            server = self._servers.get(network.id)
            if server is None:
                server = DnsServer(network.gateway, NameTable(names), self.upstreams, self.port)
                server.start()
                self._servers[network.id] = server
                log.debug("DNS for network %s on %s:%d", network.name, network.gateway, server.port)
            else:
                server.table.update(names)

    def network_removed(self, network: NetworkRecord) -> None:
        """Stop the server of a removed network (no-op when it had none)."""
        with self._lock:
            server = self._servers.pop(network.id, None)
        if server is not None:
            server.stop()

    def serving(self) -> dict[str, tuple[str, int]]:
        """Network id → the address its server listens on."""
        with self._lock:
            return {nid: (s.address, s.port) for nid, s in self._servers.items()}

    def close(self) -> None:
        """Stop every server."""
        with self._lock:
            servers = list(self._servers.values())
            self._servers.clear()
        for server in servers:
            server.stop()
