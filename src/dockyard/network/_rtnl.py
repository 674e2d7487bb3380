"""A minimal rtnetlink client: the dozen requests the bridge driver needs, in struct.

Why not pyroute2 here: importing it costs 150-350 ms (its package imports ndb, ipdb,
conntrack and asyncio), which every ``dockyard run`` on a bridge network would pay; this
module imports in well under a millisecond. The socket is made in the calling thread's network
namespace (see ``_netns.py``). Messages follow rtnetlink(7): a header, a fixed struct
(ifinfomsg, ifaddrmsg, rtmsg), then type-length-value attributes padded to 4 bytes.
Imports only the standard library.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["Message", "Rtnl", "attr", "nested"]

# message types and flags (linux/rtnetlink.h, linux/netlink.h)
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_GETADDR = 20, 22
RTM_NEWROUTE, RTM_GETROUTE = 24, 26
NLMSG_ERROR, NLMSG_DONE = 2, 3
F_REQUEST, F_ACK, F_DUMP, F_EXCL, F_CREATE = 0x1, 0x4, 0x300, 0x200, 0x400
NLA_F_NESTED = 0x8000
# attributes
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MASTER, IFLA_LINKINFO, IFLA_NET_NS_FD = 1, 3, 10, 18, 28
INFO_KIND, INFO_DATA, INFO_SLAVE_KIND, INFO_SLAVE_DATA = 1, 2, 4, 5
VETH_INFO_PEER = 1
BRPORT_MODE = 4
IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST = 1, 2, 4
RTA_DST, RTA_GATEWAY, RTA_TABLE = 1, 5, 15
IFF_UP = 0x1
RT_TABLE_MAIN, RTPROT_BOOT, RTN_UNICAST = 254, 3, 1

_HDR = struct.Struct("=IHHII")
IFINFO = struct.Struct("=BxHiII")
IFADDR = struct.Struct("=BBBBi")
RTMSG = struct.Struct("=BBBBBBBBI")


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def attr(kind: int, value: bytes | str | int) -> bytes:
    """One attribute: strings NUL-terminated, ints as u32, bytes as they are."""
    if isinstance(value, str):
        data = value.encode() + b"\0"
    elif isinstance(value, int):
        data = struct.pack("=I", value)
    else:
        data = value
    return _pad(struct.pack("=HH", 4 + len(data), kind) + data)


def nested(kind: int, *attrs: bytes) -> bytes:
    """An attribute holding other attributes."""
    return attr(kind | NLA_F_NESTED, b"".join(attrs))


def parse_attrs(data: bytes) -> dict[int, bytes]:
    """Attributes by type (the nested flag masked off); the last of a repeated type wins."""
    out: dict[int, bytes] = {}
    offset = 0
    while offset + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, offset)
        if length < 4:
            break
        out[kind & ~NLA_F_NESTED & 0x7FFF] = data[offset + 4 : offset + length]
        offset += (length + 3) & ~3
    return out


def cstr(value: bytes) -> str:
    return value.split(b"\0", 1)[0].decode()


@dataclass
class Message:
    """A reply: its type, fixed header bytes and attributes."""

    type: int
    body: bytes
    attrs: dict[int, bytes] = field(default_factory=dict)


class Rtnl:
    """An rtnetlink socket of the calling thread's network namespace."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.seq = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Rtnl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, kind: int, flags: int, body: bytes, fixed: int) -> list[Message]:
        """Send one request and collect its replies (a dump's messages, or just the ack).

        *fixed* is the size of the reply type's fixed header. Raises OSError(errno) when the
        kernel refuses.
        """
        self.seq += 1
        flags |= F_REQUEST | (0 if flags & F_DUMP == F_DUMP else F_ACK)
        self.sock.send(_HDR.pack(_HDR.size + len(body), kind, flags, self.seq, 0) + body)
        return list(self._replies(fixed))

    def _replies(self, fixed: int) -> Iterator[Message]:
        while True:
            data = self.sock.recv(65536)
            offset = 0
            while offset + _HDR.size <= len(data):
                length, kind, _flags, seq, _pid = _HDR.unpack_from(data, offset)
                payload = data[offset + _HDR.size : offset + length]
                offset += (length + 3) & ~3
                if seq != self.seq:
                    continue
                if kind == NLMSG_DONE:
                    return
                if kind == NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", payload)
                    if code:
                        raise OSError(-code, os.strerror(-code))
                    return
                yield Message(kind, payload[:fixed], parse_attrs(payload[fixed:]))

    # -- links -------------------------------------------------------------------------

    def new_link(self, index: int = 0, flags: int = 0, change: int = 0, *attrs: bytes) -> None:
        """RTM_NEWLINK: create a link (index 0) or change one."""
        create = F_CREATE | F_EXCL if index == 0 else 0
        body = IFINFO.pack(socket.AF_UNSPEC, 0, index, flags, change) + b"".join(attrs)
        self.request(RTM_NEWLINK, create, body, IFINFO.size)

    def del_link(self, index: int) -> None:
        self.request(RTM_DELLINK, 0, IFINFO.pack(socket.AF_UNSPEC, 0, index, 0, 0), IFINFO.size)

    def links(self) -> list[tuple[int, str, str]]:
        """Every link as (index, name, kind)."""
        body = IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        out = []
        for msg in self.request(RTM_GETLINK, F_DUMP, body, IFINFO.size):
            _family, _type, index, _flags, _change = IFINFO.unpack(msg.body)
            info = parse_attrs(msg.attrs.get(IFLA_LINKINFO, b""))
            out.append((index, cstr(msg.attrs[IFLA_IFNAME]), cstr(info.get(INFO_KIND, b""))))
        return out

    # -- addresses and routes ----------------------------------------------------------

    def add_addr(self, index: int, address: str, prefix: int) -> None:
        ip = socket.inet_aton(address)
        net = int.from_bytes(ip, "big") | ((1 << (32 - prefix)) - 1)
        body = IFADDR.pack(socket.AF_INET, prefix, 0, 0, index)
        body += attr(IFA_LOCAL, ip) + attr(IFA_ADDRESS, ip)
        body += attr(IFA_BROADCAST, net.to_bytes(4, "big"))
        self.request(RTM_NEWADDR, F_CREATE | F_EXCL, body, IFADDR.size)

    def addrs(self, index: int = 0) -> list[tuple[str, int]]:
        """IPv4 addresses as (address, prefix), of link *index* or of all."""
        body = IFADDR.pack(socket.AF_INET, 0, 0, 0, 0)
        out = []
        for msg in self.request(RTM_GETADDR, F_DUMP, body, IFADDR.size):
            _family, prefix, _flags, _scope, idx = IFADDR.unpack(msg.body)
            raw = msg.attrs.get(IFA_LOCAL) or msg.attrs.get(IFA_ADDRESS)
            if raw and (index == 0 or idx == index):
                out.append((socket.inet_ntoa(raw), prefix))
        return out

    def add_default_route(self, gateway: str) -> None:
        body = RTMSG.pack(socket.AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, 0, RTN_UNICAST, 0)
        body += attr(RTA_GATEWAY, socket.inet_aton(gateway))
        self.request(RTM_NEWROUTE, F_CREATE | F_EXCL, body, RTMSG.size)

    def routes(self) -> list[tuple[str, int, str]]:
        """Main-table IPv4 routes as (destination, prefix length, gateway or "")."""
        body = RTMSG.pack(socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)
        out = []
        for msg in self.request(RTM_GETROUTE, F_DUMP, body, RTMSG.size):
            _f, dst_len, _s, _t, table, _p, _sc, _ty, _fl = RTMSG.unpack(msg.body)
            table = (
                struct.unpack("=I", msg.attrs[RTA_TABLE])[0] if RTA_TABLE in msg.attrs else table
            )
            if table != RT_TABLE_MAIN:
                continue
            dst = socket.inet_ntoa(msg.attrs[RTA_DST]) if RTA_DST in msg.attrs else "0.0.0.0"
            gw = socket.inet_ntoa(msg.attrs[RTA_GATEWAY]) if RTA_GATEWAY in msg.attrs else ""
            out.append((dst, dst_len, gw))
        return out
