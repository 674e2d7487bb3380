"""The container's init, in two forked stages (README.md explains the order).

Stage 1 (a child of ``create``) joins or creates the namespaces and forks stage 2, which is
PID 1 of the new PID namespace; stage 1 reports that pid and exits. Stage 2 builds the root
filesystem, applies the process's identity, says "ready", blocks on ``exec.fifo`` until
``start``, loads seccomp when it must come last, and execs the user's process.
Both stages report to ``create`` over one pipe, one JSON object per line, and never return:
they end in ``os._exit`` or ``execve``.

Everything the init needs is imported here, by ``create`` before it forks: the child may not
be able to read the host's Python library at all (after pivot_root, or as a user-namespace
root that cannot search ``/root``). For the same reason ``create`` opens the fifo and
connects the console socket and hands over file descriptors, never paths.
Imports only the standard library, ``dockyard._sys`` and this package's init-side modules.
"""

from __future__ import annotations

import os
from typing import Any, NoReturn

from dockyard._sys import mountapi, prctl
from dockyard._sys import namespaces as ns
from dockyard.runtime.builtin import channel, rootfs
from dockyard.runtime.builtin import process as proc

__all__ = ["Context", "preload", "setup_console", "stage1"]


def preload(config: dict[str, Any]) -> None:
    """Import what this config's init will need beyond the always-needed modules."""
    if (config.get("linux") or {}).get("seccomp"):
        from dockyard._sys import seccomp  # noqa: F401
    if (config.get("process") or {}).get("terminal"):
        import fcntl  # noqa: F401
        import socket  # noqa: F401
        import termios  # noqa: F401


class Context:
    """What ``create`` hands the init: the parsed config and the fds and paths it needs.

    ``sync_w`` carries JSON lines from the init to ``create``; ``go_r`` one byte back, once
    the id maps are written and the cgroup placement is done. ``seccomp_bpf`` is the
    compiled filter of ``linux.seccomp``, if any.
    """

    __slots__ = ("config", "console", "fifo_fd", "go_r", "rootfs", "seccomp_bpf", "sync_w")

    def __init__(
        self,
        config: dict[str, Any],
        rootfs: str,
        fifo_fd: int,
        sync_w: int,
        go_r: int,
        console: Any = None,
        seccomp_bpf: bytes | None = None,
    ) -> None:
        self.config = config
        self.seccomp_bpf = seccomp_bpf
        self.rootfs = rootfs
        self.fifo_fd = fifo_fd  # O_PATH, reopened for writing through /proc/self/fd
        self.sync_w = sync_w
        self.go_r = go_r
        self.console = console  # a connected socket.socket, or None


def _fail(ctx: Context, exc: BaseException) -> NoReturn:
    message = channel.failure(exc)
    try:
        channel.send(ctx.sync_w, message)
    except OSError:
        os.write(2, f"dockyard init: {message['error']}\n".encode())
    os._exit(1)


def stage1(ctx: Context) -> NoReturn:
    """Namespaces, then fork PID 1. Runs in the forked child of ``create``; never returns."""
    try:
        entries = (ctx.config.get("linux") or {}).get("namespaces") or []
        new = {e["type"] for e in entries if not e.get("path")}
        if "mount" not in new:
            raise ValueError("the builtin runtime needs a new mount namespace")
        joins = [(e["type"], os.open(e["path"], os.O_RDONLY | os.O_CLOEXEC))
                 for e in entries if e.get("path")]  # fmt: skip
        joins.sort(key=lambda j: j[0] != "user")  # a user namespace first: it owns the rest
        for kind, fd in joins:
            if kind == "user":
                ns.setns(fd, ns.CLONE_NEWUSER)
        if "user" in new:
            ns.unshare(ns.CLONE_NEWUSER)
        channel.send(ctx.sync_w, {"stage1": os.getpid(), "userns": "user" in new})
        if os.read(ctx.go_r, 1) != b"1":
            raise RuntimeError("create went away")
        if "user" in new or any(kind == "user" for kind, _ in joins):
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
        for kind, fd in joins:
            if kind != "user":
                ns.setns(fd, ns.OCI_NAMESPACE_FLAGS[kind])
            os.close(fd)
        flags = 0
        for kind in new - {"user"}:
            flags |= ns.OCI_NAMESPACE_FLAGS[kind]
        ns.unshare(flags)
        pid = os.fork()
        if pid == 0:
            stage2(ctx)
        channel.send(ctx.sync_w, {"pid": pid})
    except BaseException as exc:
        _fail(ctx, exc)
    os._exit(0)


def setup_console(sock: Any, bind_console: bool = True) -> None:
    """A pty from the container's devpts: master to the console socket, slave as stdio (and,
    for the init, bound on /dev/console)."""
    import fcntl
    import socket
    import termios

    master, slave = os.openpty()
    name = os.ttyname(slave)
    socket.send_fds(sock, [name.encode()], [master])
    os.close(master)
    sock.close()
    if bind_console:
        if not os.path.lexists("/dev/console"):
            with open("/dev/console", "a"):
                pass
        mountapi.mount(name, "/dev/console", None, mountapi.MS_BIND)
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)


def stage2(ctx: Context) -> NoReturn:
    """PID 1 of the container: everything up to exec. Never returns."""
    try:
        config = ctx.config
        process = config.get("process") or {}
        linux = config.get("linux") or {}
        os.setsid()
        os.umask(0)
        rootfs.prepare_rootfs(config, ctx.rootfs)
        rootfs.pivot(ctx.rootfs)
        if ctx.console is not None:
            setup_console(ctx.console)
        if config.get("hostname"):
            ns.sethostname(config["hostname"])
        proc.apply_sysctl(linux.get("sysctl") or {})
        if "oomScoreAdj" in process:
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write(str(process["oomScoreAdj"]))
        rootfs.finish_rootfs(config)
        proc.apply_rlimits(process)
        args, env = list(process["args"]), list(process.get("env") or [])
        path = proc.find_executable(args, env)
        cwd = process.get("cwd") or "/"
        os.makedirs(cwd, exist_ok=True)
        os.umask(0o022)
        nnp, program = bool(process.get("noNewPrivileges")), ctx.seccomp_bpf
        if program and not nnp:  # without no_new_privs, loading needs CAP_SYS_ADMIN: now
            proc.load_seccomp(program)
        proc.apply_identity(process)
        os.chdir(cwd)
        if nnp:
            prctl.set_no_new_privs()
        channel.send(ctx.sync_w, {"ready": True})
        os.close(ctx.sync_w)
    except BaseException as exc:
        _fail(ctx, exc)
    _exec_when_started(ctx.fifo_fd, path, args, env, program if nnp else None)


def _exec_when_started(
    fifo_fd: int, path: str, args: list[str], env: list[str], program: bytes | None
) -> NoReturn:
    """Block until ``start`` opens the fifo, then (seccomp last, if NNP) exec."""
    try:
        os.closerange(3, fifo_fd)
        os.closerange(fifo_fd + 1, 1 << 20)
        fd = os.open(f"/proc/self/fd/{fifo_fd}", os.O_WRONLY | os.O_CLOEXEC)
        os.write(fd, b"0")
        os.close(fd)
        os.close(fifo_fd)
        if program:
            proc.load_seccomp(program)
        proc.reset_signals()
        environ = dict(e.split("=", 1) for e in env if "=" in e)
        os.execve(path, args, environ)
    except BaseException as exc:
        os.write(2, f"dockyard init: exec {args[0]}: {exc}\n".encode())
    os._exit(127)
