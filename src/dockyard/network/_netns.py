"""Running code inside a network namespace, one thread at a time.

A network namespace is a per-thread property: ``setns(fd, CLONE_NEWNET)`` in a fresh thread
moves that thread alone, and every socket it opens (netlink included) stays bound to that
namespace after the thread ends. So ``run_in_netns`` runs a function in a short-lived thread
entered into the namespace: no fork of a threaded process, and the caller's own namespace never
changes. Subprocesses started from such a thread inherit its namespace too.

Uses ctypes only through ``dockyard._sys.libc``; imports nothing above L1.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from dockyard import errors
from dockyard._sys.libc import as_error, call, libc

__all__ = ["CLONE_NEWNET", "new_netns", "run_in_netns", "setns"]

CLONE_NEWNET = 0x40000000
T = TypeVar("T")


def setns(fd: int, what: str) -> None:
    """Move the calling thread into the network namespace open as *fd*.

    Raises InvalidArgument when *fd* is not a network namespace, PermissionDenied without
    CAP_SYS_ADMIN.
    """
    try:
        call(libc.setns, fd, CLONE_NEWNET, what=f"setns {what}")
    except OSError as exc:
        raise as_error(exc, f"cannot enter network namespace {what}") from exc


def _in_thread(fn: Callable[[], T]) -> T:
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=work, name="dockyard-netns")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


def run_in_netns(path: str, fn: Callable[[], T]) -> T:
    """``fn()`` run in a thread inside the network namespace at *path*; its result or error.

    Raises NotFound when *path* does not exist, and whatever *fn* raises.
    """

    def entered() -> T:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise as_error(exc, f"network namespace {path}") from exc
        try:
            setns(fd, path)
        finally:
            os.close(fd)
        return fn()

    return _in_thread(entered)


def new_netns() -> int:
    """A new, empty network namespace, as an open fd (closing the last reference frees it).

    Its path for ``run_in_netns`` is ``/proc/<pid>/fd/<fd>``. Raises PermissionDenied
    without CAP_SYS_ADMIN.
    """

    def make() -> int:
        try:
            call(libc.unshare, CLONE_NEWNET, what="unshare(CLONE_NEWNET)")
        except OSError as exc:
            raise as_error(exc, "cannot create a network namespace") from exc
        return os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)

    fd = _in_thread(make)
    if fd < 0:
        raise errors.Unavailable("cannot create a network namespace")
    return fd
