"""A warm process that forks shims, for a long-lived engine (the API daemon).

``start_shim`` normally runs ``python -m dockyard.runtime.shim``: an interpreter start and the
shim's imports (~50 ms), then, in the shim's launcher child, the builtin runtime's imports
(~30 ms) — on every container start. A daemon instead starts one *zygote* at boot:
``python -m dockyard.runtime.shim.zygote --fd N``, which imports all of that once and then
waits on a ``SOCK_SEQPACKET`` socket. Each request is one message, the state directory, with
the readiness pipe's write end attached (``SCM_RIGHTS``); the zygote forks, and the child
becomes that container's shim exactly as ``python -m dockyard.runtime.shim --ready-fd N
STATE_DIR`` would (it daemonizes at once, so the zygote only reaps the first fork). The
starter then reads the readiness pipe as usual; a dead zygote shows up as a send error and
the starter falls back to exec'ing the shim.

Why a separate program and not a fork of the daemon: the daemon is threaded (forking it
would copy locks held by other threads) and large; the zygote is single-threaded and holds
only what a shim and a launcher need, shared copy-on-write with every shim it forks while it
lives. It runs in a session of its own (no terminal's signals) and exits when its socket
closes, that is with the daemon; the shims it made live on.

Imports only the standard library and the runtime's own modules.
"""

from __future__ import annotations

import array
import os
import socket
import subprocess
import sys

__all__ = ["ShimZygote", "main"]

_MAX_MESSAGE = 4096


class ShimZygote:
    """The starter's handle on a zygote. ``spawn`` is safe to call from several threads (one
    datagram per request)."""

    def __init__(self, sock: socket.socket, proc: subprocess.Popen[bytes]) -> None:
        self.sock = sock
        self.proc = proc

    @classmethod
    def start(cls) -> ShimZygote:
        """Start a zygote. Raises OSError if it cannot be started."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "dockyard.runtime.shim.zygote", "--fd", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True,
                cwd="/", start_new_session=True,
            )  # fmt: skip
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        return cls(ours, proc)

    def spawn(self, state_dir: str, ready_fd: int) -> None:
        """Ask for a shim on *state_dir* that reports on *ready_fd* (the caller keeps and closes
        its copy). Raises OSError when the zygote is gone."""
        fds = array.array("i", [ready_fd])
        self.sock.sendmsg([state_dir.encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])

    def close(self) -> None:
        """Stop the zygote (the shims it made keep running): it exits as soon as its socket
        closes, without an interpreter's teardown."""
        self.sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _preload() -> None:
    """Everything a shim, its launcher and the builtin runtime's commands import, once, before
    the first fork (``encodings.ascii``: the shim's log of a non-UTF-8 locale)."""
    import encodings.ascii  # noqa: F401
    import resource  # noqa: F401

    import dockyard._sys.caps
    import dockyard._sys.namespaces
    import dockyard._sys.pivot
    import dockyard._sys.prctl
    import dockyard._sys.seccomp
    import dockyard.mount
    import dockyard.runtime.builtin.__main__
    import dockyard.runtime.builtin.container_create
    import dockyard.runtime.builtin.container_delete
    import dockyard.runtime.builtin.container_start
    import dockyard.runtime.builtin.init
    import dockyard.runtime.builtin.process
    import dockyard.runtime.builtin.rootfs
    import dockyard.runtime.builtin.seccomp_cache
    import dockyard.runtime.builtin.validate
    import dockyard.runtime.cgroups
    import dockyard.runtime.launch
    import dockyard.runtime.shim.__main__
    import dockyard.runtime.shim.daemon
    import dockyard.runtime.shim.monitor

    dockyard.runtime.builtin.__main__._parser()
    dockyard.runtime.builtin.seccomp_cache.sha256_hex(b"")  # its sha256 module


def _receive(sock: socket.socket) -> tuple[str, int] | None:
    """One request (state dir, ready fd); None when the starter is gone."""
    while True:
        try:
            msg, ancdata, _, _ = sock.recvmsg(_MAX_MESSAGE, socket.CMSG_SPACE(4))
        except InterruptedError:
            continue
        if not msg:
            return None
        fds = array.array("i")
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
        if len(fds) != 1:  # a malformed request: nothing to report on
            for fd in fds:
                os.close(fd)
            continue
        return msg.decode(errors="surrogateescape"), fds[0]


def _name_process(state_dir: str) -> None:
    """``dy-shim-<id>`` as the process name (``ps -o comm``, ``pgrep``): a forked shim's command
    line is the zygote's, so this is how a person tells which container it watches."""
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(f"dy-shim-{os.path.basename(state_dir.rstrip('/'))[:7]}")
    except OSError:
        pass


def serve(sock: socket.socket) -> None:
    """Fork a shim per request until the socket closes."""
    from dockyard.runtime.shim.__main__ import main as shim_main

    while (request := _receive(sock)) is not None:
        state_dir, ready_fd = request
        pid = os.fork()
        if pid == 0:  # the shim-to-be: it daemonizes, so this process exits at once
            code = 1
            try:
                sock.close()
                _name_process(state_dir)
                code = shim_main(["--ready-fd", str(ready_fd), state_dir])
            finally:
                os._exit(code)
        os.close(ready_fd)
        os.waitpid(pid, 0)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "--fd" or not argv[1].isdigit():
        sys.stderr.write("usage: python -m dockyard.runtime.shim.zygote --fd N\n")
        return 2
    sock = socket.socket(fileno=int(argv[1]))
    _preload()
    serve(sock)
    os._exit(0)  # nothing to flush or finalize: no interpreter teardown (~20 ms of a core)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
