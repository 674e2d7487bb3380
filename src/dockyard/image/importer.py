"""Make a one-layer image from a root filesystem tarball (``dockyard import``).

The tarball (plain, gzip, zstd, bzip2 or xz) is read once: its uncompressed bytes are hashed
(the diff id) and recompressed with gzip into a content-store blob, so the layer pushes with
stable digests. The config and manifest are written beside it; the caller registers the image.

Must not import runtime/, network/, volume/ or anything above L3.
"""

from __future__ import annotations

import bz2
import hashlib
import lzma
from dataclasses import dataclass
from typing import Any, BinaryIO

from dockyard.content.store import ContentStore
from dockyard.image.compression import Compression, compressed_writer, decompressed, read_errors
from dockyard.oci import image as docs
from dockyard.oci import mediatypes as mt
from dockyard.oci.platform import Platform

__all__ = ["ImportedImage", "import_rootfs", "open_any_compression"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ImportedImage:
    manifest_digest: str
    config_digest: str


class _Tee:
    """A write-only file that hashes what passes and forwards it."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return int(self.sink.write(data))


def open_any_compression(stream: BinaryIO) -> BinaryIO:
    """A reader of the uncompressed bytes of a tarball compressed any way Docker accepts."""
    head = stream.peek(6)[:6] if hasattr(stream, "peek") else b""
    if head.startswith(b"BZh"):
        return bz2.BZ2File(stream)  # type: ignore[return-value]
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(stream)  # type: ignore[return-value]
    return decompressed(stream)[1]


def import_rootfs(
    content: ContentStore,
    stream: BinaryIO,
    platform: Platform,
    config: dict[str, Any],
    comment: str,
    created: str,
) -> ImportedImage:
    """Store *stream* (a rootfs tarball) as a layer blob plus config and manifest.

    Raises InvalidArgument for corrupt compressed input.
    """
    plain = open_any_compression(stream)
    with content.writer() as blob:
        with compressed_writer(blob, Compression.GZIP, level=1) as gz, read_errors("import"):  # type: ignore[arg-type]
            tee = _Tee(gz)
            while chunk := plain.read(_CHUNK):
                tee.write(chunk)
        layer_digest = blob.commit()
    diff_id = "sha256:" + tee.hash.hexdigest()
    layer = docs.descriptor(mt.OCI_LAYER_GZIP, layer_digest, content.info(layer_digest).size)
    history = [docs.history_entry(created, comment=comment)]
    config_doc = docs.new_config(platform, [diff_id], created, config, history)
    config_bytes = docs.canonical(config_doc)
    config_digest = content.put_bytes(config_bytes)
    manifest_bytes = docs.canonical(docs.new_manifest(config_bytes, [layer]))
    manifest_digest = content.put_bytes(manifest_bytes)
    return ImportedImage(manifest_digest, config_digest)
