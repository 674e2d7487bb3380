"""Making tars from directories: a layer from an overlay upper dir, or a whole tree for export.

``write_layer_from_upper(upper, out)`` turns the upper directory of an active snapshot (what a
container or a build step changed) into an OCI layer tar:

* an overlay whiteout (character device 0:0) named ``NAME`` → an empty file ``.wh.NAME``
* a directory with ``trusted.overlay.opaque=y`` → the directory, then ``dir/.wh..wh..opq``
* ``trusted.overlay.*`` xattrs are never written; other xattrs go in PAX ``SCHILY.xattr.*``
* hard links between files of the tree are kept as tar hard links (first name wins)

``write_tree(root, out)`` writes a tree as it is (``docker export``): no whiteout conversion.

Neither descends into a directory on another filesystem (a mount point inside the tree, like
``/proc`` in a running container's root): the directory itself is archived, empty.

Both are deterministic: entries in sorted byte order of their names, numeric uid/gid only (no
user or group names), mtimes as whole seconds, PAX format, no atime/ctime. The same tree gives
the same bytes, hence the same diff id, which both return (sha256 of the tar they wrote).

Imports only the standard library and ``dockyard.image.layer`` (for the whiteout names).
Must not import ``snapshot/``, ``runtime/`` or anything above L3.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from dockyard import errors
from dockyard.image.layer import OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX

if TYPE_CHECKING:
    from dockyard.content.protocol import Ingester

__all__ = ["write_layer_blob", "write_layer_from_upper", "write_tree"]

_CHUNK = 1 << 20
_SKIP_XATTRS = ("trusted.overlay.", "user.overlay.")


class _HashingWriter:
    """Hashes every byte written through it to *out*."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self._out.write(data)
        return len(data)


def write_layer_from_upper(upper_dir: Path, out: BinaryIO) -> str:
    """Write the layer tar of an overlay upper dir to *out*; returns its diff id.

    Raises NotFound if *upper_dir* is not a directory, DockyardError on I/O failure.
    """
    return _write(upper_dir, out, overlay=True)


def write_tree(root_dir: Path, out: BinaryIO) -> str:
    """Write a tar of the whole tree at *root_dir* to *out*; returns the sha256 of the tar.

    Raises NotFound if *root_dir* is not a directory, DockyardError on I/O failure.
    """
    return _write(root_dir, out, overlay=False)


def _write(root: Path, out: BinaryIO, overlay: bool) -> str:
    if not root.is_dir():
        raise errors.NotFound(f"no such directory to archive: {root}")
    writer = _HashingWriter(out)
    try:
        with tarfile.open(  # type: ignore[call-overload]
            fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT, copybufsize=_CHUNK
        ) as tar:
            _Archiver(tar, root, overlay).walk(os.fsencode(root), b"")
    except OSError as exc:
        raise errors.DockyardError(f"archiving {root}: {exc}") from exc
    return "sha256:" + writer.sha.hexdigest()


class _Archiver:
    def __init__(self, tar: tarfile.TarFile, root: Path, overlay: bool) -> None:
        self.tar = tar
        self.root = root
        self.overlay = overlay
        self.links: dict[tuple[int, int], str] = {}
        self.root_dev = os.stat(root).st_dev

    def walk(self, directory: bytes, prefix: bytes) -> None:
        """Archive the children of *directory* (named ``prefix + name``), sorted, depth first."""
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            path = entry.path
            name = prefix + entry.name
            st = entry.stat(follow_symlinks=False)
            self.add(path, name, st)
            if stat.S_ISDIR(st.st_mode):
                if self.overlay and _xattr(path, OPAQUE_XATTR) == b"y":
                    self.add_whiteout(name + b"/" + WHITEOUT_OPAQUE.encode(), st)
                if st.st_dev == self.root_dev:  # never descend into another mount (/proc...)
                    self.walk(path, name + b"/")

    def add(self, path: bytes, name: bytes, st: os.stat_result) -> None:
        mode = st.st_mode
        if self.overlay and stat.S_ISCHR(mode) and st.st_rdev == 0:
            head, _, base = name.rpartition(b"/")
            self.add_whiteout((head + b"/" if head else b"") + WHITEOUT_PREFIX.encode() + base, st)
            return
        info = self.header(path, name, st)
        if stat.S_ISREG(mode):
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in self.links:
                info.type = tarfile.LNKTYPE
                info.linkname = self.links[key]
                info.size = 0
                self.tar.addfile(info)
                return
            if st.st_nlink > 1:
                self.links[key] = info.name
            info.type = tarfile.REGTYPE
            info.size = st.st_size
            with open(path, "rb") as f:
                self.tar.addfile(info, f)
            return
        if stat.S_ISDIR(mode):
            info.type = tarfile.DIRTYPE
        elif stat.S_ISLNK(mode):
            info.type = tarfile.SYMTYPE
            info.linkname = os.fsdecode(os.readlink(path))
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            info.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        elif stat.S_ISFIFO(mode):
            info.type = tarfile.FIFOTYPE
        else:
            return  # sockets are not archived (as tar and Docker)
        self.tar.addfile(info)

    def header(self, path: bytes, name: bytes, st: os.stat_result) -> tarfile.TarInfo:
        info = tarfile.TarInfo(os.fsdecode(name))
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = st.st_uid, st.st_gid
        info.uname = info.gname = ""
        info.mtime = int(st.st_mtime)
        pax: dict[str, str] = {}
        for key, value in sorted(_xattrs(path).items()):
            if not key.startswith(_SKIP_XATTRS):
                pax["SCHILY.xattr." + key] = value.decode("utf-8", "surrogateescape")
        info.pax_headers = pax
        return info

    def add_whiteout(self, name: bytes, st: os.stat_result) -> None:
        info = tarfile.TarInfo(os.fsdecode(name))
        info.type = tarfile.REGTYPE
        info.mode = 0o600 if stat.S_ISDIR(st.st_mode) else stat.S_IMODE(st.st_mode)
        info.uid, info.gid = st.st_uid, st.st_gid
        info.uname = info.gname = ""
        info.mtime = int(st.st_mtime)
        self.tar.addfile(info)


def _xattrs(path: bytes) -> dict[str, bytes]:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    found: dict[str, bytes] = {}
    for key in names:
        value = _xattr(path, key)
        if value is not None:
            found[key] = value
    return found


def _xattr(path: bytes, key: str) -> bytes | None:
    try:
        return os.getxattr(path, key, follow_symlinks=False)
    except OSError:
        return None


def write_layer_blob(content: Ingester, upper_dir: Path) -> tuple[str, dict[str, Any]]:
    """Store the layer of an overlay upper dir (or a layer's own dir) as a gzip blob in
    *content*; returns ``(diff id, descriptor)``. Nothing is stored if this raises."""
    from dockyard.image.compression import Compression, compressed_writer
    from dockyard.oci import image as docs
    from dockyard.oci import mediatypes as mt

    with content.writer() as blob:
        with compressed_writer(blob, Compression.GZIP, level=1) as gz:  # type: ignore[arg-type]
            diff_id = write_layer_from_upper(upper_dir, gz)
        size = blob.offset
        digest = blob.commit()
    return diff_id, docs.descriptor(mt.OCI_LAYER_GZIP, digest, size)
