"""Linux namespaces: unshare(2), setns(2) and sethostname(2), with the CLONE_* flags.

Only raw calls live here; which namespaces a container gets is decided by the runtime from its
OCI spec. Imports only the standard library and ``dockyard._sys.libc`` (layer L1).
"""

from __future__ import annotations

import ctypes
import os

from dockyard._sys.libc import call, libc

__all__ = [
    "CLONE_NEWCGROUP",
    "CLONE_NEWIPC",
    "CLONE_NEWNET",
    "CLONE_NEWNS",
    "CLONE_NEWPID",
    "CLONE_NEWUSER",
    "CLONE_NEWUTS",
    "OCI_NAMESPACE_FLAGS",
    "sethostname",
    "setns",
    "setns_path",
    "unshare",
]

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

#: The OCI runtime-spec namespace ``type`` names and their clone flags.
OCI_NAMESPACE_FLAGS = {
    "mount": CLONE_NEWNS,
    "cgroup": CLONE_NEWCGROUP,
    "uts": CLONE_NEWUTS,
    "ipc": CLONE_NEWIPC,
    "user": CLONE_NEWUSER,
    "pid": CLONE_NEWPID,
    "network": CLONE_NEWNET,
}

libc.unshare.argtypes = [ctypes.c_int]
libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]


def unshare(flags: int) -> None:
    """unshare(2). Raises OSError (EPERM without privilege, EINVAL for a bad combination)."""
    call(libc.unshare, flags, what=f"unshare {flags:#x}")


def setns(fd: int, nstype: int = 0) -> None:
    """setns(2) into the namespace open on *fd*. Raises OSError."""
    call(libc.setns, fd, nstype, what=f"setns {nstype:#x}")


def setns_path(path: str, nstype: int = 0) -> None:
    """Join the namespace at *path* (``/proc/<pid>/ns/net``, a bind mount of one).

    Raises OSError naming the path (ENOENT when it does not exist).
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        call(libc.setns, fd, nstype, what=f"setns {path}")
    finally:
        os.close(fd)


def sethostname(name: str) -> None:
    """sethostname(2) in the caller's UTS namespace. Raises OSError."""
    raw = name.encode()
    call(libc.sethostname, raw, len(raw), what=f"sethostname {name}")
