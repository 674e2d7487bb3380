"""``exec``: run another process inside a created or running container (``docker exec``).

Like ``create``, in two forked stages: stage 1 joins the init's namespaces (user first, mount
last: joining the mount namespace moves its root to the container's) and forks stage 2, which
is inside the container's PID namespace; stage 2 applies the process's rlimits, the
container's seccomp filter and the process's identity, and execs. There is no fifo: the
process runs at once. The caller gets the process's host pid; like ``create``'s init it is
re-parented to the caller only if the caller is a child subreaper.
Imports only the standard library, ``dockyard.errors``, ``dockyard._sys`` and this package.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NoReturn

from dockyard import errors
from dockyard.runtime.builtin import channel
from dockyard.runtime.builtin import store as st

__all__ = ["exec_process", "process_for"]

# Join order: a user namespace owns the others; mount last (it changes our root).
_NAMESPACES = (("user", "user"), ("ipc", "ipc"), ("uts", "uts"), ("net", "network"),
               ("pid", "pid"), ("cgroup", "cgroup"), ("mnt", "mount"))  # fmt: skip


def _namespace_fds(pid: int) -> list[tuple[str, int]]:
    """Open the namespaces of *pid* that differ from ours, in join order."""
    fds = []
    for proc_name, oci_name in _NAMESPACES:
        theirs = f"/proc/{pid}/ns/{proc_name}"
        if os.stat(theirs).st_ino == os.stat(f"/proc/self/ns/{proc_name}").st_ino:
            continue
        fds.append((oci_name, os.open(theirs, os.O_RDONLY | os.O_CLOEXEC)))
    return fds


def _stage1(ctx: dict[str, Any]) -> NoReturn:
    from dockyard._sys import namespaces as ns

    try:
        channel.send(ctx["sync_w"], {"stage1": os.getpid()})
        if os.read(ctx["go_r"], 1) != b"1":
            raise RuntimeError("exec went away")
        for kind, fd in ctx["namespaces"]:
            ns.setns(fd, ns.OCI_NAMESPACE_FLAGS[kind])
            os.close(fd)
            if kind == "user":
                os.setresgid(0, 0, 0)
                os.setresuid(0, 0, 0)
        pid = os.fork()
        if pid == 0:
            _stage2(ctx)
        channel.send(ctx["sync_w"], {"pid": pid})
    except BaseException as exc:
        _report(ctx["sync_w"], exc)
    os._exit(0)


def _report(fd: int, exc: BaseException) -> NoReturn:

    message = channel.failure(exc)
    try:
        channel.send(fd, message)
    except OSError:
        pass
    os._exit(1)


def _stage2(ctx: dict[str, Any]) -> NoReturn:
    from dockyard._sys import prctl
    from dockyard.runtime.builtin import init
    from dockyard.runtime.builtin import process as proc

    process = ctx["process"]
    try:
        os.setsid()
        if ctx["console"] is not None:
            init.setup_console(ctx["console"], bind_console=False)
        proc.apply_rlimits(process)
        args, env = list(process["args"]), list(process.get("env") or [])
        path = proc.find_executable(args, env)
        nnp, program = bool(process.get("noNewPrivileges")), ctx["seccomp_bpf"]
        if program and not nnp:
            proc.load_seccomp(program)
        proc.apply_identity(process)
        os.chdir(process.get("cwd") or "/")
        if nnp:
            prctl.set_no_new_privs()
        if program and nnp:
            proc.load_seccomp(program)
        proc.reset_signals()
        os.closerange(3, ctx["sync_w"])
        os.closerange(ctx["sync_w"] + 1, 1 << 20)
        os.execve(path, args, dict(e.split("=", 1) for e in env if "=" in e))
    except BaseException as exc:
        _report(ctx["sync_w"], exc)


def process_for(
    base: dict[str, Any],
    args: list[str],
    *,
    env: list[str] = (),  # type: ignore[assignment]
    cwd: str | None = None,
    user: str | None = None,
    terminal: bool = False,
) -> dict[str, Any]:
    """An exec process built on the container's own *base* process, as ``runc exec ARGS``
    does: same env (plus *env*), cwd, user, capabilities and limits unless overridden.
    *user* is ``uid`` or ``uid:gid``. Raises InvalidArgument for a malformed user.
    """
    process = {k: v for k, v in base.items() if k not in ("args", "terminal", "consoleSize")}
    process["args"] = list(args)
    process["terminal"] = terminal
    if env:
        names = {e.split("=", 1)[0] for e in env}
        process["env"] = [e for e in base.get("env") or [] if e.split("=", 1)[0] not in names]
        process["env"] += list(env)
    if cwd:
        process["cwd"] = cwd
    if user:
        uid, _, gid = user.partition(":")
        if not uid.isdigit() or (gid and not gid.isdigit()):
            raise errors.InvalidArgument(f"bad user {user!r}: want uid[:gid]")
        process["user"] = {"uid": int(uid), "gid": int(gid or 0)}
    return process


def exec_process(
    container_id: str,
    process: dict[str, Any],
    *,
    root: str = st.DEFAULT_ROOT,
    console_socket: str | None = None,
    pid_file: str | None = None,
    place: Callable[[int], None] | None = None,
) -> int:
    """Run OCI *process* (``args``, ``env``, ``cwd``, ``user``, ``capabilities``,
    ``noNewPrivileges``, ``rlimits``, ``terminal``) in *container_id*; its host pid.

    The container's seccomp filter applies. *place* gets the pid of the first stage before
    it joins the namespaces (to join the container's cgroup). Must be called from a
    single-threaded process. Raises NotFound, FailedPrecondition (container stopped, or a
    threaded caller), InvalidArgument (no args, terminal without console socket), or the
    category of the step that failed (NotFound for a missing executable).
    """
    from dockyard.runtime.builtin import container_create as cc
    from dockyard.runtime.builtin import init

    record, state = st.current(root, container_id)
    if state.status not in ("created", "running"):
        raise errors.FailedPrecondition(f"container {container_id} is not running")
    if not process.get("args"):
        raise errors.InvalidArgument(f"exec in {container_id}: no command")
    if bool(process.get("terminal")) != bool(console_socket):
        raise errors.InvalidArgument(
            f"exec in {container_id}: a terminal needs a console socket, and only a terminal"
        )
    if channel.threads() > 1:
        raise errors.FailedPrecondition(f"exec in {container_id}: caller is multi-threaded")
    config = cc.load_config(record.bundle)
    profile = (config.get("linux") or {}).get("seccomp")
    program = None
    if profile:
        from dockyard.runtime.builtin.seccomp_cache import program_for

        program = program_for(root, profile)
    init.preload({"linux": {"seccomp": profile}, "process": process})
    try:
        fds = _namespace_fds(record.pid)
    except OSError as exc:
        raise errors.FailedPrecondition(f"container {container_id} is not running") from exc
    console = channel.connect(console_socket) if console_socket else None
    sync_r, sync_w = os.pipe()
    go_r, go_w = os.pipe()
    ctx = {"namespaces": fds, "process": process, "console": console,
           "seccomp_bpf": program, "sync_w": sync_w, "go_r": go_r}  # fmt: skip
    child = os.fork()
    if child == 0:
        os.close(sync_r)
        os.close(go_w)
        _stage1(ctx)
    os.close(sync_w)
    os.close(go_r)
    for _, fd in fds:
        os.close(fd)
    if console is not None:
        console.close()
    pid = 0
    try:
        for message in channel.messages(sync_r):
            if "stage1" in message:
                if place is not None:
                    place(message["stage1"])
                os.write(go_w, b"1")
            elif "pid" in message:
                pid = message["pid"]
            elif "error" in message:
                if pid:
                    channel.reap(pid)
                raise channel.error_from(container_id, message)
        if not pid:
            raise errors.FailedPrecondition(f"exec in {container_id}: failed to start")
    finally:
        os.close(sync_r)
        os.close(go_w)
        os.waitpid(child, 0)
    if pid_file:
        with open(pid_file, "w") as f:
            f.write(str(pid))
    return pid
