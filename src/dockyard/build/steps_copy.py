"""COPY and ADD: putting files into a step's root filesystem with Docker's semantics.

* A directory source copies its *contents*; a file goes to ``dest`` itself, or into it when
  ``dest`` ends with ``/``, already is a directory, or several sources are copied.
* Files from the context become ``0:0`` unless ``--chown``; files from a stage or image keep
  their owners. ``--chmod`` sets the mode of everything copied. Modes (otherwise) and
  modification times are kept; directories created on the way are ``0755``.
* A top-level symlink source is followed; symlinks inside a copied directory stay symlinks.
* ``ADD`` of a local tar (plain, gzip, bzip2, xz) extracts it into ``dest``.
* Destinations are resolved inside the rootfs: a symlink in the image cannot send a file to
  the host (``in_root``).

Imports only the standard library, ``dockyard.errors``, ``image/`` and ``build/``.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dockyard import errors

__all__ = [
    "CopyItem",
    "Ownership",
    "copy_items",
    "extract_archive",
    "in_root",
    "is_archive",
    "make_dirs",
]

_ARCHIVE_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


@dataclass(frozen=True)
class Ownership:
    """``--chown``/``--chmod`` as numbers; None keeps what the source has (or 0 from context)."""

    uid: int | None = None
    gid: int | None = None
    mode: int | None = None


@dataclass(frozen=True)
class CopyItem:
    """One resolved source: a host path, or literal bytes (a heredoc) named ``name``."""

    path: Path | None
    name: str
    data: bytes | None = None
    keep_owner: bool = False
    rel: str = ""
    skip: Callable[[str], bool] | None = None  # context paths .dockerignore leaves out


def in_root(root: Path, path: str) -> Path:
    """``path`` (absolute, inside the image) as a host path under ``root``, symlinks on the
    way resolved as if ``root`` were ``/``. The last component is not followed."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        host = root.joinpath(*resolved, part)
        if parts and host.is_symlink():
            hops += 1
            if hops > 40:
                raise errors.InvalidArgument(f"too many levels of symbolic links in {path}")
            target = os.readlink(host)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        resolved.append(part)
    return root.joinpath(*resolved)


def make_dirs(root: Path, path: str, own: Ownership) -> Path:
    """Create directory ``path`` in the image (and its parents), owned as ``own`` says."""
    current = "/"
    for comp in [c for c in path.split("/") if c]:
        current = posixpath.join(current, comp)
        host = in_root(root, current + "/x").parent  # a symlink on the way is followed
        if not os.path.lexists(host):
            host.mkdir(mode=0o755)
            os.chmod(host, 0o755)
            os.chown(host, own.uid or 0, own.gid or 0)
        elif not host.is_dir():
            raise errors.InvalidArgument(f"cannot copy to {path}: {current} is not a directory")
    return in_root(root, path + "/x").parent


def is_archive(path: Path) -> bool:
    """Whether ``ADD`` extracts ``path``: a tar, maybe compressed."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    if head.startswith(_ARCHIVE_MAGIC):
        return True
    return len(head) >= 262 and head[257:262] == b"ustar"


def extract_archive(path: Path, dest: Path) -> None:
    """Extract local tarball ``path`` into directory ``dest`` (ADD); raises InvalidArgument."""
    from dockyard.image.importer import open_any_compression
    from dockyard.image.layer import apply_layer

    with open(path, "rb") as raw:
        import io

        stream = open_any_compression(io.BufferedReader(raw))  # type: ignore[arg-type]
        apply_layer(stream, dest, convert_whiteouts=False)


def _apply_owner(target: Path, st: os.stat_result, own: Ownership, keep: bool) -> None:
    uid = own.uid if own.uid is not None else (st.st_uid if keep else 0)
    gid = own.gid if own.gid is not None else (st.st_gid if keep else 0)
    os.chown(target, uid, gid, follow_symlinks=False)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(target, own.mode if own.mode is not None else stat.S_IMODE(st.st_mode))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _replace(target: Path, keep_dir: bool) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        target.unlink()
    elif target.is_dir() and not keep_dir:
        shutil.rmtree(target)


def _children(item: CopyItem, src: Path, rel: str) -> list[tuple[str, str]]:
    """``(name, context path)`` of the entries of directory ``src`` the item includes."""
    out = []
    for child in sorted(os.listdir(src)):
        child_rel = f"{rel}/{child}" if rel else child
        if item.skip is None or not item.skip(child_rel):
            out.append((child, child_rel))
    return out


def _copy_entry(item: CopyItem, src: Path, target: Path, own: Ownership, rel: str,
                follow: bool) -> None:  # fmt: skip
    keep = item.keep_owner
    st = os.stat(src) if follow else os.lstat(src)
    if stat.S_ISDIR(st.st_mode):
        _replace(target, keep_dir=True)
        if not target.exists():
            target.mkdir()
        for child, child_rel in _children(item, src, rel):
            _copy_entry(item, src / child, target / child, own, child_rel, follow=False)
    elif stat.S_ISLNK(st.st_mode):
        _replace(target, keep_dir=False)
        os.symlink(os.readlink(src), target)
    elif stat.S_ISREG(st.st_mode):
        _replace(target, keep_dir=False)
        shutil.copyfile(src, target, follow_symlinks=True)
    else:
        return  # devices, fifos and sockets are not copied from a context
    _apply_owner(target, st, own, keep)


def copy_items(root: Path, items: list[CopyItem], dest: str, own: Ownership,
               dest_is_dir: bool) -> None:  # fmt: skip
    """Copy ``items`` to image path ``dest`` (absolute) in the mounted ``root``.

    ``dest_is_dir`` (a trailing ``/`` or several sources) makes ``dest`` a directory.
    Raises InvalidArgument for impossible destinations, NotFound for a source that vanished
    or a symlink pointing out of the context.
    """
    try:
        _copy_items(root, items, dest, own, dest_is_dir)
    except FileNotFoundError as exc:
        raise errors.NotFound(f"copy to {dest}: {exc.filename}: no such file or directory") from exc
    except OSError as exc:
        raise errors.InvalidArgument(f"copy to {dest}: {exc}") from exc


def _copy_items(root: Path, items: list[CopyItem], dest: str, own: Ownership,
                dest_is_dir: bool) -> None:  # fmt: skip
    dest_host = in_root(root, dest)
    into_dir = (
        dest_is_dir
        or dest == "/"
        or (dest_host.is_dir() and not dest_host.is_symlink())
        or (dest_host.is_symlink() and in_root(root, dest + "/x").parent.is_dir())
    )
    for item in items:
        if item.data is not None:
            parent = dest if into_dir else posixpath.dirname(dest) or "/"
            target = make_dirs(root, parent, own) / (
                item.name if into_dir else posixpath.basename(dest)
            )
            _replace(target, keep_dir=False)
            target.write_bytes(item.data)
            os.chown(target, own.uid or 0, own.gid or 0)
            os.chmod(target, own.mode if own.mode is not None else 0o644)
            continue
        assert item.path is not None
        st = os.stat(item.path)
        if stat.S_ISDIR(st.st_mode):
            base = make_dirs(root, dest, own)
            for child, child_rel in _children(item, item.path, item.rel):
                _copy_entry(item, item.path / child, base / child, own, child_rel, follow=False)
            continue
        if into_dir:
            target = make_dirs(root, dest, own) / item.name
        else:
            target = make_dirs(root, posixpath.dirname(dest) or "/", own) / posixpath.basename(dest)
        _copy_entry(item, item.path, target, own, item.rel, follow=True)
