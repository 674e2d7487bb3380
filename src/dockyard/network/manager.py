"""``NetworkManager``: the network package's public face, for the service layer.

Every operation takes the state file's lock, decides with the pure planners (``create``,
``connect``, ``publish``), performs with the roles of ``protocol.py`` (real ones by default:
pyroute2 links, the nftables table), and saves the state only when the host side succeeded.
The nftables table is regenerated from the state on every change of networks or ports, so
nothing stays behind a removed container, and the table goes with the last network.

Works on a network namespace given as a path (``/proc/<pid>/ns/net`` or a bind-mounted
netns file) and returns data; never imports runtime/, image/ or volume/.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from dockyard import errors
from dockyard.network import create
from dockyard.network.connect import plan_endpoint
from dockyard.network.model import Endpoint, NetworkRecord, PortMapping, endpoint_key
from dockyard.network.ports import PortRequest
from dockyard.network.protocol import Firewall, LinkDriver, NameRegistry, PortProbe
from dockyard.network.publish import HostPorts, plan_ports
from dockyard.network.store import NetworkState, StateFile

if TYPE_CHECKING:
    import logging

__all__ = ["NetworkManager"]


def _log() -> logging.Logger:
    """This module's logger; ``logging`` (~3 ms) loads only when there is something to say."""
    import logging

    return logging.getLogger(__name__)


def _default_links() -> LinkDriver:
    # The package's own rtnetlink client: 4x faster per connect than pyroute2 here, and no
    # 150-350 ms import on `dockyard run`. links.LinuxLinks (pyroute2) passes the same
    # kernel tests and is a drop-in replacement.
    from dockyard.network.rawlinks import RawLinks

    return RawLinks()


def _default_firewall(table: str) -> Firewall:
    from dockyard.network.firewall import NftFirewall

    return NftFirewall(table)


def names_of(state: NetworkState, network: NetworkRecord) -> dict[str, list[str]]:
    """The DNS names of *network* (see ``NetworkState.names``)."""
    return state.names(network.id)


class NetworkManager:
    """Bridge networks, container endpoints and published ports of one engine.

    *state_dir* holds ``network.json`` (and its lock). *links*, *firewall* and *probe*
    default to the real host (``rawlinks.RawLinks``, the nftables table, bind probes);
    *registry* (optional) is told the names of a user network
    whenever they change, to feed its DNS server (``dnsregistry.EmbeddedDns``).

    The host objects shared by every engine are named by *table* (the nftables table,
    ``dockyard``) and *default_bridge* (``dockyard0``); a second engine on the same host (a
    test's) must give its own names, or the two would rewrite each other's rules.
    """

    def __init__(
        self,
        state_dir: str | os.PathLike[str],
        links: LinkDriver | None = None,
        firewall: Firewall | None = None,
        probe: PortProbe | None = None,
        registry: NameRegistry | None = None,
        table: str = "dockyard",
        default_bridge: str = create.DEFAULT_BRIDGE,
    ) -> None:
        self.state = StateFile(state_dir)
        self.links = links or _default_links()
        self.firewall = firewall or _default_firewall(table)
        self.default_bridge = default_bridge
        self.probe = probe or HostPorts()
        self.registry = registry

    # -- queries -----------------------------------------------------------------------

    def list_networks(self) -> list[NetworkRecord]:
        """Every network, default first, then by name."""
        nets = self.state.read().networks.values()
        return sorted(nets, key=lambda n: (not n.default, n.name))

    def inspect_network(self, ref: str) -> NetworkRecord:
        """The network named *ref* or with id (prefix) *ref*. Raises NotFound."""
        return self.state.read().find_network(ref)

    def endpoints(self, ref: str | None = None) -> list[Endpoint]:
        """The endpoints of network *ref*, or of every network. Raises NotFound."""
        state = self.state.read()
        if ref is None:
            return list(state.endpoints.values())
        return state.endpoints_of(state.find_network(ref).id)

    def ports(self, container_id: str | None = None) -> list[PortMapping]:
        """The published ports of *container_id*, or of every container."""
        return [
            p
            for p in self.state.read().ports
            if container_id is None or p.container_id == container_id
        ]

    def dns_names(self, ref: str) -> dict[str, list[str]]:
        """Names → addresses on network *ref* (what its DNS server answers). Raises NotFound."""
        state = self.state.read()
        return names_of(state, state.find_network(ref))

    def name_source(self, ref: str) -> Callable[[], Mapping[str, Sequence[str]] | None]:
        """A ``NameTable`` refresher for network *ref*: its names when the state file changed
        since the last call, else None. Raises NotFound."""
        return self.state.name_source(self.inspect_network(ref).id)

    # -- networks ----------------------------------------------------------------------

    def ensure_default(self) -> NetworkRecord:
        """The default ``bridge`` network (bridge ``dockyard0``), created on first use."""
        with self.state.change() as state:
            for net in state.networks.values():
                if net.default:
                    self._ensure_up(state, net)
                    return net
            self._drop_orphan_default()
            return self._create(state, create.DEFAULT_NETWORK, default=True)

    def _drop_orphan_default(self) -> None:
        """A default bridge with no record is the leftover of a process killed while it made
        the network (between the bridge and the saved state): it goes, with its address."""
        if self.links.bridge_exists(self.default_bridge):
            self.links.remove_link(self.default_bridge)

    def create_network(
        self,
        name: str,
        subnet: str | None = None,
        gateway: str | None = None,
        internal: bool = False,
        labels: Mapping[str, str] | None = None,
    ) -> NetworkRecord:
        """Create a user network: its bridge ``dockyard-<id6>`` with the gateway address, and
        its rules. Raises like ``create.plan_network``, and PermissionDenied or Unavailable
        when the host refuses."""
        with self.state.change() as state:
            return self._create(state, name, subnet, gateway, internal, labels)

    def _create(
        self,
        state: NetworkState,
        name: str,
        subnet: str | None = None,
        gateway: str | None = None,
        internal: bool = False,
        labels: Mapping[str, str] | None = None,
        default: bool = False,
    ) -> NetworkRecord:
        host = self.links.host_subnets() if subnet is None else []
        net = create.plan_network(state, host, name, subnet, gateway, internal, labels, default)
        if default:
            net = dataclasses.replace(net, bridge=self.default_bridge)
        self.links.ensure_bridge(net.bridge, net.gateway, net.prefix)
        try:
            state.networks[net.id] = net
            self._apply(state)
            self.firewall.open_forwarding()
        except BaseException:
            del state.networks[net.id]
            self.links.remove_link(net.bridge)
            self._apply(state)
            raise
        return net

    def remove_network(self, ref: str) -> None:
        """Remove a network, its bridge and rules (the table too when it was the last).

        Raises NotFound, PermissionDenied for the default network, Conflict while containers
        are connected.
        """
        with self.state.change() as state:
            net = state.find_network(ref)
            if net.default:
                raise errors.PermissionDenied(
                    f"{net.name} is a pre-defined network and cannot be removed"
                )
            if state.endpoints_of(net.id):
                raise errors.Conflict(
                    f"error while removing network: network {net.name} id {net.id} "
                    "has active endpoints"
                )
            self._drop_network(state, net)

    def prune_default(self) -> None:
        """Remove the default network too when no container uses it (for clean shutdowns and
        tests). Raises Conflict while containers are connected."""
        with self.state.change() as state:
            default = [net for net in state.networks.values() if net.default]
            for net in default:
                if state.endpoints_of(net.id):
                    raise errors.Conflict(f"network {net.name} has active endpoints")
                self._drop_network(state, net)
            if not default:
                self._drop_orphan_default()

    def _drop_network(self, state: NetworkState, net: NetworkRecord) -> None:
        if self.registry is not None:
            self.registry.network_removed(net)
        del state.networks[net.id]
        state.ports = [p for p in state.ports if p.network_id != net.id]
        self.links.remove_link(net.bridge)
        self._apply(state)
        if not state.networks:
            self.firewall.close_forwarding()

    def _ensure_up(self, state: NetworkState, net: NetworkRecord) -> None:
        """Recreate a network's bridge and rules if they went (a host reboot, say)."""
        if not self.links.bridge_exists(net.bridge):
            self.links.ensure_bridge(net.bridge, net.gateway, net.prefix)
            self._apply(state)
            self.firewall.open_forwarding()

    def _apply(self, state: NetworkState) -> None:
        self.firewall.apply(list(state.networks.values()), list(state.ports))

    # -- endpoints ---------------------------------------------------------------------

    def connect(
        self,
        netns_path: str,
        network: str,
        container_id: str,
        name: str,
        aliases: Sequence[str] = (),
        ip: str | None = None,
        mac: str | None = None,
    ) -> Endpoint:
        """Attach the namespace at *netns_path* to *network*: a veth on the bridge, ``ethN``
        inside with the allocated address, MAC and default route. Returns the endpoint.
        ``bridge`` (or ``default``) is the default network, created on first use.

        Raises NotFound (network or namespace), and as ``connect.plan_endpoint``.
        """
        with self.state.change() as state:
            if network in ("bridge", "default") and not any(
                n.default for n in state.networks.values()
            ):
                net = self._create(state, create.DEFAULT_NETWORK, default=True)
            else:
                net = state.find_network(network)
            self._ensure_up(state, net)
            ep = plan_endpoint(state, net, container_id, name, aliases, ip, mac)
            args = (
                net.bridge,
                ep.host_veth,
                netns_path,
                ep.mac,
                ep.ip,
                ep.prefix,
                ep.gateway or None,
            )
            try:
                ifname = self.links.add_veth(*args)
            except errors.AlreadyExists:
                # this container's veth of its last run, released with its namespace (see
                # ``disconnect``), which the kernel has not finished deleting: delete it now
                self.links.remove_link(ep.host_veth)
                ifname = self.links.add_veth(*args)
            ep = Endpoint(**{**ep.to_dict(), "ifname": ifname, "aliases": ep.aliases})
            state.endpoints[ep.key] = ep
            self._names_changed(state, net)
            return ep

    def loopback_only(self, netns_path: str) -> None:
        """``--network none``: bring ``lo`` up in the namespace, nothing else. Raises
        NotFound when the namespace is missing."""
        self.links.loopback_up(netns_path)

    def disconnect(self, network: str, container_id: str, *, netns_dropped: bool = False) -> bool:
        """Detach *container_id* from *network*: its ports, veth and address go. False when it
        was not connected. With *netns_dropped* (the caller is about to drop the container's
        network namespace, its processes gone) the veth is left to the kernel, which deletes
        it with the namespace, in the background: a veth deleted here costs ~20 ms of waiting
        for the kernel. Raises NotFound for an unknown network."""
        with self.state.change() as state:
            net = state.find_network(network)
            return self._disconnect(state, net, container_id, netns_dropped)

    def disconnect_all(self, container_id: str) -> None:
        """Detach *container_id* from every network (container removal)."""
        with self.state.change() as state:
            for ep in [e for e in state.endpoints.values() if e.container_id == container_id]:
                self._disconnect(state, state.networks[ep.network_id], container_id)

    def _disconnect(
        self,
        state: NetworkState,
        net: NetworkRecord,
        container_id: str,
        netns_dropped: bool = False,
    ) -> bool:
        ep = state.endpoints.pop(endpoint_key(net.id, container_id), None)
        if ep is None:
            return False
        gone = [p for p in state.ports if p.network_id == net.id and p.container_id == container_id]
        state.ports = [p for p in state.ports if p not in gone]
        self._withdraw(state, gone)
        if not netns_dropped:
            self.links.remove_link(ep.host_veth)
        self._names_changed(state, net)
        return True

    def _withdraw(self, state: NetworkState, gone: Sequence[PortMapping]) -> None:
        """Take *gone* (already out of *state*) out of the firewall; rebuild if that fails."""
        if not gone:
            return
        try:
            self.firewall.remove_ports(gone)
        except errors.Unavailable:
            self._apply(state)

    def _names_changed(self, state: NetworkState, net: NetworkRecord) -> None:
        """Tell the registry; a DNS failure must not undo the link work, so it is logged."""
        if self.registry is None or net.default:
            return
        try:
            self.registry.names_changed(net, names_of(state, net))
        except errors.DockyardError as exc:
            _log().warning("DNS for network %s not updated: %s", net.name, exc)

    # -- ports -------------------------------------------------------------------------

    def publish(self, endpoint: Endpoint, ports: Sequence[PortRequest | str]) -> list[PortMapping]:
        """Publish *ports* (``-p`` specs or parsed requests) to *endpoint*'s address: DNAT from
        every host address (or the spec's IP) and 127.0.0.1. Returns the mappings with their
        host ports chosen.

        Nothing is published from an internal network (as in Docker): the result is empty.
        Raises NotFound when the endpoint is gone, InvalidArgument for a bad spec, Conflict
        when a host port is taken, Unavailable when nftables refuses.
        """
        with self.state.change() as state:
            if endpoint.key not in state.endpoints:
                raise errors.NotFound(
                    f"container {endpoint.container_id[:12]} is not connected to network "
                    f"{endpoint.network_id[:12]}"
                )
            current = state.endpoints[endpoint.key]
            if current.internal:  # Docker publishes nothing from an internal network
                _log().info("ports of %s not published: its network is internal", current.name)
                return []
            planned = plan_ports(state.ports, current, ports, self.probe)
            state.ports = [*state.ports, *planned]
            try:
                self.firewall.add_ports(planned)
            except errors.Unavailable:
                self._apply(state)  # the table went (flushed by hand, say): rebuild it all
            return planned

    def unpublish(self, container_id: str) -> list[PortMapping]:
        """Withdraw every port published to *container_id*; returns them."""
        with self.state.change() as state:
            gone = [p for p in state.ports if p.container_id == container_id]
            state.ports = [p for p in state.ports if p.container_id != container_id]
            self._withdraw(state, gone)
            return gone
