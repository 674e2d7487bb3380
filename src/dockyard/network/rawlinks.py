"""``RawLinks``: the bridge driver's ``LinkDriver`` over the package's own rtnetlink client.

Does exactly what ``links.LinuxLinks`` does (the integration tests run both), without
pyroute2's 150-350 ms import: worth it on the ``dockyard run`` hot path. Host side in the
calling thread's network namespace, container side through ``run_in_netns``. Never imports
runtime/, image/ or volume/.
"""

from __future__ import annotations

import errno
import itertools
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from ipaddress import IPv4Network

from dockyard import errors
from dockyard._sys.libc import as_error
from dockyard.network import _rtnl as nl
from dockyard.network._netns import run_in_netns
from dockyard.network.links import write_sysctl

__all__ = ["RawLinks"]


def _index(name: str) -> int | None:
    try:
        return socket.if_nametoindex(name)
    except OSError:
        return None


def _mac(text: str) -> bytes:
    return bytes(int(part, 16) for part in text.split(":"))


@contextmanager
def _rtnl(what: str) -> Iterator[nl.Rtnl]:
    """An rtnetlink socket; kernel refusals become Dockyard errors naming *what*."""
    try:
        with nl.Rtnl() as rtnl:
            yield rtnl
    except OSError as exc:
        raise as_error(exc, what) from exc


def _up(rtnl: nl.Rtnl, index: int, *attrs: bytes) -> None:
    rtnl.new_link(index, nl.IFF_UP, nl.IFF_UP, *attrs)


def _configure_peer(tmp_name: str, ip: str, prefix: int, gateway: str | None) -> Callable[[], str]:
    def inside() -> str:
        with _rtnl(f"cannot configure {tmp_name} in the container") as rtnl:
            names = {name for _, name, _ in rtnl.links()}
            ifname = next(f"eth{i}" for i in itertools.count() if f"eth{i}" not in names)
            index = _index(tmp_name)
            if index is None:
                raise errors.NotFound(f"link {tmp_name} vanished from the container")
            rtnl.new_link(index, 0, 0, nl.attr(nl.IFLA_IFNAME, ifname))
            rtnl.add_addr(index, ip, prefix)
            _up(rtnl, index)
            lo = _index("lo")
            if lo is not None:
                _up(rtnl, lo)
            if gateway and not any(plen == 0 for _, plen, _ in rtnl.routes()):
                rtnl.add_default_route(gateway)
            return ifname

    return inside


class RawLinks:
    """The ``LinkDriver`` of the real kernel, without pyroute2."""

    def host_subnets(self) -> list[IPv4Network]:
        """Subnets of the host's IPv4 addresses and main-table routes."""
        with _rtnl("cannot list host addresses") as rtnl:
            found = [IPv4Network(f"{a}/{p}", strict=False) for a, p in rtnl.addrs()]
            found += [IPv4Network(f"{d}/{p}", strict=False) for d, p, _ in rtnl.routes() if p]
        return found

    def bridge_exists(self, name: str) -> bool:
        return _index(name) is not None

    def ensure_bridge(self, name: str, gateway: str, prefix: int) -> None:
        """As ``links.ensure_bridge``. Raises AlreadyExists when *name* is not a bridge."""
        with _rtnl(f"cannot create bridge {name}") as rtnl:
            index = _index(name)
            if index is None:
                mac = bytes([0x02, 0x42, *os.urandom(4)])  # fixed: see links.ensure_bridge
                kind = nl.nested(nl.IFLA_LINKINFO, nl.attr(nl.INFO_KIND, "bridge"))
                rtnl.new_link(
                    0, 0, 0, nl.attr(nl.IFLA_IFNAME, name), nl.attr(nl.IFLA_ADDRESS, mac), kind
                )
                index = _index(name)
                if index is None:
                    raise errors.NotFound(f"bridge {name} vanished after its creation")
            elif (index, name, "bridge") not in rtnl.links():
                raise errors.AlreadyExists(f"link {name} exists and is not a bridge")
            if (gateway, prefix) not in rtnl.addrs(index):
                rtnl.add_addr(index, gateway, prefix)
            _up(rtnl, index)
        write_sysctl(f"/proc/sys/net/ipv4/conf/{name}/route_localnet", "1")
        write_sysctl("/proc/sys/net/ipv4/ip_forward", "1")

    def remove_link(self, name: str) -> bool:
        """Delete link *name*; False when it was already gone."""
        index = _index(name)
        if index is None:
            return False
        try:
            with nl.Rtnl() as rtnl:
                rtnl.del_link(index)
        except OSError as exc:
            if exc.errno == errno.ENODEV:
                return False
            raise as_error(exc, f"cannot remove link {name}") from exc
        return True

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
        """As ``links.add_veth``: the peer is created inside the container's namespace."""
        tmp_name = "dyc" + host_name[3:]
        try:
            fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise as_error(exc, f"network namespace {netns_path}") from exc
        try:
            with _rtnl(f"cannot create veth {host_name}") as rtnl:
                master = _index(bridge)
                if master is None:
                    raise errors.NotFound(f"bridge {bridge} not found")
                peer = nl.IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
                peer += nl.attr(nl.IFLA_IFNAME, tmp_name) + nl.attr(nl.IFLA_NET_NS_FD, fd)
                peer += nl.attr(nl.IFLA_ADDRESS, _mac(mac))
                info = nl.nested(
                    nl.IFLA_LINKINFO,
                    nl.attr(nl.INFO_KIND, "veth"),
                    nl.nested(nl.INFO_DATA, nl.attr(nl.VETH_INFO_PEER, peer)),
                )
                rtnl.new_link(0, 0, 0, nl.attr(nl.IFLA_IFNAME, host_name), info)
                index = _index(host_name) or 0
                try:
                    _up(rtnl, index, nl.attr(nl.IFLA_MASTER, master))
                    hairpin = nl.nested(
                        nl.IFLA_LINKINFO,
                        nl.attr(nl.INFO_SLAVE_KIND, "bridge"),
                        nl.nested(nl.INFO_SLAVE_DATA, nl.attr(nl.BRPORT_MODE, b"\x01")),
                    )
                    rtnl.new_link(index, 0, 0, hairpin)
                except BaseException:
                    rtnl.del_link(index)
                    raise
        finally:
            os.close(fd)
        try:
            return run_in_netns(netns_path, _configure_peer(tmp_name, ip, prefix, gateway))
        except BaseException:
            self.remove_link(host_name)
            raise

    def loopback_up(self, netns_path: str) -> None:
        """Bring ``lo`` up in the namespace at *netns_path*. Raises NotFound without it."""

        def inside() -> None:
            with _rtnl("cannot bring lo up in the container") as rtnl:
                lo = _index("lo")
                if lo is not None:
                    _up(rtnl, lo)

        run_in_netns(netns_path, inside)
