"""Following an attached container from the terminal: ``run`` (foreground) and ``attach``.

Imports the shim's client and the terminal helpers lazily (this is on ``run``'s path).
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

from dockyard import errors

if TYPE_CHECKING:
    from dockyard.metadata.containers import ContainerRecord
    from dockyard.service.containers.service import ContainerService

__all__ = ["follow"]


def follow(
    svc: ContainerService,
    record: ContainerRecord,
    sock: socket.socket,
    *,
    tty: bool,
    stdin: bool,
    proxy_signals: bool,
) -> bool:
    """Stream *record*'s attach socket *sock* (closed here) to our terminal, resizing its tty
    with ours and, without a tty and with *proxy_signals*, passing our signals to its process.
    False if the user detached (ctrl-p ctrl-q), True when the stream ended."""
    from dockyard.cli._tty import attach_stream
    from dockyard.runtime.shim import client

    sd = svc.state_dir(record.id)

    def resize(rows: int, cols: int) -> None:
        try:
            client.resize(sd, rows, cols)
        except errors.DockyardError:
            pass

    def forward(signum: int) -> None:
        pid = int((client.read_state(sd) or {}).get("pid") or 0)
        if pid:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    stdin_sock = client.connect_attach(sd) if stdin and not tty else None
    svc.emit("attach", record)
    try:
        with sock:
            return attach_stream(
                sock, tty=tty, stdin=stdin, on_resize=resize if tty else None,
                on_signal=forward if proxy_signals and not tty else None, stdin_sock=stdin_sock,
            )  # fmt: skip
    finally:
        if stdin_sock is not None:
            stdin_sock.close()
