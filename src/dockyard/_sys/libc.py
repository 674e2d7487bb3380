"""The C library through ctypes, and the one place where errno becomes a Dockyard error.

Every other module in ``_sys/`` calls libc through ``call()`` so a failing syscall raises an
``OSError`` with the right errno and a message naming the operation. Imports only the standard
library and ``dockyard.errors`` (layer L1).
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable
from typing import Any

from dockyard import errors

__all__ = ["as_error", "call", "libc"]

# The soname directly: ctypes.util.find_library runs `ldconfig -p` (and imports subprocess),
# ~15 ms on every container start. glibc's soname has been libc.so.6 for decades.
libc = ctypes.CDLL("libc.so.6", use_errno=True)


def call(fn: Callable[..., int], *args: Any, what: str) -> int:
    """Call a libc function; a -1 result raises ``OSError(errno, "what: strerror")``."""
    res = fn(*args)
    if res == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return int(res)


def as_error(exc: OSError, context: str) -> errors.DockyardError:
    """Map an OSError to the error category a user should see, with *context* in front."""
    message = f"{context}: {exc.strerror or exc}"
    if exc.errno in (errno.ENOENT, errno.ESRCH):
        return errors.NotFound(message)
    if exc.errno in (errno.EEXIST,):
        return errors.AlreadyExists(message)
    if exc.errno in (errno.EPERM, errno.EACCES):
        return errors.PermissionDenied(message)
    if exc.errno in (errno.EBUSY,):
        return errors.Conflict(message)
    if exc.errno in (errno.EINVAL, errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR):
        return errors.InvalidArgument(message)
    if exc.errno in (errno.ENOSYS, errno.EOPNOTSUPP, errno.ENODEV):
        return errors.Unavailable(message)
    return errors.DockyardError(message)
