"""Container tool commands: ``exec``, ``top``, ``pause``/``unpause``, ``rename``, ``diff``.

Thin shells over ``engine().containers``. ``exec`` is on the benchmark's path: it runs the
process from this very interpreter (the builtin runtime forks it here) and imports nothing it
does not need.
"""

from __future__ import annotations

import os
import sys

import click

from dockyard import errors
from dockyard.cli._context import engine

__all__ = ["diff_cmd", "exec_cmd", "pause_cmd", "rename_cmd", "top_cmd", "unpause_cmd"]


def _env_list(env: tuple[str, ...]) -> list[str]:
    out = []
    for e in env:
        if "=" not in e:  # `-e NAME`: take it from our environment, as Docker does
            if e in os.environ:
                out.append(f"{e}={os.environ[e]}")
            continue
        out.append(e)
    return out


@click.command("exec", context_settings={"allow_interspersed_args": False})
@click.option("-d", "--detach", is_flag=True, help="Detached mode: run command in the background")
@click.option("-i", "--interactive", is_flag=True, help="Keep STDIN open even if not attached")
@click.option("-t", "--tty", is_flag=True, help="Allocate a pseudo-TTY")
@click.option("-e", "--env", multiple=True, help="Set environment variables")
@click.option("-u", "--user", help="Username or UID (format: <name|uid>[:<group|gid>])")
@click.option("-w", "--workdir", help="Working directory inside the container")
@click.option("--privileged", is_flag=True, help="Accepted for compatibility")
@click.option("--detach-keys", help="Accepted for compatibility")
@click.argument("container")
@click.argument("command", nargs=-1, required=True)
def exec_cmd(detach: bool, interactive: bool, tty: bool, env: tuple[str, ...], user: str | None,
             workdir: str | None, privileged: bool, detach_keys: str | None, container: str,
             command: tuple[str, ...]) -> None:  # fmt: skip
    """Execute a command in a running container."""
    from dockyard.service.containers import exec as ex

    svc = engine().containers
    record, process = ex.prepare(svc, container, list(command), env=_env_list(env),
                                 user=user, workdir=workdir, tty=tty)  # fmt: skip
    if tty and sys.stdout.isatty() is False and not detach:
        pass  # Docker runs it anyway (the output is raw)
    if tty and not detach and record.runtime == "builtin":
        sys.exit(_exec_tty(svc, record, process, interactive))
    if detach or not interactive:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    if detach:  # a detached process must not hold our stdout/stderr (a pipe) open
        out = os.open(os.devnull, os.O_WRONLY)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        process["terminal"] = False
    try:
        code = ex.run(svc, record, process, detach=detach)
    except (errors.NotFound, errors.PermissionDenied, errors.FailedPrecondition) as exc:
        click.echo(ex.message_for(exc), err=True)
        sys.exit(ex.exit_code_for(exc))
    sys.exit(code)


def _exec_tty(svc: object, record: object, process: dict[str, object], interactive: bool) -> int:
    """Run *process* on the container's pty and copy between it and our terminal."""
    import shutil
    import tempfile

    from dockyard.runtime.shim.attach import ConsoleSocket
    from dockyard.service.containers import exec as ex

    tmp = tempfile.mkdtemp(prefix="dy-exec-")
    console = ConsoleSocket(os.path.join(tmp, "c.sock"))
    try:
        try:
            pid = ex.spawn(svc, record, process,  # type: ignore[arg-type]
                           console_socket=console.name)  # fmt: skip
        except (errors.NotFound, errors.PermissionDenied, errors.FailedPrecondition) as exc:
            click.echo(ex.message_for(exc), err=True)
            return ex.exit_code_for(exc)
        console.listener.setblocking(True)
        console.listener.settimeout(5.0)
        master = console.receive()
    finally:
        console.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if master is None:
        return ex.wait_pid(pid)
    _proxy(master, pid, interactive)
    os.close(master)
    return ex.wait_pid(pid)


def _set_size(master: int) -> None:
    import fcntl
    import struct
    import termios

    for fd in (0, 1):
        try:
            size = os.get_terminal_size(fd)
        except OSError:
            continue
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", size.lines, size.columns, 0, 0))
        return


def _proxy(master: int, pid: int, interactive: bool) -> None:
    """Copy our stdin to *master* and *master* to our stdout until process *pid* ends."""
    import select
    import signal

    saved = None
    if interactive and os.isatty(0):
        import termios
        import tty as ttymod

        saved = termios.tcgetattr(0)
        ttymod.setraw(0)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    old = signal.signal(signal.SIGWINCH, lambda *_: os.write(wake_w, b"w"))
    pidfd = os.pidfd_open(pid)
    _set_size(master)
    stdin_open = interactive
    master_open = True
    try:
        while True:
            fds = [pidfd, wake_r] + ([master] if master_open else []) + ([0] if stdin_open else [])
            ready, _, _ = select.select(fds, [], [])
            if wake_r in ready:
                os.read(wake_r, 64)
                _set_size(master)
            if master in ready and master_open:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    data = b""
                if data:
                    os.write(1, data)
                else:
                    master_open = False
            if 0 in ready and stdin_open:
                data = os.read(0, 65536)
                if data:
                    os.write(master, data)
                else:
                    stdin_open = False
            if pidfd in ready:
                os.set_blocking(master, False)
                while master_open:
                    try:
                        data = os.read(master, 65536)
                    except OSError:
                        break
                    if not data:
                        break
                    os.write(1, data)
                return
    finally:
        signal.signal(signal.SIGWINCH, old)
        os.close(pidfd)
        os.close(wake_r)
        os.close(wake_w)
        if saved is not None:
            import termios

            termios.tcsetattr(0, termios.TCSADRAIN, saved)


def _each(refs: tuple[str, ...], action: object) -> None:
    failed = False
    for ref in refs:
        try:
            action(ref)  # type: ignore[operator]
        except errors.DockyardError as exc:
            click.echo(f"Error response from daemon: {exc}", err=True)
            failed = True
            continue
        click.echo(ref)
    if failed:
        sys.exit(1)


@click.command("top", context_settings={"ignore_unknown_options": True,
                                        "allow_interspersed_args": False})  # fmt: skip
@click.argument("container")
@click.argument("ps_options", nargs=-1, type=click.UNPROCESSED)
def top_cmd(container: str, ps_options: tuple[str, ...]) -> None:
    """Display the running processes of a container."""
    result = engine().containers.top(container, list(ps_options))
    rows = [result["Titles"], *result["Processes"]]
    widths = [max(len(r[i]) if i < len(r) else 0 for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [c.ljust(widths[i]) if i < len(row) - 1 else c for i, c in enumerate(row)]
        click.echo("   ".join(cells).rstrip())


@click.command("pause")
@click.argument("containers", nargs=-1, required=True)
def pause_cmd(containers: tuple[str, ...]) -> None:
    """Pause all processes within one or more containers."""
    _each(containers, engine().containers.pause)


@click.command("unpause")
@click.argument("containers", nargs=-1, required=True)
def unpause_cmd(containers: tuple[str, ...]) -> None:
    """Unpause all processes within one or more containers."""
    _each(containers, engine().containers.unpause)


@click.command("rename")
@click.argument("container")
@click.argument("new_name")
def rename_cmd(container: str, new_name: str) -> None:
    """Rename a container."""
    engine().containers.rename(container, new_name)


@click.command("diff")
@click.argument("container")
def diff_cmd(container: str) -> None:
    """Inspect changes to files or directories on a container's filesystem."""
    letters = {0: "C", 1: "A", 2: "D"}
    for change in engine().containers.changes(container):
        click.echo(f"{letters[int(change['Kind'])]} {change['Path']}")
