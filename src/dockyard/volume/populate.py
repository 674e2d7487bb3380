"""Filling an empty volume with what the image holds at the mount's path (Docker's copy-up).

When a container mounts a volume on a path where its image has files, and the volume is
empty and has never been filled, the files are copied in first: contents, owners, modes,
timestamps, extended attributes, symlinks (as links, never followed), hard links (as links
again), device nodes and fifos. The volume's root takes the owner and mode of the image's
directory. A marker beside the data directory (``<volume>/populated``) records that it was
done, so a volume a user emptied on purpose is not refilled.

Symlinks in the image are never followed on the host: the source directory is found with
the image rootfs as ``/`` (:func:`source_in_rootfs`), and the walk uses ``lstat``.

Imports only the standard library and ``dockyard.errors``.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

from dockyard import errors

__all__ = ["MARKER", "populate", "source_in_rootfs"]

MARKER = "populated"
_MAX_LINKS = 40


def source_in_rootfs(rootfs: Path, container_path: str) -> Path | None:
    """The host path of *container_path* inside *rootfs*, following symlinks as if *rootfs*
    were ``/``; None when it does not exist or is not a directory."""
    current = rootfs
    pending = [p for p in container_path.split("/") if p not in ("", ".")]
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            current = current.parent if current != rootfs else rootfs
            continue
        candidate = current / part
        if candidate.is_symlink():
            hops += 1
            if hops > _MAX_LINKS:
                return None
            link = os.readlink(candidate)
            if link.startswith("/"):
                current = rootfs
            pending = [p for p in link.split("/") if p not in ("", ".")] + pending
            continue
        current = candidate
    return current if current.is_dir() and not current.is_symlink() else None


def _marker(volume_path: Path) -> Path:
    return volume_path.parent / MARKER


def populate(volume_path: Path, source_dir: Path | None, mark: bool = True) -> bool:
    """Copy *source_dir* (a directory of an image rootfs) into the volume at *volume_path* if
    the volume is empty and was never populated; return True when it copied.

    With *mark* (the default) a marker is left beside *volume_path* so the copy happens once
    (pass False for a tmpfs-backed volume, which is empty again at every mount).
    Raises NotFound when *volume_path* is missing, DockyardError when a copy fails.
    """
    if not volume_path.is_dir():
        raise errors.NotFound(f"volume path {volume_path}: no such directory")
    if mark and _marker(volume_path).exists():
        return False
    if source_dir is None or not source_dir.is_dir():
        return False  # nothing to copy: the volume stays as it is, and may be filled later
    with os.scandir(volume_path) as it:
        if any(it):
            return False
    try:
        _copy_tree(source_dir, volume_path, {})
        _copy_meta(source_dir, volume_path, os.lstat(source_dir))
    except OSError as exc:
        raise errors.DockyardError(f"populate volume {volume_path} from {source_dir}: {exc}") from exc
    if mark:
        _marker(volume_path).touch()
    return True


def _copy_tree(src: Path, dst: Path, links: dict[tuple[int, int], Path]) -> None:
    with os.scandir(src) as entries:
        for entry in entries:
            s = Path(entry.path)
            d = dst / entry.name
            st = os.lstat(s)
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                os.mkdir(d, 0o700)
                _copy_tree(s, d, links)
            elif stat.S_ISLNK(mode):
                os.symlink(os.readlink(s), d)
            elif stat.S_ISREG(mode):
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in links:
                    os.link(links[key], d)
                    continue  # a hard link shares the first copy's metadata
                shutil.copyfile(s, d, follow_symlinks=False)
                if st.st_nlink > 1:
                    links[key] = d
            elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
                os.mknod(d, mode, st.st_rdev)
            else:
                continue  # sockets are not copied (Docker skips them too)
            _copy_meta(s, d, st)


def _copy_meta(src: Path, dst: Path, st: os.stat_result) -> None:
    """Owner, extended attributes, mode and times of *src* onto *dst* (links not followed)."""
    os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
    _copy_xattrs(src, dst)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(dst, stat.S_IMODE(st.st_mode))  # after chown, which clears setuid bits
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _copy_xattrs(src: Path, dst: Path) -> None:
    try:
        names = os.listxattr(src, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EPERM):
            return
        raise
    for name in names:
        try:
            os.setxattr(dst, name, os.getxattr(src, name, follow_symlinks=False),
                        follow_symlinks=False)  # fmt: skip
        except OSError as exc:
            if exc.errno not in (errno.ENOTSUP, errno.EPERM):
                raise
