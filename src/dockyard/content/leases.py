"""Leases on blobs: a process that is about to use a blob (a pull that found it present, or
is downloading it) holds a shared ``flock`` on ``<lock_dir>/blob-<hex>``; whoever wants to
delete a blob (a failed pull cleaning up, garbage collection after ``rmi``) must get the lock
exclusively, without waiting, and skips the blob when it cannot.

Must not import anything above L2.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

__all__ = ["BlobLeases"]


class BlobLeases:
    """Shared ``flock`` leases on blobs a pull uses; see the module docstring.

    Thread-safe; ``release`` drops them all. Without a *lock_dir* every lease is granted and
    every blob counts as unshared.
    """

    def __init__(self, lock_dir: Path | None) -> None:
        self._dir = lock_dir
        self._fds: dict[str, int] = {}
        self._lock = threading.Lock()

    def hold(self, digest: str) -> None:
        """Take a shared lease on *digest* (waits while a failing pull decides about it)."""
        if self._dir is None:
            return
        with self._lock:
            if digest in self._fds:
                return
            self._dir.mkdir(parents=True, exist_ok=True)
            path = self._dir / f"blob-{digest.split(':')[-1]}"
            fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
            self._fds[digest] = fd
        fcntl.flock(fd, fcntl.LOCK_SH)

    def exclusive(self, digest: str) -> bool:
        """Turn the lease on *digest* into an exclusive lock; False when another pull holds
        one (the blob is in use). Raises KeyError when no lease on *digest* is held."""
        if self._dir is None:
            return True
        try:
            fcntl.flock(self._fds[digest], fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        with self._lock:
            fds, self._fds = list(self._fds.values()), {}
        for fd in fds:
            os.close(fd)  # closing the descriptor drops its flock
