"""``exec``: run another process in a running container (``docker exec``), and the exec
instances the Engine API creates, starts and inspects.

A process is run by the container's runtime: the builtin runtime's ``exec_process`` in this
very process (one interpreter for ``dockyard exec``; it forks, so the caller must be
single-threaded and a child subreaper to get the exit code), or ``runc|crun exec`` as a
child. It joins every namespace of the container and its cgroup. Exit codes follow Docker:
the process's own, 126 when it cannot be run, 127 when it is not found. A threaded caller
(the API daemon) runs ``python -m dockyard.service.containers.exec`` (``main``) instead.

Must not import the CLI, the API or click; kept free of heavy imports (``exec true`` is
on the benchmark's path).
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

from dockyard import errors

if TYPE_CHECKING:
    from dockyard.metadata.containers import ContainerRecord
    from dockyard.service.containers.service import ContainerService

__all__ = [
    "ExecInstance",
    "ExecStore",
    "exit_code_for",
    "main",
    "prepare",
    "run",
    "spawn",
    "wait_pid",
]

NOT_FOUND, CANNOT_RUN = 127, 126


def _lookup(path: str, name: str) -> list[str] | None:
    try:
        with open(path) as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                if fields and fields[0] == name:
                    return fields
    except OSError:
        return None
    return None


def resolve_user(rootfs: str, user: str) -> str:
    """``uid[:gid]`` for Docker's ``-u user[:group]`` (names read from the container's
    ``/etc/passwd``/``/etc/group`` under *rootfs*). Raises InvalidArgument for an unknown
    name."""
    name, _, group = user.partition(":")
    gid = ""
    if name.isdigit():
        uid = name
    else:
        entry = _lookup(f"{rootfs}/etc/passwd", name)
        if entry is None or len(entry) < 4:
            raise errors.InvalidArgument(
                f"unable to find user {name}: no matching entries in passwd file"
            )
        uid, gid = entry[2], entry[3]
    if group:
        if group.isdigit():
            gid = group
        else:
            g = _lookup(f"{rootfs}/etc/group", group)
            if g is None or len(g) < 3:
                raise errors.InvalidArgument(
                    f"unable to find group {group}: no matching entries in group file"
                )
            gid = g[2]
    return f"{uid}:{gid}" if gid else uid


def prepare(
    svc: ContainerService,
    ref: str,
    args: list[str],
    *,
    env: list[str] = (),  # type: ignore[assignment]
    user: str | None = None,
    workdir: str | None = None,
    tty: bool = False,
) -> tuple[ContainerRecord, dict[str, Any]]:
    """The running container *ref* names and the OCI process to run in it.

    Raises NotFound, Conflict (not running, or paused), InvalidArgument (no command, unknown
    user).
    """
    from dockyard.runtime.builtin.container_create import load_config
    from dockyard.runtime.builtin.container_exec import process_for

    record = svc.resolve(ref)
    live = svc.live(record)
    if not live.running or not live.pid:
        raise errors.Conflict(f"container {record.id} is not running")
    if live.status == "paused":
        raise errors.Conflict(f"container {record.id} is paused, unpause the container before exec")
    if not args:
        raise errors.InvalidArgument("exec: no command specified")
    user = user or record.config.get("User") or None
    if user:
        user = resolve_user(f"/proc/{live.pid}/root", user)
    base = load_config(svc.state_dir(record.id))["process"]
    return record, process_for(base, list(args), env=list(env), cwd=workdir or None,
                               user=user, terminal=tty)  # fmt: skip


def exit_code_for(exc: errors.DockyardError) -> int:
    """Docker's exit code for a process that could not be run: 127 not found, else 126."""
    return NOT_FOUND if isinstance(exc, errors.NotFound) else CANNOT_RUN


def message_for(exc: BaseException) -> str:
    """Docker's wording for an exec that failed to start."""
    return f"OCI runtime exec failed: exec failed: unable to start container process: {exc}"


def run(
    svc: ContainerService,
    record: ContainerRecord,
    process: dict[str, Any],
    *,
    console_socket: str | None = None,
    detach: bool = False,
) -> int:
    """Run *process* in *record* with its runtime; wait for it unless *detach*.

    The process inherits our stdin/stdout/stderr (or, with ``process["terminal"]``, gets
    the container's pty, whose master goes to *console_socket*). Returns its exit code (0
    when detached). Raises NotFound (executable missing), FailedPrecondition (container
    stopped), InvalidArgument, PermissionDenied and the like from the runtime.
    """
    from dockyard.service.containers import runtimes

    if record.runtime != "builtin":
        base = runtimes.runtime_base(record.runtime, svc.engine.settings.exec_root)
        return _run_other(base, record.id, process, console_socket, detach)
    pid = spawn(svc, record, process, console_socket=console_socket, subreaper=not detach)
    return 0 if detach else wait_pid(pid)


def spawn(
    svc: ContainerService,
    record: ContainerRecord,
    process: dict[str, Any],
    *,
    console_socket: str | None = None,
    subreaper: bool = True,
) -> int:
    """Start *process* in *record* with the builtin runtime, in its cgroup; its host pid.

    With *subreaper* we become a child subreaper, so ``wait_pid`` gets its exit code.
    Raises InvalidArgument for another runtime, and what ``run`` raises.
    """
    from dockyard.service.containers import runtimes

    if record.runtime != "builtin":
        raise errors.InvalidArgument(f"spawn: runtime {record.runtime} runs its own exec")
    from dockyard._sys import prctl
    from dockyard.runtime.builtin import container_exec

    base = runtimes.runtime_base(record.runtime, svc.engine.settings.exec_root)
    root = base[base.index("--root") + 1]
    if subreaper:
        prctl.set_child_subreaper(True)

    def place(pid: int) -> None:
        from dockyard.runtime.cgroups import driver_for

        try:
            driver_for().add_process(record.id, pid)
        except errors.NotFound:
            pass  # no cgroup (the container is going away): run it anyway

    return container_exec.exec_process(record.id, process, root=root,
                                       console_socket=console_socket, place=place)  # fmt: skip


def wait_pid(pid: int) -> int:
    """The exit code of our child (or subreaped) *pid*: 128+N when killed by signal N."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            return 0
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _run_other(base: list[str], cid: str, process: dict[str, Any],
               console_socket: str | None, detach: bool) -> int:  # fmt: skip
    """``runc exec --process FILE``: its exit code is the process's."""
    import subprocess
    import tempfile

    with (
        tempfile.NamedTemporaryFile("w", suffix=".json", prefix="dy-exec-") as f,
        tempfile.TemporaryFile() as err,  # not a pipe: a detached process would hold it open
    ):
        json.dump(process, f)
        f.flush()
        argv = [*base, "exec", "--process", f.name]
        if console_socket:
            argv += ["--console-socket", console_socket]
        if detach:
            argv.append("--detach")
        proc = subprocess.run([*argv, cid], stderr=err)
        err.seek(0)
        text = err.read().decode(errors="replace")
    if proc.returncode != 0 and text:
        if "exec failed" in text or "starting container process" in text:
            code = NOT_FOUND if ("no such file" in text or "not found" in text) else CANNOT_RUN
            raise (errors.NotFound if code == NOT_FOUND else errors.PermissionDenied)(
                text.strip().splitlines()[-1]
            )
        sys.stderr.write(text)
    return proc.returncode


class ExecInstance:
    """One exec the API created: its config, and once started its pid, state and code."""

    def __init__(self, container_id: str, config: dict[str, Any]) -> None:
        import secrets

        self.id = secrets.token_hex(32)
        self.container_id = container_id
        self.config = config
        self.running = False
        self.pid = 0
        self.exit_code: int | None = None
        self.started = False

    def inspect(self) -> dict[str, Any]:
        """``GET /exec/{id}/json``."""
        cmd = list(self.config.get("Cmd") or [])
        return {
            "ID": self.id,
            "Running": self.running,
            "ExitCode": self.exit_code,
            "ProcessConfig": {
                "tty": bool(self.config.get("Tty")),
                "entrypoint": cmd[0] if cmd else "",
                "arguments": cmd[1:],
                "privileged": bool(self.config.get("Privileged")),
                "user": self.config.get("User") or "",
            },
            "OpenStdin": bool(self.config.get("AttachStdin")),
            "OpenStderr": bool(self.config.get("AttachStderr")),
            "OpenStdout": bool(self.config.get("AttachStdout")),
            "CanRemove": False,
            "ContainerID": self.container_id,
            "DetachKeys": self.config.get("DetachKeys") or "",
            "Pid": self.pid,
        }


class ExecStore:
    """The exec instances of one Engine process (Docker keeps them in memory too)."""

    def __init__(self) -> None:
        self._items: dict[str, ExecInstance] = {}

    def add(self, svc: ContainerService, ref: str, config: dict[str, Any]) -> ExecInstance:
        """Check the container runs and keep *config* (``POST /containers/{id}/exec``).
        Raises NotFound, Conflict, InvalidArgument."""
        record = svc.resolve(ref)
        prepare(svc, record.id, list(config.get("Cmd") or []), env=config.get("Env") or [],
                user=config.get("User") or None, workdir=config.get("WorkingDir") or None,
                tty=bool(config.get("Tty")))  # fmt: skip
        inst = ExecInstance(record.id, config)
        self._items[inst.id] = inst
        return inst

    def get(self, exec_id: str) -> ExecInstance:
        """Raises NotFound (``No such exec instance``)."""
        inst = self._items.get(exec_id)
        if inst is None:
            matches = (
                [v for k, v in self._items.items() if k.startswith(exec_id)] if exec_id else []
            )
            if len(matches) != 1:
                raise errors.NotFound(f"No such exec instance: {exec_id}")
            inst = matches[0]
        return inst


def helper_argv(root: str, container_id: str, process_file: str, console_socket: str | None,
                detach: bool, pid_file: str | None = None) -> list[str]:  # fmt: skip
    """The command a threaded caller runs for ``run`` (see ``main``)."""
    argv = [sys.executable, "-m", "dockyard.service.containers.exec", "--root", root]
    if pid_file:
        argv += ["--pid-file", pid_file]
    if console_socket:
        argv += ["--console-socket", console_socket]
    if detach:
        argv.append("--detach")
    return [*argv, container_id, process_file]


def main(argv: list[str] | None = None) -> int:
    """``python -m dockyard.service.containers.exec [--root R] [--console-socket S]
    [--detach] ID PROCESS.json``: ``run`` for a caller that cannot fork (prints Docker's
    message and exits 126/127 when the process cannot be run)."""
    import argparse

    from dockyard.service.engine import Engine
    from dockyard.service.settings import Settings

    p = argparse.ArgumentParser(prog="dockyard-exec")
    p.add_argument("--root")
    p.add_argument("--console-socket")
    p.add_argument("--detach", action="store_true")
    p.add_argument("--pid-file", help="where to write the process's host pid (builtin runtime)")
    p.add_argument("id")
    p.add_argument("process")
    a = p.parse_args(argv)
    with open(a.process) as f:
        process = json.load(f)
    os.unlink(a.process)
    eng = Engine(Settings.resolve(a.root))
    svc = eng.containers
    try:
        record = svc.resolve(a.id)
        if a.pid_file and record.runtime == "builtin" and not a.detach:
            pid = spawn(svc, record, process, console_socket=a.console_socket)
            with open(a.pid_file + ".tmp", "w") as f:
                f.write(str(pid))
            os.rename(a.pid_file + ".tmp", a.pid_file)
            return wait_pid(pid)
        return run(svc, record, process, console_socket=a.console_socket, detach=a.detach)
    except errors.DockyardError as exc:
        sys.stderr.write(message_for(exc) + "\n")
        return exit_code_for(exc)


if __name__ == "__main__":
    sys.exit(main())
