"""The network service: the Engine's networks (create, list, inspect, remove, prune, connect,
disconnect) over ``network.NetworkManager``, with Docker's documents and events.

State lives under ``<root>/network``. The host objects of an engine are named after its data
root (``host_names``): the default root has the nftables table ``dockyard`` and the default
bridge ``dockyard0``; any other root gets ``dockyard_<hash>`` and ``dockyard<hash>``, so two
data roots on one host never share a bridge or a table. ``DOCKYARD_NFT_TABLE`` and
``DOCKYARD_DEFAULT_BRIDGE`` override them (both must contain ``dockyard``). User networks get DNS from one helper process per engine
(``python -m dockyard.network.dnsd STATE_DIR --exit-when-idle``), started when a container
joins a user network and gone with the last user network, so the daemon and the daemonless
CLI serve names the same way. ``host`` and ``none`` are listed as Docker lists them.

Typed arguments in, data out; rendering is the shells'. Imports ``dockyard.network`` and the
standard library; never the runtime, the CLI or the API.
"""

from __future__ import annotations

import fcntl
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockyard import errors
from dockyard.network import Endpoint, NetworkManager, NetworkRecord, PortMapping, dnswire
from dockyard.oci.digest import sha256_hex

if TYPE_CHECKING:
    from dockyard.service.engine import Engine

__all__ = ["PSEUDO_NETWORKS", "NetworkService", "endpoint_id", "host_names", "network_doc"]

PSEUDO_NETWORKS = {"host": "host", "none": "null"}  # name -> driver
BUILTIN = ("bridge", "host", "none")
_LS_FILTERS = ("driver", "id", "label", "name", "scope", "type", "dangling")
ZERO_TIME = "0001-01-01T00:00:00Z"


def _rfc3339(stamp: float) -> str:
    if not stamp:
        return ZERO_TIME
    return datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z")


def endpoint_id(endpoint: Endpoint) -> str:
    """A stable 64-hex id for an endpoint (Docker's ``EndpointID``)."""
    return sha256_hex(f"endpoint/{endpoint.key}".encode())


def network_doc(net: NetworkRecord, endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    """Docker's ``network inspect`` document of a bridge network."""
    options: dict[str, str] = {}
    if net.default:
        options = {
            "com.docker.network.bridge.default_bridge": "true",
            "com.docker.network.bridge.enable_icc": "true",
            "com.docker.network.bridge.enable_ip_masquerade": "true",
            "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
            "com.docker.network.bridge.name": net.bridge,
            "com.docker.network.driver.mtu": "1500",
        }
    containers = {
        ep.container_id: {
            "Name": ep.name,
            "EndpointID": endpoint_id(ep),
            "MacAddress": ep.mac,
            "IPv4Address": f"{ep.ip}/{ep.prefix}",
            "IPv6Address": "",
        }
        for ep in endpoints
    }
    return {
        "Name": net.name, "Id": net.id, "Created": _rfc3339(net.created), "Scope": "local",
        "Driver": "bridge", "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None if net.default else {},
                 "Config": [{"Subnet": net.subnet, "Gateway": net.gateway}]},
        "Internal": net.internal, "Attachable": False, "Ingress": False,
        "ConfigFrom": {"Network": ""}, "ConfigOnly": False, "Containers": containers,
        "Options": options, "Labels": dict(net.labels),
    }  # fmt: skip


def _pseudo_doc(name: str, network_id: str, created: str) -> dict[str, Any]:
    return {
        "Name": name, "Id": network_id, "Created": created, "Scope": "local",
        "Driver": PSEUDO_NETWORKS[name], "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None, "Config": None},
        "Internal": False, "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""},
        "ConfigOnly": False, "Containers": {}, "Options": {}, "Labels": {},
    }  # fmt: skip


def host_names(root: Path) -> tuple[str, str]:
    """``(nft table, default bridge)`` of the engine whose data root is *root*."""
    from dockyard.service.settings import DEFAULT_ROOT

    if Path(root) == DEFAULT_ROOT:
        table, bridge = "dockyard", "dockyard0"
    else:
        tag = sha256_hex(str(Path(root).absolute()).encode())[:6]
        table, bridge = f"dockyard_{tag}", f"dockyard{tag}"  # a link name has at most 15 bytes
    return (_env_name("DOCKYARD_NFT_TABLE", table), _env_name("DOCKYARD_DEFAULT_BRIDGE", bridge))


def _env_name(var: str, default: str) -> str:
    value = os.environ.get(var) or default
    if "dockyard" not in value:
        raise errors.InvalidArgument(f"{var}={value}: the name must contain 'dockyard'")
    return value


def _matches(doc: Mapping[str, Any], filters: Mapping[str, list[str]], used: bool) -> bool:
    """Docker's ``network ls --filter`` semantics: keys ANDed, values of one key ORed."""
    tests = {
        "driver": lambda v: doc["Driver"] == v,
        "id": lambda v: doc["Id"].startswith(v),
        "name": lambda v: v in doc["Name"],
        "scope": lambda v: v == "local",
        "type": lambda v: (v == "builtin") == (doc["Name"] in BUILTIN),
        "dangling": lambda v: (v.lower() in ("1", "true")) != used,
        "label": lambda v: (v.partition("=")[0] in doc["Labels"] and
                            ("=" not in v or doc["Labels"][v.partition("=")[0]] == v.partition("=")[2])),
    }  # fmt: skip
    return all(any(tests[key](v) for v in values) for key, values in filters.items())


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def _until(value: str, now: float | None = None) -> float:
    """An ``until=`` value as a Unix time: a Go duration before now (``24h``, ``1h30m``), a Unix
    timestamp, or an RFC 3339 date. Raises InvalidArgument."""
    now = time.time() if now is None else now
    if value and _DURATION.sub("", value) == "":
        return now - sum(float(n) * _UNIT[u] for n, u in _DURATION.findall(value))
    try:
        return float(value)
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise errors.InvalidArgument(f"invalid filter 'until={value}'") from None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def parse_filters(args: Sequence[str]) -> dict[str, list[str]]:
    """``key=value`` filter arguments by key. Raises InvalidArgument for an unknown key."""
    out: dict[str, list[str]] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep:
            raise errors.InvalidArgument(f"bad format of filter (expected name=value): {arg}")
        if key not in _LS_FILTERS:
            raise errors.InvalidArgument(f"invalid filter '{key}'")
        out.setdefault(key, []).append(value)
    return out


class NetworkService:
    """The networks of one engine. *manager* may be given (tests); else it is built on first use
    with the table and default bridge named by the environment."""

    def __init__(self, engine: Engine, manager: NetworkManager | None = None) -> None:
        self._engine = engine
        self.state_dir = Path(engine.settings.root) / "network"
        self.table, self.default_bridge = host_names(Path(engine.settings.root))
        self._manager = manager
        # set by the Engine: gives back the networks of containers that exited unobserved, so
        # they neither block `network rm` nor show in `inspect` (Docker drops them at exit)
        self.reclaim: Callable[[], object] = lambda: None

    @property
    def manager(self) -> NetworkManager:
        if self._manager is None:
            self._manager = NetworkManager(
                self.state_dir, table=self.table, default_bridge=self.default_bridge
            )
        return self._manager

    def _pseudo_id(self, name: str) -> str:
        return sha256_hex(f"{self.state_dir}/{name}".encode())

    def _emit(self, action: str, net: NetworkRecord, container_id: str = "") -> None:
        attrs = {"name": net.name, "type": "bridge"}
        if container_id:
            attrs["container"] = container_id
        self._engine.events.emit("network", action, net.id, attrs)

    # -- queries ----------------------------------------------------------------------------
    def default(self) -> NetworkRecord:
        """The default ``bridge`` network, made on first use. Raises PermissionDenied or
        Unavailable when the host refuses."""
        return self.manager.ensure_default()

    def _resolve(self, ref: str) -> NetworkRecord:
        if ref in ("bridge", "default"):
            # read first: ensure_default rewrites the state file (~1 ms) even when it exists
            known = [n for n in self.manager.list_networks() if n.default]
            return known[0] if known else self.default()
        return self.manager.inspect_network(ref)

    def get(self, ref: str) -> NetworkRecord:
        """The bridge network *ref* names (name, id or id prefix). Raises NotFound."""
        return self._resolve(ref)

    def inspect(self, ref: str) -> dict[str, Any]:
        """Docker's ``network inspect`` document of *ref* (``host`` and ``none`` too). Raises
        NotFound (``network REF not found``)."""
        for name in PSEUDO_NETWORKS:
            if ref == name or (len(ref) >= 3 and self._pseudo_id(name).startswith(ref)):
                return _pseudo_doc(name, self._pseudo_id(name), self._created())
        net = self._resolve(ref)
        self.reclaim()
        return network_doc(net, self.manager.endpoints(net.id))

    def _created(self) -> str:
        try:
            return _rfc3339((self.state_dir / "network.lock").stat().st_ctime)
        except OSError:
            return ZERO_TIME

    def list_networks(self, filter_args: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Inspect documents of every network (``bridge``, ``host``, ``none`` included),
        filtered like ``network ls --filter``, by name. Raises InvalidArgument for a bad filter.
        """
        filters = parse_filters(filter_args)
        try:
            self.default()
        except (errors.PermissionDenied, errors.Unavailable):
            pass  # not root: list what the state holds
        self.reclaim()
        endpoints = self.manager.endpoints()
        used = {ep.network_id for ep in endpoints}
        docs = [
            network_doc(net, [e for e in endpoints if e.network_id == net.id])
            for net in self.manager.list_networks()
        ]
        docs += [_pseudo_doc(n, self._pseudo_id(n), self._created()) for n in PSEUDO_NETWORKS]
        # predefined networks are never dangling, as in Docker
        docs = [d for d in docs if _matches(d, filters, d["Id"] in used or d["Name"] in BUILTIN)]
        return sorted(docs, key=lambda d: d["Name"])

    def endpoints(self, container_id: str) -> list[Endpoint]:
        """The endpoints of *container_id*, primary network first (in connection order)."""
        return [e for e in self.manager.endpoints() if e.container_id == container_id]

    def ports(self, container_id: str) -> list[PortMapping]:
        """The ports published to *container_id*."""
        return self.manager.ports(container_id)

    # -- changes ----------------------------------------------------------------------------
    def create(self, name: str, driver: str = "bridge", subnet: str | None = None,
               gateway: str | None = None, internal: bool = False,
               labels: Mapping[str, str] | None = None) -> NetworkRecord:  # fmt: skip
        """Create a user network. Raises NotFound (a driver other than bridge), and as
        ``NetworkManager.create_network`` (InvalidArgument, AlreadyExists, PermissionDenied,
        Conflict, Unavailable)."""
        if driver in PSEUDO_NETWORKS.values() or driver == "host":
            raise errors.PermissionDenied(f'only one instance of "{driver}" network is allowed')
        if driver not in ("", "bridge"):
            raise errors.NotFound(f'plugin "{driver}" not found')
        net = self.manager.create_network(name, subnet, gateway, internal, labels)
        self._emit("create", net)
        return net

    def remove(self, ref: str) -> NetworkRecord:
        """Remove network *ref*. Raises NotFound, PermissionDenied (a pre-defined network),
        Conflict (containers connected)."""
        if ref in PSEUDO_NETWORKS or ref == "bridge":
            raise errors.PermissionDenied(f"{ref} is a pre-defined network and cannot be removed")
        net = self.manager.inspect_network(ref)
        if self.manager.endpoints(net.id):
            self.reclaim()
        self.manager.remove_network(net.id)
        self._emit("destroy", net)
        return net

    def prune(self, filter_args: Sequence[str] = ()) -> list[str]:
        """Remove every user network no container uses (``label=`` and ``until=`` filters
        apply); their names. Raises InvalidArgument for a bad filter."""
        until = [_until(a.partition("=")[2]) for a in filter_args if a.startswith("until=")]
        filters = parse_filters([a for a in filter_args if not a.startswith("until=")])
        if set(filters) - {"label"}:
            raise errors.InvalidArgument(f"invalid filter '{min(set(filters) - {'label'})}'")
        self.reclaim()
        used = {ep.network_id for ep in self.manager.endpoints()}
        removed = []
        for net in self.manager.list_networks():
            if net.default or net.id in used or not _matches(network_doc(net, []), filters, False):
                continue
            if until and net.created >= min(until):
                continue
            try:
                self.manager.remove_network(net.id)
            except errors.Conflict:
                continue  # a container joined meanwhile
            self._emit("destroy", net)
            removed.append(net.name)
        return removed

    def connect(self, ref: str, container_id: str, name: str, netns_path: str,
                aliases: Sequence[str] = (), ip: str | None = None,
                mac: str | None = None) -> Endpoint:  # fmt: skip
        """Attach the namespace at *netns_path* (container *container_id* named *name*) to
        network *ref*. Raises NotFound, InvalidArgument (aliases on the default network, a bad
        address), AlreadyExists (already connected), Conflict (address taken), PermissionDenied
        (``host``/``none``)."""
        if ref in PSEUDO_NETWORKS:
            raise errors.PermissionDenied(
                f"container cannot be disconnected from host network or connected to {ref} network"
            )
        net = self._resolve(ref)
        if net.default and aliases:
            raise errors.InvalidArgument(
                "network-scoped alias is supported only for containers in user defined networks"
            )
        ep = self.manager.connect(netns_path, net.id, container_id, name, aliases, ip, mac)
        if not net.default:
            try:
                self.ensure_dns(net, ep.name)
            except errors.DockyardError:
                self.manager.disconnect(net.id, container_id)
                raise
        self._emit("connect", net, container_id)
        return ep

    def disconnect(self, ref: str, container_id: str) -> bool:
        """Detach *container_id* from *ref* (its ports there go too); False when it was not
        connected. Raises NotFound for an unknown network."""
        net = self._resolve(ref)
        done = self.manager.disconnect(net.id, container_id)
        if done:
            self._emit("disconnect", net, container_id)
        return done

    def disconnect_all(self, container_id: str, *, netns_dropped: bool = False) -> None:
        """Withdraw every port and endpoint of *container_id* (never raises NotFound); with
        *netns_dropped*, its veths go with its network namespace (``manager.disconnect``)."""
        for ep in self.endpoints(container_id):
            net = self.manager.inspect_network(ep.network_id)
            if self.manager.disconnect(net.id, container_id, netns_dropped=netns_dropped):
                self._emit("disconnect", net, container_id)
        if self.manager.ports(container_id):  # none unless the state was edited by hand
            self.manager.unpublish(container_id)

    # -- DNS helper -------------------------------------------------------------------------
    def dns_helper_pid(self) -> int:
        """The pid of this engine's DNS helper, 0 when none runs."""
        try:
            pid = int((self.state_dir / "dnsd.pid").read_text())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
        except (OSError, ValueError):
            return 0
        if b"dockyard.network.dnsd" in cmdline and os.fsencode(self.state_dir) in cmdline:
            return pid
        return 0

    def ensure_dns(self, net: NetworkRecord, probe_name: str) -> None:
        """Start the DNS helper unless it runs, and wait (up to 5 s) until it answers
        *probe_name* on *net*'s gateway (a fraction of a millisecond once it serves *net*).
        Raises Unavailable when it never answers."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.state_dir / "dnsd.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.dns_helper_pid():
                self._spawn_dns()
        _wait_for_dns(net.gateway, probe_name)

    def _spawn_dns(self) -> None:
        script = 'setsid "$@" </dev/null >/dev/null 2>>"$LOG" & echo $!'
        cmd = ["/bin/sh", "-c", script, "sh", sys.executable, "-m",
               "dockyard.network.dnsd", str(self.state_dir), "--exit-when-idle"]  # fmt: skip
        env = {**os.environ, "LOG": str(self.state_dir / "dnsd.log")}
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if out.returncode != 0 or not out.stdout.strip().isdigit():
            raise errors.Unavailable(f"cannot start the DNS helper: {out.stderr.strip()}")
        (self.state_dir / "dnsd.pid").write_text(out.stdout.strip())


def _wait_for_dns(server: str, name: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    query = dnswire.build_query(7, name, dnswire.TYPE_A)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.05)
        while time.monotonic() < deadline:
            try:
                sock.sendto(query, (server, 53))
                sock.recvfrom(4096)
                return
            except OSError:  # refused (not bound yet) or timed out
                time.sleep(0.02)
    raise errors.Unavailable(f"the DNS server of {server} did not answer within {timeout:.0f} s")
