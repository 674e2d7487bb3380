"""File access to a cgroup filesystem, as the kernel expects it, with errors mapped once.

Interface files are opened without ``O_CREAT`` (a missing file means a missing controller or
cgroup, exactly as on the real cgroupfs) and written in one ``write``. Both drivers go through
a ``CgroupFs``; tests subclass it to play the kernel in a temporary directory.

Imports only the standard library, ``dockyard.errors`` and ``dockyard._sys.libc``.
"""

from __future__ import annotations

import errno
import os
import time

from dockyard import errors

__all__ = ["CgroupFs", "check_path", "remove_cgroup"]


def as_error(exc: OSError, context: str) -> errors.DockyardError:
    """errno → error category, via ``_sys.libc`` imported only on failure: loading ctypes
    would cost every shim (which reads OOM counters through this module) over a megabyte."""
    from dockyard._sys.libc import as_error as _as_error

    return _as_error(exc, context)


def check_path(path: str) -> str:
    """A cgroup path relative to the driver's parent. Raises InvalidArgument."""
    parts = path.strip("/").split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise errors.InvalidArgument(f"invalid cgroup path: {path!r}")
    return path


class CgroupFs:
    """mkdir/rmdir/read/write on cgroupfs; every OSError becomes a Dockyard error."""

    def mkdir(self, path: str, exist_ok: bool = False) -> None:
        """Make one cgroup directory. Raises AlreadyExists unless *exist_ok*."""
        try:
            os.mkdir(path, 0o755)
        except FileExistsError as exc:
            if not exist_ok:
                raise errors.AlreadyExists(f"cgroup {path} already exists") from exc
        except OSError as exc:
            raise as_error(exc, f"create cgroup {path}") from exc

    def rmdir(self, path: str) -> None:
        """Remove one cgroup directory; missing is fine. Raises Conflict while it is in use."""
        try:
            os.rmdir(path)
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno in (errno.EBUSY, errno.ENOTEMPTY):
                raise errors.Conflict(f"cgroup {path} still has processes or children") from exc
            raise as_error(exc, f"remove cgroup {path}") from exc

    def exists(self, path: str) -> bool:
        """Whether the cgroup directory exists."""
        return os.path.isdir(path)

    def has(self, path: str) -> bool:
        """Whether the interface file exists (its controller is enabled)."""
        return os.path.exists(path)

    def read(self, path: str) -> str:
        """The file's text. Raises NotFound (missing cgroup or controller)."""
        try:
            with open(path, encoding="ascii") as f:
                return f.read()
        except OSError as exc:
            raise as_error(exc, f"read {path}") from exc

    def write(self, path: str, value: str) -> None:
        """One write of *value*. Raises NotFound, InvalidArgument (value refused)."""
        data = value.encode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise as_error(exc, f"write {value!r} to {path}") from exc
        try:
            os.write(fd, data)
        except OSError as exc:
            raise as_error(exc, f"write {value!r} to {path}") from exc
        finally:
            os.close(fd)

    def read_int(self, path: str, default: int = 0) -> int:
        """An integer file (``max`` reads as *default*). Raises NotFound."""
        text = self.read(path).strip()
        return default if text in ("", "max") else int(text)

    def read_keyed(self, path: str) -> dict[str, int]:
        """A ``key value`` per line file (memory.events, cpu.stat). Raises NotFound."""
        out: dict[str, int] = {}
        for line in self.read(path).splitlines():
            key, _, value = line.partition(" ")
            if value.strip().lstrip("-").isdigit():
                out[key] = int(value)
        return out

    def read_pids(self, path: str) -> list[int]:
        """The pids listed in a cgroup.procs file. Raises NotFound."""
        return [int(x) for x in self.read(path).split()]


def remove_cgroup(fs: CgroupFs, path: str, wait: float) -> None:
    """rmdir *path*, retrying for *wait* seconds while it is busy. Raises Conflict.

    A process killed a moment ago still counts until the kernel has torn it down.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            fs.rmdir(path)
            return
        except errors.Conflict:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)
