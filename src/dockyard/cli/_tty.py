"""Attaching the terminal to a container: stream its output, feed it stdin, pass resizes.

Without a tty the shim's stream is Docker's multiplexed frames (stdout and stderr kept
apart); with one it is raw bytes, our terminal goes into raw mode, SIGWINCH becomes a
resize, and ctrl-p ctrl-q detaches (the container keeps running). One thread and ``select``.

Imports only the standard library.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import sys
from collections.abc import Callable

__all__ = ["DETACH_KEYS", "attach_stream", "terminal_size"]

DETACH_KEYS = b"\x10\x11"  # ctrl-p ctrl-q


def terminal_size(fd: int = 0) -> tuple[int, int] | None:
    """(rows, cols) of the terminal on *fd*, or None when it is not one."""
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return None
    return size.lines, size.columns


class _Demux:
    """Docker's 8-byte framed stream → the right output fd."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> None:
        self.buf += data
        while len(self.buf) >= 8:
            size = int.from_bytes(self.buf[4:8], "big")
            if len(self.buf) < 8 + size:
                return
            fd = 2 if self.buf[0] == 2 else 1
            _write_all(fd, bytes(self.buf[8 : 8 + size]))
            del self.buf[: 8 + size]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[n:]


def attach_stream(
    sock: socket.socket,
    *,
    tty: bool,
    stdin: bool,
    on_resize: Callable[[int, int], None] | None = None,
    on_signal: Callable[[int], None] | None = None,
    stdin_sock: socket.socket | None = None,
) -> bool:
    """Copy the container's output to our stdout/stderr (and our stdin to it) until it ends.

    Without a tty, stdin goes over *stdin_sock* (a second connection), closed at our stdin's
    end so the container sees EOF, while output keeps coming on *sock* (the shim drops a
    client that half-closes). Returns False if the user detached with ctrl-p ctrl-q, True
    when the stream ended.
    """
    in_sock = stdin_sock or sock
    raw_fd = 0 if tty and stdin and os.isatty(0) else -1
    saved = None
    if raw_fd >= 0:
        import termios
        import tty as ttymod

        saved = termios.tcgetattr(raw_fd)
        ttymod.setraw(raw_fd)
    old_handlers: dict[int, object] = {}
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    pending: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        pending.append(signum)
        try:
            os.write(wake_w, b"x")
        except OSError:
            pass

    watched: list[int] = [signal.SIGWINCH] if tty else []
    if on_signal is not None:
        watched += [signal.SIGINT, signal.SIGTERM]
    for sig in watched:
        old_handlers[sig] = signal.signal(sig, handler)
    demux = None if tty else _Demux()
    stdin_open = stdin
    prev = b""
    if tty and on_resize is not None:
        size = terminal_size(0) or terminal_size(1)
        if size:
            on_resize(*size)
    try:
        while True:
            fds: list[int] = [sock.fileno(), wake_r]
            if stdin_open:
                fds.append(0)
            if in_sock is not sock and in_sock.fileno() >= 0:
                fds.append(in_sock.fileno())
            ready, _, _ = select.select(fds, [], [])
            if wake_r in ready:
                try:
                    os.read(wake_r, 64)
                except BlockingIOError:
                    pass
                while pending:
                    signum = pending.pop()
                    if signum == signal.SIGWINCH and on_resize is not None:
                        size = terminal_size(0) or terminal_size(1)
                        if size:
                            on_resize(*size)
                    elif on_signal is not None:
                        on_signal(signum)
            if sock.fileno() in ready:
                data = sock.recv(65536)
                if not data:
                    return True
                if demux is not None:
                    demux.feed(data)
                else:
                    _write_all(1, data)
            second = in_sock is not sock and in_sock.fileno() >= 0 and in_sock.fileno() in ready
            if second and not in_sock.recv(65536):  # its copy of the output is discarded
                in_sock.close()
            if stdin_open and 0 in ready:
                data = os.read(0, 65536)
                if not data:
                    stdin_open = False
                    if in_sock is not sock:
                        in_sock.close()
                    continue
                if tty:
                    joined = prev + data
                    if DETACH_KEYS in joined:
                        return False
                    prev = data[-1:]
                try:
                    in_sock.sendall(data)
                except OSError:
                    stdin_open = False
    finally:
        for sig, old in old_handlers.items():
            signal.signal(sig, old)  # type: ignore[arg-type]
        os.close(wake_r)
        os.close(wake_w)
        if saved is not None:
            import termios

            termios.tcsetattr(raw_fd, termios.TCSADRAIN, saved)
        sys.stdout.flush()
