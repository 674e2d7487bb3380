"""Building layer tarballs in tests: ``build_tar([entry(...), ...]) -> bytes``.

Imported by the unit tests next to it and, through their conftest, by the integration tests
of snapshots and layers.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence

MTIME = 1_600_000_000


def entry(
    name: str,
    kind: bytes = tarfile.REGTYPE,
    data: bytes = b"",
    *,
    mode: int | None = None,
    linkname: str = "",
    uid: int = 0,
    gid: int = 0,
    mtime: int = MTIME,
    xattrs: dict[str, bytes] | None = None,
    dev: tuple[int, int] = (0, 0),
) -> tuple[tarfile.TarInfo, bytes]:
    """One tar member: a TarInfo and its content."""
    info = tarfile.TarInfo(name)
    info.type = kind
    default = {tarfile.DIRTYPE: 0o755, tarfile.SYMTYPE: 0o777}.get(kind, 0o644)
    info.mode = mode if mode is not None else default
    info.linkname = linkname
    info.uid, info.gid = uid, gid
    info.mtime = mtime
    info.devmajor, info.devminor = dev
    info.size = len(data) if kind in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    if xattrs:
        info.pax_headers = {
            "SCHILY.xattr." + k: v.decode("utf-8", "surrogateescape") for k, v in xattrs.items()
        }
    return info, data


def build_tar(entries: Sequence[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.size else None)
    return buf.getvalue()


def whiteout(path: str) -> tuple[tarfile.TarInfo, bytes]:
    """The whiteout entry deleting *path* (``dir/.wh.name``)."""
    head, _, base = path.rpartition("/")
    return entry(f"{head}/.wh.{base}" if head else f".wh.{base}")


def opaque(directory: str) -> tuple[tarfile.TarInfo, bytes]:
    """The entry marking *directory* opaque (``dir/.wh..wh..opq``)."""
    return entry(f"{directory}/.wh..wh..opq")
