"""The Linux side of the bridge driver over pyroute2: bridges, veth pairs and addresses.

``LinuxLinks`` is the pyroute2 twin of the default ``rawlinks.RawLinks`` (same behaviour, same
kernel tests); ``write_sysctl`` serves both. Uses pyroute2 (imported lazily: it costs
150-350 ms to import) in the calling thread's network namespace for the host side, and ``run_in_netns`` for the container side, so no process is
forked and the caller never changes namespace. Functions here perform; what to create is
decided by the manager from the state. Never imports runtime/, image/ or volume/.
"""

from __future__ import annotations

import errno
import itertools
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from ipaddress import IPv4Network
from typing import Any, TypeVar

from dockyard import errors
from dockyard._sys.libc import as_error
from dockyard.network._netns import run_in_netns

__all__ = [
    "LinuxLinks",
    "add_veth",
    "ensure_bridge",
    "host_subnets",
    "link_exists",
    "loopback_up",
    "remove_bridge",
    "remove_link",
    "write_sysctl",
]

T = TypeVar("T")
AF_INET = 2


@contextmanager
def _netlink(what: str) -> Iterator[Any]:
    """An rtnetlink socket of the calling thread's namespace; netlink errors become
    Dockyard errors naming *what*."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    try:
        with IPRoute() as ipr:
            yield ipr
    except NetlinkError as exc:
        raise as_error(OSError(exc.code, os.strerror(exc.code)), what) from exc


def _index(ipr: Any, name: str) -> int | None:
    """The index of link *name* in the calling thread's namespace, or None.

    ``if_nametoindex`` asks the kernel for one name (an ioctl on a socket of the calling
    thread's namespace); pyroute2's ``link_lookup`` dumps every link, which grows with the
    number of containers.
    """
    try:
        return socket.if_nametoindex(name)
    except OSError:
        return None


def write_sysctl(path: str, value: str) -> None:
    try:
        with open(path) as f:
            if f.read().strip() == value:
                return
        with open(path, "w") as f:
            f.write(value)
    except OSError as exc:
        raise as_error(exc, f"cannot set {path}") from exc


def host_subnets() -> list[IPv4Network]:
    """The IPv4 subnets the host already uses: its addresses' networks and its routes."""
    found: list[IPv4Network] = []
    with _netlink("cannot list host addresses") as ipr:
        for msg in ipr.get_addr(family=AF_INET):
            found.append(IPv4Network(f"{msg.get('IFA_ADDRESS')}/{msg['prefixlen']}", strict=False))
        for msg in ipr.get_routes(family=AF_INET, table=254):
            dst = msg.get("RTA_DST")
            if dst and msg["dst_len"] > 0:
                found.append(IPv4Network(f"{dst}/{msg['dst_len']}", strict=False))
    return found


def link_exists(name: str) -> bool:
    """Whether a link called *name* exists in the calling thread's namespace (asked over
    netlink: /sys/class/net shows the namespace sysfs was mounted in, not the thread's)."""
    with _netlink(f"cannot look up link {name}") as ipr:
        return _index(ipr, name) is not None


def ensure_bridge(name: str, gateway: str, prefix: int) -> None:
    """Make bridge *name* exist with address ``gateway/prefix`` and be up; turn on IP
    forwarding and ``route_localnet`` (so 127.0.0.1 can be DNATed to containers).

    Raises AlreadyExists when *name* exists but is not a bridge, PermissionDenied without
    CAP_NET_ADMIN.
    """
    with _netlink(f"cannot create bridge {name}") as ipr:
        index = _index(ipr, name)
        if index is None:
            # A fixed MAC: otherwise the bridge takes its lowest port's, changing it under
            # the containers' ARP caches as containers come and go.
            mac = "02:42:" + ":".join(f"{b:02x}" for b in os.urandom(4))
            ipr.link("add", ifname=name, kind="bridge", address=mac)
            index = _index(ipr, name)
        elif ipr.get_links(index)[0].get(("linkinfo", "kind")) != "bridge":
            raise errors.AlreadyExists(f"link {name} exists and is not a bridge")
        have = {(a.get("IFA_ADDRESS"), a["prefixlen"]) for a in ipr.get_addr(index=index)}
        if (gateway, prefix) not in have:
            ipr.addr("add", index=index, address=gateway, prefixlen=prefix)
        ipr.link("set", index=index, state="up")
    write_sysctl(f"/proc/sys/net/ipv4/conf/{name}/route_localnet", "1")
    write_sysctl("/proc/sys/net/ipv4/ip_forward", "1")


def remove_link(name: str) -> bool:
    """Delete link *name* (a veth's peer goes with it); False when it was already gone."""
    with _netlink(f"cannot remove link {name}") as ipr:
        index = _index(ipr, name)
        if index is None:
            return False
        try:
            ipr.link("del", index=index)
        except Exception as exc:  # the pair went with its namespace meanwhile
            if getattr(exc, "code", None) == errno.ENODEV:
                return False
            raise
        return True


remove_bridge = remove_link


def _configure_peer(tmp_name: str, ip: str, prefix: int, gateway: str | None) -> Callable[[], str]:
    def inside() -> str:
        with _netlink(f"cannot configure {tmp_name} in the container") as ipr:
            names = {link.get("IFLA_IFNAME") for link in ipr.get_links()}
            ifname = next(f"eth{i}" for i in itertools.count() if f"eth{i}" not in names)
            index = _index(ipr, tmp_name)
            ipr.link("set", index=index, ifname=ifname)
            ipr.addr("add", index=index, address=ip, prefixlen=prefix)
            ipr.link("set", index=index, state="up")
            lo = _index(ipr, "lo")
            if lo is not None:
                ipr.link("set", index=lo, state="up")
            if gateway and not ipr.get_default_routes(family=AF_INET):
                ipr.route("add", dst="0.0.0.0/0", gateway=gateway)
            return ifname

    return inside


def add_veth(
    bridge: str,
    host_name: str,
    netns_path: str,
    mac: str,
    ip: str,
    prefix: int,
    gateway: str | None,
) -> str:
    """Create veth *host_name* on *bridge* with its peer in the namespace at *netns_path*,
    named ``ethN`` (the first free N), with *mac*, ``ip/prefix``, lo up and a default route
    via *gateway* (unless None, or one exists). Returns the peer's name.

    Raises NotFound when the namespace or bridge is missing, AlreadyExists when *host_name*
    exists; on failure nothing is left behind.
    """
    tmp_name = "dyc" + host_name[3:]
    try:
        fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise as_error(exc, f"network namespace {netns_path}") from exc
    try:
        with _netlink(f"cannot create veth {host_name}") as ipr:
            master = _index(ipr, bridge)
            if master is None:
                raise errors.NotFound(f"bridge {bridge} not found")
            peer = {"ifname": tmp_name, "net_ns_fd": fd, "address": mac}
            ipr.link("add", ifname=host_name, kind="veth", peer=peer)
            try:
                index = _index(ipr, host_name)
                ipr.link("set", index=index, master=master, state="up")
                # Hairpin: a container's packets to a host address DNATed back to itself
                # must be allowed out of the port they came in by.
                ipr.brport("set", index=index, mode=1)
            except BaseException:
                ipr.link("del", index=_index(ipr, host_name))
                raise
    finally:
        os.close(fd)
    try:
        return run_in_netns(netns_path, _configure_peer(tmp_name, ip, prefix, gateway))
    except BaseException:
        remove_link(host_name)
        raise


def loopback_up(netns_path: str) -> None:
    """Bring ``lo`` up in the namespace at *netns_path* (``--network none``).

    Raises NotFound when the namespace is missing.
    """

    def inside() -> None:
        with _netlink("cannot bring lo up in the container") as ipr:
            lo = _index(ipr, "lo")
            if lo is not None:
                ipr.link("set", index=lo, state="up")

    run_in_netns(netns_path, inside)


class LinuxLinks:
    """The ``LinkDriver`` of the real kernel, in the calling thread's network namespace."""

    def host_subnets(self) -> list[IPv4Network]:
        return host_subnets()

    def bridge_exists(self, name: str) -> bool:
        return link_exists(name)

    def ensure_bridge(self, name: str, gateway: str, prefix: int) -> None:
        ensure_bridge(name, gateway, prefix)

    def remove_link(self, name: str) -> bool:
        return remove_link(name)

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
        return add_veth(bridge, host_name, netns_path, mac, ip, prefix, gateway)

    def loopback_up(self, netns_path: str) -> None:
        loopback_up(netns_path)
