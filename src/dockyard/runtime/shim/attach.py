"""The attach socket: streams the container's output to clients and takes their stdin.

Without a tty, output is framed as Docker's attach stream (8-byte header: stream 1=stdout
2=stderr, three zero bytes, big-endian length; then the payload); with a tty it is raw.
Whatever a client sends is the container's stdin. A client that cannot keep up (over 1 MiB
queued) is dropped rather than stalling the single-threaded shim.

The socket is bound by a relative name in the shim's working directory (the state dir), since
a unix socket path is limited to 108 bytes and state dirs can be deep; clients connect through
``/proc/self/fd/<dirfd>/attach.sock`` (``client.connect_attach``).

Imports only the standard library.
"""

from __future__ import annotations

import os
import socket

__all__ = ["AttachServer", "ConsoleSocket", "frame"]

MAX_QUEUED = 1 << 20
STREAM_IDS = {"stdin": 0, "stdout": 1, "stderr": 2}


def frame(stream: str, data: bytes) -> bytes:
    """One frame of Docker's multiplexed attach stream."""
    return bytes((STREAM_IDS[stream], 0, 0, 0)) + len(data).to_bytes(4, "big") + data


class AttachServer:
    """A listening unix socket and its clients, driven by the shim's poll loop."""

    def __init__(self, name: str, tty: bool) -> None:
        self.name = name
        self.tty = tty
        if os.path.lexists(name):
            os.unlink(name)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(name)
        os.chmod(name, 0o600)
        self.listener.listen(16)
        self.listener.setblocking(False)
        self.clients: dict[int, socket.socket] = {}
        self.queued: dict[int, bytearray] = {}
        self.input_closed: set[int] = set()
        self.accepted = 0

    def accept(self) -> None:
        """Take a pending connection."""
        try:
            conn, _ = self.listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        self.clients[conn.fileno()] = conn
        self.queued[conn.fileno()] = bytearray()
        self.accepted += 1

    def broadcast(self, stream: str, data: bytes) -> None:
        """Queue output for every client."""
        payload = data if self.tty else frame(stream, data)
        for fd in list(self.clients):
            queue = self.queued[fd]
            queue += payload
            self.flush(fd)
            if fd in self.queued and len(self.queued[fd]) > MAX_QUEUED:
                self.drop(fd)

    def flush(self, fd: int) -> None:
        """Send what is queued for *fd* as far as the socket takes it."""
        queue = self.queued.get(fd)
        if not queue:
            return
        try:
            sent = self.clients[fd].send(queue)
        except BlockingIOError:
            return
        except OSError:
            self.drop(fd)
            return
        del queue[:sent]

    def receive(self, fd: int) -> bytes | None:
        """Bytes a client sent (its stdin), b"" if nothing now, or None at the end of its input.

        The end of a client's input is not the end of the client: ``echo hi | docker run -i``
        shuts down its sending side and still reads the output. A client is dropped only when
        it is gone for good (a hang-up, or a failed send).
        """
        try:
            data = self.clients[fd].recv(65536)
        except BlockingIOError:
            return b""
        except OSError:
            self.drop(fd)
            return None
        if not data:
            self.input_closed.add(fd)
            return None
        return data

    def reading(self, fd: int) -> bool:
        """Does the client still send input?"""
        return fd not in self.input_closed

    def wants_write(self, fd: int) -> bool:
        return bool(self.queued.get(fd))

    def drop(self, fd: int) -> None:
        """Disconnect one client."""
        conn = self.clients.pop(fd, None)
        self.queued.pop(fd, None)
        self.input_closed.discard(fd)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Flush what the clients can take, hang up on them and remove the socket."""
        for fd in list(self.clients):
            conn = self.clients[fd]
            try:
                conn.setblocking(True)
                conn.settimeout(1.0)
                conn.sendall(self.queued.get(fd, b""))
            except OSError:
                pass
            self.drop(fd)
        self.listener.close()
        try:
            os.unlink(self.name)
        except FileNotFoundError:
            pass


class ConsoleSocket:
    """Where an OCI runtime (``create --console-socket``) sends the pty master it made.

    Bound by a name relative to the state dir, which is the launcher's working directory too,
    so ``--console-socket console.sock`` reaches it whatever the state dir's length.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        if os.path.lexists(name):
            os.unlink(name)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(name)
        os.chmod(name, 0o600)
        self.listener.listen(4)
        self.listener.setblocking(False)

    def receive(self) -> int | None:
        """Accept one connection and take the fd it carries (SCM_RIGHTS), if any."""
        try:
            conn, _ = self.listener.accept()
        except BlockingIOError:
            return None
        try:
            conn.settimeout(5.0)
            _msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 1)
        except OSError:
            return None
        finally:
            conn.close()
        return fds[0] if fds else None

    def close(self) -> None:
        """Stop listening and remove the socket."""
        self.listener.close()
        try:
            os.unlink(self.name)
        except FileNotFoundError:
            pass
