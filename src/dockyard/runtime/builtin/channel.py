"""How the runtime's processes talk while a container starts: JSON lines over a pipe from the
init (or exec) stages to the caller, and the checks and connections made before forking.

Imports only the standard library, ``dockyard.errors`` and ``dockyard._sys.libc``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from dockyard import errors

__all__ = ["connect", "error_from", "failure", "messages", "reap", "send", "threads"]


def send(fd: int, message: dict[str, Any]) -> None:
    """Write *message* as one JSON line (atomic: well under PIPE_BUF)."""
    os.write(fd, (json.dumps(message) + "\n").encode())


def messages(fd: int) -> Iterator[dict[str, Any]]:
    """The JSON lines read from *fd* until EOF."""
    buffer = b""
    while chunk := os.read(fd, 65536):
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            yield json.loads(line)


def failure(exc: BaseException) -> dict[str, Any]:
    """The message a stage sends when *exc* stops it (the reader turns it into an error)."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return {"error": text, "errno": getattr(exc, "errno", None)}


def error_from(container_id: str, message: dict[str, Any]) -> errors.DockyardError:
    """The Dockyard error for an ``{"error": ..., "errno": ...}`` message from a stage."""
    text = f"container {container_id}: init: {message['error']}"
    if message.get("errno"):
        from dockyard._sys.libc import as_error

        return as_error(OSError(message["errno"], message["error"]), f"container {container_id}")
    return errors.FailedPrecondition(text)


def threads() -> int:
    """How many threads the calling process has (fork copies only one)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 1


def connect(path: str) -> Any:
    """A unix stream socket connected to *path*. Raises NotFound."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        raise errors.NotFound(f"console socket {path}: {exc.strerror}") from exc
    return sock


def reap(pid: int) -> None:
    """Wait for *pid* if it is our child (we are a subreaper): a dead stage left as a zombie
    keeps the container's PID namespace, and so its init, from ever finishing."""
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
