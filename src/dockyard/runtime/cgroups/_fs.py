"""File access to a cgroup filesystem, as the kernel expects it, with errors mapped once.

Interface files are opened without ``O_CREAT`` (a missing file means a missing controller or
cgroup, exactly as on the real cgroupfs) and written in one ``write``. Both drivers go through
a ``CgroupFs``; tests subclass it to play the kernel in a temporary directory.

Imports only the standard library, ``dockyard.errors`` and ``dockyard._sys.libc``.
"""

from __future__ import annotations

import errno
import os

from dockyard import errors
from dockyard._sys.libc import as_error

__all__ = ["CgroupFs", "check_path"]


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
