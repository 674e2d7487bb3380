"""``create``: set a container up from its bundle and leave its init waiting for ``start``.

This is the parent side: it forks the init's first stage (see ``init.py`` and README.md),
answers it (user-namespace id maps, cgroup placement), and records the state once the init
says it is ready. It must run in a single-threaded process: it forks.
Imports only the standard library, ``dockyard.errors`` and this package.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Callable
from typing import Any

from dockyard import errors
from dockyard.runtime.builtin import channel
from dockyard.runtime.builtin import store as st
from dockyard.runtime.protocol import ContainerState

__all__ = ["create", "load_config"]


def load_config(bundle: str) -> dict[str, Any]:
    """The parsed, validated ``config.json`` of *bundle*. Raises NotFound, InvalidArgument."""
    path = os.path.join(bundle, "config.json")
    try:
        with open(path) as f:
            config = json.load(f)
    except FileNotFoundError:
        raise errors.NotFound(f"no config.json in bundle {bundle}") from None
    except ValueError as exc:
        raise errors.InvalidArgument(f"bundle {bundle}: bad config.json: {exc}") from exc
    if not isinstance(config, dict):
        raise errors.InvalidArgument(f"bundle {bundle}: config.json is not an object")
    from dockyard.runtime.builtin.validate import validate

    validate(config, path)
    return config


def _write_id_maps(pid: int, linux: dict[str, Any]) -> None:
    for name, key in (("uid_map", "uidMappings"), ("gid_map", "gidMappings")):
        lines = "".join(
            f"{m['containerID']} {m['hostID']} {m['size']}\n" for m in linux.get(key) or []
        )
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write(lines)


def _spawn(
    container_id: str,
    config: dict[str, Any],
    rootfs: str,
    fifo: str,
    console_socket: str | None,
    place: Callable[[int], None] | None,
    program: bytes | None,
    on_pid: Callable[[int], None] | None = None,
) -> int:
    """Fork the init and talk to it until it is ready; its pid. Raises the init's error."""
    from dockyard.runtime.builtin import init

    if channel.threads() > 1:  # fork() copies one thread; locks the others hold stay held
        raise errors.FailedPrecondition(
            f"container {container_id}: create must run in a single-threaded process"
        )
    init.preload(config)
    console = channel.connect(console_socket) if console_socket else None
    fifo_fd = os.open(fifo, os.O_PATH | os.O_CLOEXEC)
    sync_r, sync_w = os.pipe()
    go_r, go_w = os.pipe()
    ctx = init.Context(config, rootfs, fifo_fd, sync_w, go_r, console, program)
    child = os.fork()
    if child == 0:
        os.close(sync_r)
        os.close(go_w)
        init.stage1(ctx)
    os.close(sync_w)
    os.close(go_r)
    os.close(fifo_fd)
    if console is not None:
        console.close()
    pid, ready = 0, False
    try:
        # "ready" (from the init) may overtake "pid" (from the stage that forked it, which a
        # busy host can leave unscheduled after the fork): both are needed
        for message in channel.messages(sync_r):
            if "stage1" in message:
                if message["userns"]:
                    _write_id_maps(message["stage1"], config.get("linux") or {})
                if place is not None:
                    place(message["stage1"])
                os.write(go_w, b"1")
            elif "pid" in message:
                pid = message["pid"]
                if on_pid is not None:
                    on_pid(pid)
            elif "error" in message:
                raise channel.error_from(container_id, message)
            elif message.get("ready"):
                ready = True
            if ready and pid:
                return pid
        raise errors.FailedPrecondition(f"container {container_id}: init exited before ready")
    except BaseException:
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            channel.reap(pid)
        raise
    finally:
        os.close(sync_r)
        os.close(go_w)
        os.waitpid(child, 0)


def create(
    container_id: str,
    bundle: str,
    *,
    root: str = st.DEFAULT_ROOT,
    pid_file: str | None = None,
    console_socket: str | None = None,
    place: Callable[[int], None] | None = None,
    on_pid: Callable[[int], None] | None = None,
) -> ContainerState:
    """Create container *container_id* from *bundle*; its init waits for ``start``.

    The init is not a child of the caller (its parent stage exits): a caller that wants to
    reap it must be a child subreaper (``prctl.set_child_subreaper``). *place* is called with
    the pid of the init's first stage before any namespace but the user one is made, so a
    cgroup driver can move it into the container's cgroup (the init and cgroup namespace
    follow). *on_pid* is called with the init's pid as soon as it is known, while the init
    still sets itself up (it is past every namespace). With ``process.terminal``,
    *console_socket* receives the pty master (SCM_RIGHTS).

    Raises InvalidArgument (bad id or config, terminal without console socket), NotFound (no
    bundle), AlreadyExists, FailedPrecondition (called from a multi-threaded process: it
    forks), or the category of the init step that failed.
    """
    cdir = st.container_dir(root, container_id)
    bundle = os.path.abspath(bundle)
    config = load_config(bundle)
    terminal = bool(config["process"].get("terminal"))
    if terminal != bool(console_socket):
        raise errors.InvalidArgument(
            f"container {container_id}: a terminal needs --console-socket, and only a terminal"
        )
    rootfs = os.path.join(bundle, (config.get("root") or {}).get("path") or "rootfs")
    if not os.path.isdir(rootfs):
        raise errors.NotFound(f"container {container_id}: no rootfs at {rootfs}")
    os.makedirs(root, mode=0o711, exist_ok=True)
    profile = (config.get("linux") or {}).get("seccomp")
    program = None
    if profile:
        from dockyard.runtime.builtin.seccomp_cache import program_for

        program = program_for(root, profile)
    try:
        os.mkdir(cdir, 0o711)
    except FileExistsError:
        raise errors.AlreadyExists(f"container {container_id} already exists") from None
    pid = 0
    try:
        fifo = os.path.join(cdir, st.FIFO)
        os.mkfifo(fifo, 0o622)
        os.chmod(fifo, 0o622)  # writable by the container's user, whatever the umask
        pid = _spawn(container_id, config, rootfs, fifo, console_socket, place, program, on_pid)
        start_time = st.process_start_time(pid)
        if start_time is None:
            raise errors.FailedPrecondition(f"container {container_id}: init died after ready")
        stamp = time.time()
        record = st.Record(
            id=container_id,
            pid=pid,
            start_time=start_time,
            bundle=bundle,
            created=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp))
            + f".{int(stamp % 1 * 1e9):09d}Z",
            annotations=dict(config.get("annotations") or {}),
        )
        st.save(root, record)
        if pid_file:
            with open(pid_file, "w") as f:
                f.write(str(pid))
    except BaseException:
        if pid:  # ready, but the state could not be recorded: take the init down
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(cdir, ignore_errors=True)
        raise
    return ContainerState(
        id=container_id,
        status="created",
        pid=pid,
        bundle=bundle,
        annotations=record.annotations,
        created=record.created,
    )
