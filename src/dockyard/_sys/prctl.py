"""prctl(2) operations the runtime needs: no_new_privs, keep-caps, capability sets, subreaper.

Raw calls only. Imports only the standard library and ``dockyard._sys.libc`` (layer L1).
"""

from __future__ import annotations

import ctypes

from dockyard._sys.libc import call, libc

__all__ = [
    "ambient_clear_all",
    "ambient_raise",
    "capbset_drop",
    "capbset_read",
    "get_no_new_privs",
    "set_child_subreaper",
    "set_keepcaps",
    "set_no_new_privs",
    "set_pdeathsig",
    "set_seccomp_filter",
]

PR_SET_PDEATHSIG = 1
PR_SET_KEEPCAPS = 8
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_GET_NO_NEW_PRIVS = 39
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4

libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _prctl(option: int, arg2: int = 0, arg3: int = 0, *, what: str) -> int:
    return call(libc.prctl, option, arg2, arg3, 0, 0, what=what)


def set_no_new_privs() -> None:
    """Set no_new_privs: execve can never grant privileges again. Raises OSError."""
    _prctl(PR_SET_NO_NEW_PRIVS, 1, what="prctl(PR_SET_NO_NEW_PRIVS)")


def get_no_new_privs() -> bool:
    """Whether no_new_privs is set on the caller. Raises OSError."""
    return bool(_prctl(PR_GET_NO_NEW_PRIVS, what="prctl(PR_GET_NO_NEW_PRIVS)"))


def set_keepcaps(keep: bool) -> None:
    """Keep the permitted capabilities across a setuid away from 0. Raises OSError."""
    _prctl(PR_SET_KEEPCAPS, int(keep), what="prctl(PR_SET_KEEPCAPS)")


def capbset_read(cap: int) -> bool:
    """Whether *cap* is in the bounding set; raises OSError (EINVAL) for an unknown cap."""
    return bool(_prctl(PR_CAPBSET_READ, cap, what=f"prctl(PR_CAPBSET_READ, {cap})"))


def capbset_drop(cap: int) -> None:
    """Drop *cap* from the bounding set (needs CAP_SETPCAP). Raises OSError."""
    _prctl(PR_CAPBSET_DROP, cap, what=f"prctl(PR_CAPBSET_DROP, {cap})")


def ambient_raise(cap: int) -> None:
    """Raise *cap* in the ambient set (it must be permitted and inheritable). Raises OSError."""
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, what=f"prctl(PR_CAP_AMBIENT_RAISE, {cap})")


def ambient_clear_all() -> None:
    """Empty the ambient set. Raises OSError."""
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, what="prctl(PR_CAP_AMBIENT_CLEAR_ALL)")


def set_child_subreaper(on: bool = True) -> None:
    """Adopt orphaned descendants (so the caller can reap a container's init). Raises OSError."""
    _prctl(PR_SET_CHILD_SUBREAPER, int(on), what="prctl(PR_SET_CHILD_SUBREAPER)")


def set_pdeathsig(sig: int) -> None:
    """Deliver *sig* to the caller when its parent thread dies. Raises OSError."""
    _prctl(PR_SET_PDEATHSIG, sig, what="prctl(PR_SET_PDEATHSIG)")


def set_seccomp_filter(fprog_address: int) -> None:
    """Install the seccomp filter whose ``struct sock_fprog`` is at *fprog_address*.

    Without no_new_privs this needs CAP_SYS_ADMIN. Raises OSError (EACCES, EINVAL).
    """
    _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog_address, what="prctl(PR_SET_SECCOMP)")
