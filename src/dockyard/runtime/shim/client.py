"""The engine's side of a shim: start one, read what it records, stop it, attach to it.

``start_shim`` writes ``shim.json``, runs ``python -m dockyard.runtime.shim`` and waits on a
readiness pipe until the container has started (or failed to), so the caller gets the init's
pid or an error, and the shim keeps running after the caller exits.

Imports only the standard library, ``dockyard.errors`` and sibling modules.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from dockyard import errors
from dockyard.runtime.shim.config import FILES, ShimConfig, write_json

if TYPE_CHECKING:
    from dockyard.runtime.shim.zygote import ShimZygote

__all__ = [
    "ShimInfo",
    "connect_attach",
    "read_exit",
    "read_health",
    "read_state",
    "request_stop",
    "resize",
    "shim_alive",
    "start_shim",
    "stop",
    "wait_exit",
]

START_TIMEOUT = 30.0


class ShimInfo(NamedTuple):
    """A started shim: its pid and the container init's (0 while waiting for an attach)."""

    shim_pid: int
    init_pid: int


def start_shim(
    state_dir: str,
    config: ShimConfig,
    timeout: float = START_TIMEOUT,
    zygote: ShimZygote | None = None,
) -> ShimInfo:
    """Write the config and start a daemonized shim for it; returns once the init runs. With
    a *zygote* (a long-lived engine's) the shim is forked by it rather than exec'd; a zygote
    that is gone falls back to exec'ing.

    Raises FailedPrecondition (command could not start), Unavailable (shim did not report).
    """
    os.makedirs(state_dir, exist_ok=True)
    write_json(os.path.join(state_dir, FILES["config"]), config.to_json())
    for name in ("exit", "state", "health", "stop"):
        try:
            os.unlink(os.path.join(state_dir, FILES[name]))
        except FileNotFoundError:
            pass
    read_end, write_end = os.pipe()
    try:
        if zygote is not None:
            try:
                zygote.spawn(state_dir, write_end)
            except OSError:
                zygote = None  # gone: exec the shim instead
        if zygote is not None:
            os.close(write_end)
            write_end = -1
            line = _read_line(read_end, timeout)
        else:
            line = _exec_shim(state_dir, read_end, write_end, timeout)
            write_end = -1
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    name = config.id or state_dir
    if line.startswith("ok "):
        shim_pid, init_pid = (int(x) for x in line.split()[1:3])
        return ShimInfo(shim_pid, init_pid)
    if line.startswith("error "):
        raise errors.FailedPrecondition(f"container {name} failed to start: {line[6:]}")
    raise errors.Unavailable(f"container {name}: the shim did not report back ({line!r})")


def _exec_shim(state_dir: str, read_end: int, write_end: int, timeout: float) -> str:
    """Run ``python -m dockyard.runtime.shim``; its readiness line. Closes *write_end*."""
    try:
        argv = [
            sys.executable,
            "-m",
            "dockyard.runtime.shim",
            "--ready-fd",
            str(write_end),
            state_dir,
        ]
        proc = subprocess.Popen(
            argv,
            pass_fds=(write_end,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            cwd="/",
        )
    finally:
        os.close(write_end)
    line = _read_line(read_end, timeout)
    proc.wait()
    return line


def _read_line(fd: int, timeout: float) -> str:
    import select

    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()


def _read_json(state_dir: str, key: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(state_dir, FILES[key]), encoding="utf-8") as f:
            data: dict[str, Any] = json.load(f)
            return data
    except FileNotFoundError:
        return None


def read_state(state_dir: str) -> dict[str, Any] | None:
    """``state.json``: status (running/restarting/exited), pid, shim_pid, restart_count."""
    return _read_json(state_dir, "state")


def read_exit(state_dir: str) -> dict[str, Any] | None:
    """``exit.json`` of the last exit: exit_code, oom_killed, finished_at, ... or None."""
    return _read_json(state_dir, "exit")


def read_health(state_dir: str) -> dict[str, Any] | None:
    """``health.json``: Docker's State.Health (Status, FailingStreak, Log) or None."""
    return _read_json(state_dir, "health")


def shim_alive(state_dir: str) -> bool:
    """Whether the shim recorded in ``state.json`` is still running."""
    state = read_state(state_dir) or {}
    pid = int(state.get("shim_pid", 0))
    if not pid or state.get("status") == "exited":
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"dockyard.runtime.shim" in f.read()
    except OSError:
        return False


def wait_exit(state_dir: str, timeout: float) -> dict[str, Any]:
    """Wait until the shim is done (no restart pending); the last ``exit.json``.

    Raises Unavailable on timeout.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(state_dir)
        if state is not None and state.get("status") == "exited":
            return read_exit(state_dir) or {}
        if state is not None and not shim_alive(state_dir):
            if (read_state(state_dir) or {}).get("status") == "exited":
                continue  # it finished between the two reads
            break
        time.sleep(0.01)
    else:
        raise errors.Unavailable(f"container in {state_dir} did not exit in {timeout}s")
    raise errors.Unavailable(f"the shim of {state_dir} died without recording an exit")


def request_stop(state_dir: str, sig: int = signal.SIGTERM) -> None:
    """Mark the container stopped by the user (no restart) and send *sig* to its init.

    Raises FailedPrecondition when it is not running.
    """
    with open(os.path.join(state_dir, FILES["stop"]), "w"):
        pass
    state = read_state(state_dir) or {}
    pid = int(state.get("pid") or 0)
    if state.get("status") == "restarting":
        return  # the shim sees the mark before its back-off ends
    if not pid or state.get("status") != "running":
        raise errors.FailedPrecondition(f"container in {state_dir} is not running")
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def stop(state_dir: str, sig: int = signal.SIGTERM, timeout: float = 10.0) -> dict[str, Any]:
    """``docker stop``: *sig* to the init, SIGKILL if it is still running after *timeout*.

    Never restarted afterwards, whatever the policy. Returns the final ``exit.json``; a
    container that is not running returns its last one. Raises Unavailable if even SIGKILL
    does not end it within 10 s.
    """
    try:
        request_stop(state_dir, sig)
    except errors.FailedPrecondition:
        if not shim_alive(state_dir):
            return read_exit(state_dir) or {}
    try:
        return wait_exit(state_dir, timeout)
    except errors.Unavailable:
        if not shim_alive(state_dir):
            raise
    try:
        request_stop(state_dir, signal.SIGKILL)
    except errors.FailedPrecondition:
        pass
    return wait_exit(state_dir, 10.0)


def resize(state_dir: str, rows: int, cols: int) -> None:
    """Resize the container's tty (``docker resize``). Raises FailedPrecondition if no shim."""
    state = read_state(state_dir) or {}
    pid = int(state.get("shim_pid") or 0)
    if not pid or not shim_alive(state_dir):
        raise errors.FailedPrecondition(f"container in {state_dir} is not running")
    target = os.path.join(state_dir, FILES["winsize"])
    with open(f"{target}.tmp", "w") as f:
        f.write(f"{rows} {cols}\n")
    os.replace(f"{target}.tmp", target)
    os.kill(pid, signal.SIGWINCH)


def connect_attach(state_dir: str) -> socket.socket:
    """A connected socket to the container's attach stream. Raises FailedPrecondition."""
    dirfd = os.open(state_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(f"/proc/self/fd/{dirfd}/{FILES['attach']}")
        except OSError as exc:
            sock.close()
            raise errors.FailedPrecondition(
                f"cannot attach to {state_dir}: {exc.strerror}"
            ) from exc
        return sock
    finally:
        os.close(dirfd)
