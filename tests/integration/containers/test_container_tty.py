"""``run -it`` gives a real terminal: the size of ours, our keystrokes, the exit code, and
ctrl-p ctrl-q detaches leaving the container running. ``-i`` alone streams stdin to EOF."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time

from _helpers.containers import DOCKYARD, Dockyard


def _read_until(fd: int, marker: bytes, timeout: float = 15) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while marker not in out and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def _spawn_in_pty(d: Dockyard, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
    proc = subprocess.Popen(
        [*DOCKYARD, "--root", str(d.root), *args],
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    return proc, master


def test_run_it_is_an_interactive_terminal(dockyard: Dockyard) -> None:
    proc, master = _spawn_in_pty(
        dockyard, "run", "--rm", "-it", "busybox", "sh", "-c",
        "stty size; tty; echo ready; read x; echo got $x; exit 5",
    )  # fmt: skip
    try:
        out = _read_until(master, b"ready")
        assert b"33 111" in out and b"/dev/pts/0" in out
        os.write(master, b"42\r")
        assert b"got 42" in _read_until(master, b"got 42")
        assert proc.wait(timeout=15) == 5
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()


def test_detach_keys_leave_the_container_running(dockyard: Dockyard) -> None:
    proc, master = _spawn_in_pty(
        dockyard, "run", "-it", "--name", "bg", "busybox", "sh", "-c", "echo ready; sleep 60"
    )
    try:
        assert b"ready" in _read_until(master, b"ready")
        os.write(master, b"\x10\x11")
        assert proc.wait(timeout=15) == 0
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert dockyard.inspect("bg")["State"]["Running"] is True


def test_run_i_feeds_stdin_until_eof(dockyard: Dockyard) -> None:
    proc = dockyard.run("run", "--rm", "-i", "busybox", "sh", "-c", "read x; echo got $x",
                        input=b"hi\n")  # fmt: skip
    assert proc.stdout == b"got hi\n"
    cat = dockyard.run("run", "--rm", "-i", "busybox", "cat", input=b"line1\nline2\n")
    assert cat.stdout == b"line1\nline2\n"
