"""A lean, streaming reader of tar archives (ustar, GNU long names, PAX), for layer application.

``tarfile`` in stream mode costs ~100 µs of Python per entry (small reads through two buffer
layers, header parsing field by field); layers hold thousands of small files, so that was most
of a layer's application time. This reader keeps one large buffer, parses a header with a few
slices, and hands file data to ``os.write`` straight from the buffer.

It reads what layers contain: regular files, hard and symbolic links, directories, devices,
fifos, PAX extended headers (``path``, ``linkpath``, ``size``, ``uid``, ``gid``, ``mtime``,
``SCHILY.xattr.*``) and GNU long names/links. A header with a bad checksum is an error; a stream
that ends between two entries ends the archive (as tar takes it), one that ends inside an entry
is an error. Stdlib only; must not import anything above L3.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import BinaryIO

from dockyard import errors

__all__ = ["TarEntry", "TarStream"]

_BLOCK = 512
_CHUNK = 1 << 20
_ZERO_BLOCK = bytes(_BLOCK)

REGTYPE, AREGTYPE, LNKTYPE, SYMTYPE, CHRTYPE, BLKTYPE, DIRTYPE, FIFOTYPE, CONTTYPE = (
    b"0", b"\0", b"1", b"2", b"3", b"4", b"5", b"6", b"7"
)
_PAX, _PAX_GLOBAL, _GNU_LONGNAME, _GNU_LONGLINK = b"x", b"g", b"L", b"K"
_NO_DATA = (LNKTYPE, SYMTYPE, DIRTYPE, CHRTYPE, BLKTYPE, FIFOTYPE)


class TarEntry:
    """One archive member, with the attributes and tests of ``tarfile.TarInfo`` that layer
    application uses."""

    __slots__ = ("devmajor", "devminor", "gid", "linkname", "mode", "mtime", "name",
                 "pax_headers", "size", "type", "uid")

    def __init__(self) -> None:
        self.name = ""
        self.linkname = ""
        self.type = REGTYPE
        self.mode = 0
        self.uid = 0
        self.gid = 0
        self.size = 0
        self.mtime: float = 0
        self.devmajor = 0
        self.devminor = 0
        self.pax_headers: dict[str, str] = {}

    def isreg(self) -> bool:
        return self.type in (REGTYPE, AREGTYPE, CONTTYPE)

    def isdir(self) -> bool:
        return self.type == DIRTYPE

    def issym(self) -> bool:
        return self.type == SYMTYPE

    def islnk(self) -> bool:
        return self.type == LNKTYPE

    def ischr(self) -> bool:
        return self.type == CHRTYPE

    def isblk(self) -> bool:
        return self.type == BLKTYPE

    def isfifo(self) -> bool:
        return self.type == FIFOTYPE


def _number(field: bytes) -> int:
    if field and field[0] & 0x80:  # base-256 (GNU): big-endian, first byte's top bit is the flag
        value = field[0] & 0x3F
        for b in field[1:]:
            value = (value << 8) | b
        return -value if field[0] & 0x40 else value
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax_records(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        length = int(data[pos:space])
        if length <= 0:
            raise errors.InvalidArgument("invalid PAX header record")
        record = data[space + 1 : pos + length - 1]  # without the trailing newline
        key, _, value = record.partition(b"=")
        out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


class TarStream:
    """Iterate over the entries of a tar stream; read each regular file's data with
    :meth:`write_data_to` (unread data is skipped when the iteration moves on)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._buf = b""
        self._off = 0
        self._remaining = 0  # data bytes of the current entry not yet consumed
        self._padding = 0

    def _available(self) -> int:
        return len(self._buf) - self._off

    def _fill(self, need: int) -> bool:
        """Make at least *need* bytes available; False at the end of the stream."""
        while self._available() < need:
            chunk = self._raw.read(max(_CHUNK, need))
            if not chunk:
                return False
            self._buf = self._buf[self._off :] + chunk
            self._off = 0
        return True

    def _take(self, n: int) -> bytes:
        if not self._fill(n):
            raise errors.InvalidArgument("unexpected end of data in the layer tar")
        data = self._buf[self._off : self._off + n]
        self._off += n
        return data

    def _skip(self, n: int) -> None:
        while n:
            if not self._available() and not self._fill(1):
                raise errors.InvalidArgument("unexpected end of data in the layer tar")
            step = min(n, self._available())
            self._off += step
            n -= step

    def write_data_to(self, fd: int) -> None:
        """Write the current entry's data to the file descriptor *fd*."""
        while self._remaining:
            if not self._available() and not self._fill(1):
                raise errors.InvalidArgument("unexpected end of data in the layer tar")
            step = min(self._remaining, self._available())
            view = memoryview(self._buf)[self._off : self._off + step]
            while view:
                view = view[os.write(fd, view):]
            self._off += step
            self._remaining -= step

    def read_data(self, write: Callable[[memoryview], object]) -> None:
        """Pass the current entry's data to *write* in pieces: views into the read buffer,
        valid during the call (``docker load`` copies archive entries into blobs this way)."""
        while self._remaining:
            if not self._available() and not self._fill(1):
                raise errors.InvalidArgument("unexpected end of data in the layer tar")
            step = min(self._remaining, self._available())
            write(memoryview(self._buf)[self._off : self._off + step])
            self._off += step
            self._remaining -= step

    def _finish_entry(self) -> None:
        self._skip(self._remaining + self._padding)
        self._remaining = self._padding = 0

    def __iter__(self) -> Iterator[TarEntry]:
        global_pax: dict[str, str] = {}
        pax: dict[str, str] = {}
        long_name: str | None = None
        long_link: str | None = None
        while True:
            self._finish_entry()
            if not self._fill(_BLOCK):
                return  # the stream ended between entries
            header = self._buf[self._off : self._off + _BLOCK]
            self._off += _BLOCK
            if header == _ZERO_BLOCK:
                return
            stored = _number(header[148:156])
            if stored != sum(header[:148]) + 256 + sum(header[156:]):
                raise errors.InvalidArgument("invalid tar header (bad checksum): not a layer tar")
            kind = header[156:157]
            size = _number(header[124:136])
            if kind in (_PAX, _PAX_GLOBAL, _GNU_LONGNAME, _GNU_LONGLINK):
                data = self._take(size)
                self._skip(-size % _BLOCK)
                if kind == _PAX:
                    pax.update(_pax_records(data))
                elif kind == _PAX_GLOBAL:
                    global_pax.update(_pax_records(data))
                elif kind == _GNU_LONGNAME:
                    long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                else:
                    long_link = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                continue
            entry = TarEntry()
            name = _text(header[0:100])
            if header[257:263] == b"ustar\0" and header[345] != 0:
                name = _text(header[345:500]) + "/" + name
            entry.name = long_name if long_name is not None else name
            entry.linkname = long_link if long_link is not None else _text(header[157:257])
            entry.type = kind
            entry.mode = _number(header[100:108])
            entry.uid = _number(header[108:116])
            entry.gid = _number(header[116:124])
            entry.mtime = _number(header[136:148])
            entry.devmajor = _number(header[329:337])
            entry.devminor = _number(header[337:345])
            if global_pax or pax:
                headers = {**global_pax, **pax}
                entry.pax_headers = headers
                entry.name = headers.get("path", entry.name)
                entry.linkname = headers.get("linkpath", entry.linkname)
                if "size" in headers:
                    size = int(headers["size"])
                if "uid" in headers:
                    entry.uid = int(headers["uid"])
                if "gid" in headers:
                    entry.gid = int(headers["gid"])
                if "mtime" in headers:
                    entry.mtime = float(headers["mtime"])
            if entry.type in _NO_DATA:
                size = 0  # as tarfile: only regular (and unknown) entries carry data
            entry.size = size
            self._remaining = size
            self._padding = -size % _BLOCK
            pax = {}
            long_name = long_link = None
            yield entry
