"""Ask ext4 to spread snapshot directories over the disk (``chattr +T`` on their parent).

Why: ext4 puts a new directory in its parent's block group, and a new file in its
directory's group. Every snapshot directory would then share the few groups next to
``<root>/snapshots``. On ext4 without a journal, a file creation skips the inodes of its
group that were freed in the last half minute or so, reading each one's inode table block to
tell; in a group where thousands of files were just deleted (an image removed, a test suite's
temporary trees) a creation then costs ~400 µs of kernel time instead of ~25 µs, and a layer
holds thousands of files. The *top directory* flag (``EXT4_TOPDIR_FL``) makes the allocator
treat each child as the top of an unrelated tree, as it does for the children of ``/``: it
puts it in a group with more free inodes and blocks than average and few directories, and
that layer's files follow it there.

The search for that group starts at a hash of the new directory's name; snapshot ids start
at 1 in every store, so a new store would put its snapshots exactly where those of a store
just deleted were (the worst place: every inode there was freed seconds ago). The
snapshotter therefore makes each snapshot directory under a random name and renames it.

Best effort: filesystems without the flag (xfs, btrfs, tmpfs) refuse the ioctl and nothing
changes. Imports only the standard library.
"""

from __future__ import annotations

import array
import fcntl
import os
from pathlib import Path

__all__ = ["spread_children"]

_FS_IOC_GETFLAGS = 0x80086601
_FS_IOC_SETFLAGS = 0x40086602
_FS_TOPDIR_FL = 0x00020000


def spread_children(directory: Path) -> bool:
    """Set the top-directory flag on *directory*; True when it is set (now or before)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, flags, True)
        if not flags[0] & _FS_TOPDIR_FL:
            flags[0] |= _FS_TOPDIR_FL
            fcntl.ioctl(fd, _FS_IOC_SETFLAGS, flags)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
