"""A container's network, for the container service: join it to its networks on start, and
take everything back (veths, published ports, addresses, DNS names) on stop or removal.

``--network`` modes: ``bridge`` (or ``default``), a user network's name or id, ``none`` (only
``lo``), ``host`` and ``container:NAME|ID``. For the last two the container gets no namespace
of its own: :func:`join_target` names the one to join (call it before creating the
container), and :func:`attach_container` returns that path in ``NetworkSetup.join_netns``.
Besides the host side, the setup carries what the container needs written: ``/etc/hosts``
and ``/etc/resolv.conf`` (as Docker writes them) and inspect's ``NetworkSettings``. The files
are also kept under ``<root>/network/containers/<id>.json`` so ``container:ID`` shares them.

Imports ``dockyard.network`` and the network service; never the runtime.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dockyard import errors
from dockyard.network import Endpoint, PortMapping, build_hosts, build_resolv_conf
from dockyard.network import parse_port_specs as _parse_port_specs
from dockyard.service.networks import endpoint_id

if TYPE_CHECKING:
    from dockyard.service.engine import Engine

__all__ = [
    "NetworkSetup", "attach_container", "detach_container", "join_target",
    "network_settings", "parse_network_mode", "ports_doc",
]  # fmt: skip

HOST_NETNS = "/proc/1/ns/net"


@dataclass(frozen=True)
class NetworkSetup:
    """What a container's network came to.

    *mode* is ``bridge`` (the default or user networks), ``none``, ``host`` or ``container``;
    *join_netns* the namespace to join instead of a new one (host and container modes);
    *endpoints* one per network, the first the primary (its address is the container's);
    *hosts*, *resolv_conf* the files' text; *settings* inspect's ``NetworkSettings``;
    *warnings* what Docker would print (ports discarded in host mode, say).
    """

    mode: str
    join_netns: str | None = None
    endpoints: tuple[Endpoint, ...] = ()
    ports: tuple[PortMapping, ...] = ()
    hosts: str = ""
    resolv_conf: str = ""
    hostname: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def ip(self) -> str:
        return self.endpoints[0].ip if self.endpoints else ""

    @property
    def gateway(self) -> str:
        return self.endpoints[0].gateway if self.endpoints else ""

    @property
    def mac(self) -> str:
        return self.endpoints[0].mac if self.endpoints else ""


def parse_network_mode(mode: str | None) -> tuple[str, str]:
    """``(kind, argument)`` of a ``--network`` value: ``("bridge", "bridge")``, ``("bridge",
    NAME)``, ``("none", "")``, ``("host", "")``, ``("container", REF)``. Empty means bridge.
    Raises InvalidArgument for ``container:`` without a reference."""
    mode = mode or "bridge"
    if mode in ("none", "host"):
        return mode, ""
    if mode.startswith("container:"):
        ref = mode.partition(":")[2]
        if not ref:
            raise errors.InvalidArgument(f"invalid container format container:<name|id>: {mode}")
        return "container", ref
    return "bridge", "bridge" if mode == "default" else mode


def _container_pid(engine: Engine, ref: str) -> tuple[str, int]:
    record = engine.containers.resolve(ref)
    live = engine.containers.live(record)
    if not live.running or not live.pid:
        raise errors.FailedPrecondition(
            f"cannot join network of a non running container: {record.name or ref}"
        )
    return record.id, live.pid


def join_target(engine: Engine, network_mode: str | None) -> str | None:
    """The network namespace a container must join, or None when it gets its own.

    Raises NotFound (no such container), FailedPrecondition (it is not running).
    """
    kind, arg = parse_network_mode(network_mode)
    if kind == "host":
        return HOST_NETNS
    if kind == "container":
        return f"/proc/{_container_pid(engine, arg)[1]}/ns/net"
    return None


def _port_key(port: int, proto: str) -> str:
    return f"{port}/{proto}"


def _exposed_keys(exposed: Iterable[str] | Mapping[str, Any] | None) -> list[str]:
    keys = []
    for raw in exposed or ():
        port, _, proto = str(raw).partition("/")
        keys.append(_port_key(int(port), proto or "tcp"))
    return keys


def ports_doc(exposed: Iterable[str], ports: Sequence[PortMapping]) -> dict[str, Any]:
    """Docker's ``NetworkSettings.Ports``: every exposed or published container port, with its
    host bindings (``None`` when only exposed)."""
    doc: dict[str, Any] = {key: None for key in exposed}
    for p in sorted(ports, key=lambda m: (m.container_port, m.proto, m.host_ip, m.host_port)):
        doc.setdefault(_port_key(p.container_port, p.proto), None)
        bindings = doc[_port_key(p.container_port, p.proto)] or []
        bindings.append({"HostIp": p.host_ip or "0.0.0.0", "HostPort": str(p.host_port)})
        doc[_port_key(p.container_port, p.proto)] = bindings
    return doc


def _network_entry(ep: Endpoint | None, network_id: str, default: bool) -> dict[str, Any]:
    user = ep is not None and not default
    aliases = [*ep.aliases, ep.container_id[:12]] if ep is not None and user else None
    return {
        "IPAMConfig": None, "Links": None, "Aliases": aliases,
        "MacAddress": ep.mac if ep else "", "DriverOpts": None, "NetworkID": network_id,
        "EndpointID": endpoint_id(ep) if ep else "", "Gateway": ep.gateway if ep else "",
        "IPAddress": ep.ip if ep else "", "IPPrefixLen": ep.prefix if ep else 0,
        "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "DNSNames": [ep.name, *ep.aliases, ep.container_id[:12]] if ep and user else None,
    }  # fmt: skip


def settings_doc(engine: Engine, mode: str, endpoints: Sequence[Endpoint],
                 ports: Sequence[PortMapping], exposed: Iterable[str],
                 sandbox_key: str = "") -> dict[str, Any]:  # fmt: skip
    """Docker's ``NetworkSettings`` of a container whose network is as given."""
    nets = {n.id: n for n in engine.networks.manager.list_networks()}
    networks: dict[str, Any] = {}
    for ep in endpoints:
        net = nets.get(ep.network_id)
        if net is not None:
            networks[net.name] = _network_entry(ep, net.id, net.default)
    if mode in ("host", "none"):
        networks[mode] = _network_entry(None, engine.networks.inspect(mode)["Id"], True)
    primary = next(
        (e for e in endpoints if nets.get(e.network_id) and nets[e.network_id].default), None
    )
    return {
        "Bridge": "", "SandboxID": "", "SandboxKey": sandbox_key, "HairpinMode": False,
        "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
        "Ports": ports_doc(exposed, ports) if mode == "bridge" else {},
        "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
        "EndpointID": endpoint_id(primary) if primary else "",
        "Gateway": primary.gateway if primary else "", "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0, "IPAddress": primary.ip if primary else "",
        "IPPrefixLen": primary.prefix if primary else 0, "IPv6Gateway": "",
        "MacAddress": primary.mac if primary else "", "Networks": networks,
    }  # fmt: skip


def _record_path(engine: Engine, container_id: str) -> str:
    return os.path.join(engine.networks.state_dir, "containers", f"{container_id}.json")


def _save(engine: Engine, container_id: str, data: dict[str, Any]) -> None:
    path = _record_path(engine, container_id)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(path + ".tmp", path)


def _load(engine: Engine, container_id: str) -> dict[str, Any]:
    try:
        with open(_record_path(engine, container_id), encoding="utf-8") as f:
            data: dict[str, Any] = json.load(f)
            return data
    except (OSError, ValueError):
        return {}


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _extra_hosts(raw: Iterable[str | tuple[str, str]], gateway: str) -> list[tuple[str, str]]:
    """``--add-host`` values (``name:ip``, ``name=ip`` or pairs); ``host-gateway`` is the
    primary network's gateway. Raises InvalidArgument for a malformed one."""
    out = []
    for item in raw:
        if isinstance(item, tuple):
            name, ip = item
        else:
            sep = "=" if "=" in item else ":"
            name, found, ip = item.partition(sep)
            if not found or not name or not ip:
                raise errors.InvalidArgument(f"bad format for add-host: {item!r}")
        out.append((name, (gateway or "127.0.0.1") if ip == "host-gateway" else ip))
    return out


def attach_container(
    engine: Engine, container_id: str, name: str, netns_path: str | None,
    network_mode: str | None = "bridge",
    networks: Sequence[tuple[str, Sequence[str], str | None]] = (),
    ports: Sequence[str] = (), publish_all_exposed: bool = False,
    exposed_ports: Iterable[str] | Mapping[str, Any] | None = None,
    dns: Sequence[str] = (), dns_search: Sequence[str] = (), dns_options: Sequence[str] = (),
    extra_hosts: Iterable[str | tuple[str, str]] = (), hostname: str = "",
    domainname: str = "", mac: str | None = None,
) -> NetworkSetup:  # fmt: skip
    """Give the container *container_id* (named *name*, namespace at *netns_path*) its network.

    *networks* are ``(network, aliases, ip)``: the entry naming *network_mode*'s network
    gives its aliases and address; others are joined after it. *ports* are ``-p`` values;
    *publish_all_exposed* (``-P``) adds a random host port for each of *exposed_ports*. On
    failure nothing is left connected. Raises InvalidArgument (bad port, address, alias on the
    default network), NotFound (network, container of ``container:``), Conflict (host port or
    address taken), FailedPrecondition (``container:`` of a stopped one), Unavailable.
    """
    kind, arg = parse_network_mode(network_mode)
    hostname = hostname or container_id[:12]
    exposed = _exposed_keys(exposed_ports)
    host_resolv = _read("/etc/resolv.conf")
    explicit = {_port_key(r.container_port, r.proto) for r in _parse_port_specs(ports)}
    requested = [*ports, *(k for k in exposed if publish_all_exposed and k not in explicit)]
    warnings: list[str] = []
    if kind in ("host", "container", "none") and requested:
        warnings.append(f"Published ports are discarded when using {kind} network mode")
    if kind == "container":
        target_id, pid = _container_pid(engine, arg)
        shared = _load(engine, target_id)
        setup = NetworkSetup("container", f"/proc/{pid}/ns/net",
                             hosts=shared.get("hosts") or build_hosts(hostname, None),
                             resolv_conf=shared.get("resolv_conf") or build_resolv_conf(host_resolv),
                             hostname=shared.get("hostname", hostname), warnings=tuple(warnings),
                             settings=settings_doc(engine, "container", [], [], []))  # fmt: skip
        _save(engine, container_id, {"mode": "container", "hosts": setup.hosts,
                                     "resolv_conf": setup.resolv_conf, "hostname": setup.hostname})  # fmt: skip
        return setup
    if kind == "host":
        hosts = _read("/etc/hosts") or build_hosts(hostname, None)
        for host_name, ip in _extra_hosts(extra_hosts, ""):
            hosts += f"{ip}\t{host_name}\n"
        resolv = (build_resolv_conf(host_resolv, dns, dns_search, dns_options)
                  if dns or dns_search or dns_options else host_resolv)  # fmt: skip
        setup = NetworkSetup("host", HOST_NETNS, hosts=hosts, resolv_conf=resolv,
                             hostname=os.uname().nodename, warnings=tuple(warnings),
                             settings=settings_doc(engine, "host", [], [], []))  # fmt: skip
    elif kind == "none":
        if netns_path is None:
            raise errors.InvalidArgument(f"container {name} has no network namespace")
        engine.networks.manager.loopback_only(netns_path)
        setup = NetworkSetup("none", None, hostname=hostname, warnings=tuple(warnings),
                             hosts=build_hosts(hostname, None, _extra_hosts(extra_hosts, ""), domainname),
                             resolv_conf=build_resolv_conf(host_resolv, dns, dns_search, dns_options),
                             settings=settings_doc(engine, "none", [], [], []))  # fmt: skip
    else:
        if netns_path is None:
            raise errors.InvalidArgument(f"container {name} has no network namespace")
        setup = _attach_bridge(engine, container_id, name, netns_path, arg, networks, requested,
                               exposed, dns, dns_search, dns_options, extra_hosts, hostname,
                               domainname, mac, host_resolv)  # fmt: skip
    _save(engine, container_id, {"mode": setup.mode, "hosts": setup.hosts, "exposed": exposed,
                                 "resolv_conf": setup.resolv_conf, "hostname": setup.hostname,
                                 "sandbox_key": netns_path or ""})  # fmt: skip
    return setup


def _attach_bridge(engine: Engine, container_id: str, name: str, netns_path: str, primary: str,
                   networks: Sequence[tuple[str, Sequence[str], str | None]],
                   requested: Sequence[str], exposed: list[str], dns: Sequence[str],
                   dns_search: Sequence[str], dns_options: Sequence[str],
                   extra_hosts: Iterable[str | tuple[str, str]], hostname: str,
                   domainname: str, mac: str | None, host_resolv: str) -> NetworkSetup:  # fmt: skip
    service = engine.networks
    # by network id, so a network named once by name and once by id is joined once
    wanted: dict[str, tuple[Sequence[str], str | None]] = {service.get(primary).id: ((), None)}
    for net_name, aliases, ip in networks:
        wanted[service.get(net_name).id] = (tuple(aliases or ()), ip or None)
    endpoints: list[Endpoint] = []
    published: list[PortMapping] = []
    try:
        for i, (net_id, (aliases, ip)) in enumerate(wanted.items()):
            endpoints.append(service.connect(net_id, container_id, name, netns_path, aliases, ip,
                                             mac if i == 0 else None))  # fmt: skip
        if requested:
            published = service.manager.publish(endpoints[0], requested)
    except BaseException:
        service.disconnect_all(container_id)
        raise
    first = endpoints[0]
    user_net = not service.manager.inspect_network(first.network_id).default
    hosts = build_hosts(hostname, first.ip, _extra_hosts(extra_hosts, first.gateway), domainname)
    resolv = build_resolv_conf(host_resolv, dns, dns_search, dns_options,
                               embedded_dns=first.gateway if user_net and first.gateway else None)  # fmt: skip
    settings = settings_doc(engine, "bridge", endpoints, published, exposed, netns_path)
    return NetworkSetup("bridge", None, tuple(endpoints), tuple(published), hosts, resolv,
                        hostname, settings)  # fmt: skip


def network_settings(engine: Engine, container_id: str) -> dict[str, Any]:
    """The current ``NetworkSettings`` of *container_id* (after ``network connect`` too), or
    an empty document when it is not attached."""
    saved = _load(engine, container_id)
    mode = saved.get("mode", "bridge")
    return settings_doc(engine, mode, engine.networks.endpoints(container_id),
                        engine.networks.ports(container_id), saved.get("exposed", []),
                        saved.get("sandbox_key", ""))  # fmt: skip


def has_attachment(engine: Engine, container_id: str) -> bool:
    """Whether :func:`attach_container` recorded an attachment of *container_id* (one
    ``stat``: most releases find none, a container never started or already released)."""
    return os.path.exists(_record_path(engine, container_id))


def detach_container(engine: Engine, container_id: str, *, netns_dropped: bool = False) -> None:
    """Take back everything :func:`attach_container` gave *container_id*: published ports,
    veths, addresses and DNS names (never raises NotFound; safe to call twice). With
    *netns_dropped* the veths go with the container's network namespace, which the caller
    drops (see ``NetworkManager.disconnect``)."""
    engine.networks.disconnect_all(container_id, netns_dropped=netns_dropped)
    try:
        os.unlink(_record_path(engine, container_id))
    except FileNotFoundError:
        pass
