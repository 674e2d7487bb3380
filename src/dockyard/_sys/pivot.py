"""pivot_root(2): swap the caller's root mount for another one.

Raw call only; the runtime decides when (after the rootfs and its mounts are in place).
Imports only the standard library and ``dockyard._sys.libc`` (layer L1).
"""

from __future__ import annotations

import ctypes
import os

from dockyard._sys.libc import call, libc

__all__ = ["pivot_root"]

libc.pivot_root.argtypes = [ctypes.c_char_p, ctypes.c_char_p]


def pivot_root(new_root: str | os.PathLike[str], put_old: str | os.PathLike[str]) -> None:
    """pivot_root(2). ``pivot_root(".", ".")`` stacks the old root on the new one (runc's trick:
    no put_old directory needed; detach it afterwards with ``umount(".", MNT_DETACH)``).

    Raises OSError naming the new root (EINVAL when it is not a mount point, or when a
    parent mount is shared).
    """
    call(
        libc.pivot_root,
        os.fsencode(new_root),
        os.fsencode(put_old),
        what=f"pivot_root {os.fspath(new_root)}",
    )
