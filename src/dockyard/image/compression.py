"""Layer blob compression: detect it by magic bytes, read through it, write with it.

Layer blobs arrive gzip- or zstd-compressed or as a plain tar; the content store keeps them as
pulled, so every reader of a layer goes through :func:`decompressed`. The bytes flow through
native code (``isal.igzip`` for gzip, ``zstandard`` for zstd), never through a Python loop.

Pure I/O helpers over file objects: imports only the standard library, ``isal``, ``zstandard``
and ``dockyard.errors``. Must not import anything above L0 of Dockyard.
"""

from __future__ import annotations

import enum
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, cast

from dockyard import errors

__all__ = ["Compression", "compressed_writer", "decompressed", "detect", "prefixed", "read_errors"]

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BUFSIZE = 1 << 20


class Compression(enum.Enum):
    """How a blob is compressed; the value is the media type suffix (``+gzip``...)."""

    NONE = ""
    GZIP = "gzip"
    ZSTD = "zstd"


def detect(head: bytes) -> Compression:
    """The compression of a blob whose first bytes are *head* (4 bytes suffice)."""
    if head.startswith(_GZIP_MAGIC):
        return Compression.GZIP
    if head.startswith(_ZSTD_MAGIC):
        return Compression.ZSTD
    return Compression.NONE


class _Prefixed(io.RawIOBase):
    """A reader giving *head* first, then the rest of *stream* (undoes a peek)."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


def prefixed(head: bytes, stream: BinaryIO) -> BinaryIO:
    """A buffered reader giving *head* (bytes already read from *stream*), then the rest."""
    return cast(BinaryIO, io.BufferedReader(_Prefixed(head, stream), _BUFSIZE))


def _read_head(stream: BinaryIO, size: int) -> bytes:
    head = b""
    while len(head) < size:
        chunk = stream.read(size - len(head))
        if not chunk:
            break
        head += chunk
    return head


def decompressed(stream: BinaryIO) -> tuple[Compression, BinaryIO]:
    """Detect the compression of *stream* and return ``(compression, reader)``.

    The reader yields the uncompressed bytes; *stream* is read from its current position and
    stays owned by the caller (close it yourself). A corrupt compressed stream surfaces while
    reading as ``InvalidArgument`` (see :func:`read_errors`).
    """
    head = _read_head(stream, 4)
    kind = detect(head)
    raw = cast(BinaryIO, io.BufferedReader(_Prefixed(head, stream), _BUFSIZE))
    if kind is Compression.GZIP:
        from isal import igzip

        return kind, cast(BinaryIO, igzip.IGzipFile(fileobj=raw, mode="rb"))
    if kind is Compression.ZSTD:
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(
            raw, read_size=_BUFSIZE, read_across_frames=True
        )
        return kind, cast(BinaryIO, reader)
    return kind, raw


@contextmanager
def read_errors(what: str) -> Iterator[None]:
    """Turn a decompressor's failure while reading *what* into ``InvalidArgument``."""
    import gzip
    import zlib

    import zstandard
    from isal import isal_zlib

    isal_error = cast(type[BaseException], isal_zlib.error)
    try:
        yield
    except (EOFError, zlib.error, isal_error, gzip.BadGzipFile, zstandard.ZstdError) as exc:
        raise errors.InvalidArgument(f"{what}: corrupt compressed data: {exc}") from exc


@contextmanager
def compressed_writer(
    out: BinaryIO, compression: Compression, level: int = 1
) -> Iterator[BinaryIO]:
    """A writer that compresses into *out*; the stream is finished (not closed) on exit.

    gzip levels 0-3 map to isa-l's levels (its best is 3; 4-9 are clamped), zstd takes its own
    levels (1-22). Raises InvalidArgument for a level out of range.
    """
    if compression is Compression.NONE:
        yield out
        return
    if compression is Compression.GZIP:
        from isal import igzip

        if not 0 <= level <= 9:
            raise errors.InvalidArgument(f"gzip level {level} is not between 0 and 9")
        # mtime=0 keeps the output deterministic: the same tar gives the same blob digest.
        gz = igzip.IGzipFile(fileobj=out, mode="wb", compresslevel=min(level, 3), mtime=0)
        try:
            yield cast(BinaryIO, gz)
        finally:
            gz.close()
        return
    import zstandard

    if not 1 <= level <= 22:
        raise errors.InvalidArgument(f"zstd level {level} is not between 1 and 22")
    writer = zstandard.ZstdCompressor(level=level).stream_writer(out, closefd=False)
    try:
        yield cast(BinaryIO, writer)
    finally:
        writer.close()
