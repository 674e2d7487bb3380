"""The little of the DNS wire format (RFC 1035) the embedded server needs, as pure functions.

Parse the question of a query; build a response carrying A or PTR answers, an empty answer or
an error code. Everything else is forwarded upstream byte for byte. Imports only the standard
library.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

__all__ = [
    "NXDOMAIN",
    "SERVFAIL",
    "TYPE_A",
    "TYPE_AAAA",
    "TYPE_PTR",
    "Question",
    "build_query",
    "build_response",
    "encode_name",
    "parse_question",
    "parse_response_answers",
    "ptr_name",
]

TYPE_A = 1
TYPE_PTR = 12
TYPE_AAAA = 28
CLASS_IN = 1
NOERROR = 0
FORMERR = 1
SERVFAIL = 2
NXDOMAIN = 3
_HEADER = struct.Struct("!HHHHHH")


@dataclass(frozen=True)
class Question:
    """The first question of a message: ``name`` in lower case without the final dot."""

    id: int
    flags: int
    name: str
    qtype: int
    qclass: int
    end: int  # offset just past the question in the message


def encode_name(name: str) -> bytes:
    """``"web.local"`` as length-prefixed labels. Raises ValueError for an over-long label."""
    out = bytearray()
    for label in name.strip(".").split("."):
        if not label:
            continue
        raw = label.encode("idna") if not label.isascii() else label.encode()
        if len(raw) > 63:
            raise ValueError(f"DNS label too long: {label!r}")
        out += bytes([len(raw)]) + raw
    return bytes(out + b"\0")


def _read_name(data: bytes, offset: int) -> tuple[str, int]:
    labels: list[str] = []
    end = -1
    for _ in range(128):
        length = data[offset]
        if length & 0xC0 == 0xC0:
            if end < 0:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            continue
        if length == 0:
            return ".".join(labels), (end if end >= 0 else offset + 1)
        labels.append(data[offset + 1 : offset + 1 + length].decode("ascii", "replace"))
        offset += 1 + length
    raise ValueError("DNS name loop")


def parse_question(data: bytes) -> Question:
    """The header and first question of *data*. Raises ValueError when it is malformed."""
    try:
        ident, flags, qdcount, _an, _ns, _ar = _HEADER.unpack_from(data)
        if qdcount < 1:
            raise ValueError("no question")
        name, offset = _read_name(data, _HEADER.size)
        qtype, qclass = struct.unpack_from("!HH", data, offset)
    except (struct.error, IndexError) as exc:
        raise ValueError(f"malformed DNS message: {exc}") from exc
    return Question(ident, flags, name.lower(), qtype, qclass, offset + 4)


def build_query(ident: int, name: str, qtype: int) -> bytes:
    """A recursive query for *name* (used by tests and health checks)."""
    return (
        _HEADER.pack(ident, 0x0100, 1, 0, 0, 0)
        + encode_name(name)
        + struct.pack("!HH", qtype, CLASS_IN)
    )


def build_response(
    query: bytes, q: Question, rcode: int, answers: list[tuple[int, bytes]], ttl: int = 600
) -> bytes:
    """A reply to *query*: authoritative, recursion available, echoing its first question,
    with *answers* as ``(type, rdata)`` for the question's name."""
    flags = 0x8000 | (q.flags & 0x7900) | 0x0400 | 0x0080 | (rcode & 0xF)
    out = bytearray(_HEADER.pack(q.id, flags, 1, len(answers), 0, 0))
    out += query[_HEADER.size : q.end]
    for rtype, rdata in answers:
        out += struct.pack("!HHHIH", 0xC000 | _HEADER.size, rtype, CLASS_IN, ttl, len(rdata))
        out += rdata
    return bytes(out)


def ptr_name(ip: str) -> str:
    """``"10.0.0.2"`` → ``"2.0.0.10.in-addr.arpa"``."""
    return ipaddress.IPv4Address(ip).reverse_pointer


def parse_response_answers(data: bytes) -> tuple[int, list[tuple[int, str]]]:
    """The rcode and ``(type, value)`` answers of a response; A and PTR values decoded."""
    q = parse_question(data)
    _id, flags, _qd, ancount, _ns, _ar = _HEADER.unpack_from(data)
    offset = q.end
    answers: list[tuple[int, str]] = []
    for _ in range(ancount):
        _name, offset = _read_name(data, offset)
        rtype, _cls, _ttl, length = struct.unpack_from("!HHIH", data, offset)
        offset += 10
        rdata = data[offset : offset + length]
        if rtype == TYPE_A:
            answers.append((rtype, str(ipaddress.IPv4Address(rdata))))
        elif rtype == TYPE_PTR:
            answers.append((rtype, _read_name(data, offset)[0]))
        else:
            answers.append((rtype, rdata.hex()))
        offset += length
    return flags & 0xF, answers
