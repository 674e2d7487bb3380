"""Deleting snapshot directories that fight back, and measuring them.

A layer can leave read-only directories (mode 0555), and a container can set the immutable or
append-only attribute (``chattr +i``) on its files; ``remove_tree`` clears both before it
deletes. It never deletes through a mount point: callers check ``active_mounts`` first, and
``remove_tree`` refuses (Conflict) if something is mounted below the tree.

Imports only the standard library, ``dockyard.errors`` and ``dockyard.mount``.
"""

from __future__ import annotations

import array
import fcntl
import os
import shutil
import stat
from pathlib import Path

from dockyard import errors
from dockyard.mount import active_mounts

__all__ = ["disk_usage", "remove_tree"]

_FS_IOC_GETFLAGS = 0x80086601
_FS_IOC_SETFLAGS = 0x40086602
_FS_IMMUTABLE_FL = 0x10
_FS_APPEND_FL = 0x20


def remove_tree(path: Path) -> None:
    """Delete *path* and everything below it; a missing path is fine.

    Raises Conflict if something is mounted at or below it, DockyardError if it cannot go.
    """
    if not os.path.lexists(path):
        return
    mounted = active_mounts(path)
    if mounted:
        raise errors.Conflict(f"cannot remove {path}: {mounted[0]} is mounted below it")
    try:
        _rmtree(path)
        return
    except OSError:
        pass
    _unlock(path)
    try:
        _rmtree(path)
    except OSError as exc:
        raise errors.DockyardError(f"cannot remove {path}: {exc}") from exc


def _rmtree(path: Path) -> None:
    """shutil.rmtree, where entries vanishing meanwhile (a concurrent cleanup) are fine."""

    def onerror(func: object, failed: str, exc_info: tuple[type, BaseException, object]) -> None:
        if not isinstance(exc_info[1], FileNotFoundError):
            raise exc_info[1]

    shutil.rmtree(path, onerror=onerror)


def _unlock(top: Path) -> None:
    """Make every directory below *top* writable and clear immutable/append-only flags."""
    _clear_flags(os.fspath(top))
    for dirpath, dirnames, filenames in os.walk(top, topdown=True, followlinks=False):
        try:
            os.chmod(dirpath, 0o700)
        except OSError:
            pass
        for name in dirnames + filenames:
            _clear_flags(os.path.join(dirpath, name))


def _clear_flags(path: str) -> None:
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return  # opening a device or fifo could block or have side effects
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return
    try:
        buf = array.array("i", [0])
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, buf, True)
        if buf[0] & (_FS_IMMUTABLE_FL | _FS_APPEND_FL):
            buf[0] &= ~(_FS_IMMUTABLE_FL | _FS_APPEND_FL)
            fcntl.ioctl(fd, _FS_IOC_SETFLAGS, buf)
    except OSError:
        pass  # filesystem without flags, or not permitted: rmtree reports what remains
    finally:
        os.close(fd)


def disk_usage(top: Path) -> tuple[int, int]:
    """``(bytes, inodes)`` used by the tree at *top* (allocated blocks, each inode once)."""
    seen: set[tuple[int, int]] = set()
    size = 0
    stack = [os.fspath(top)]
    while stack:
        current = stack.pop()
        try:
            it = os.scandir(current)
        except OSError:
            continue
        with it:
            for entry in it:
                st = entry.stat(follow_symlinks=False)
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                key = (st.st_dev, st.st_ino)
                if key not in seen:
                    seen.add(key)
                    size += st.st_blocks * 512
    return size, len(seen)
