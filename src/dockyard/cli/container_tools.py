"""Container tool commands: ``exec``, ``top``, ``pause``/``unpause``, ``rename``, ``diff``.

Thin shells over ``engine().containers``. ``exec`` is on the benchmark's path: it runs the
process from this very interpreter (the builtin runtime forks it here) and imports nothing it
does not need.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from dockyard import errors
from dockyard.cli._context import engine

__all__ = [
    "attach_cmd",
    "commit_cmd",
    "cp_cmd",
    "diff_cmd",
    "exec_cmd",
    "export_cmd",
    "pause_cmd",
    "rename_cmd",
    "stats_cmd",
    "top_cmd",
    "unpause_cmd",
    "update_cmd",
]


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
    size = _our_size() if tty else None
    if size is not None:  # runc applies it before the process runs
        process["consoleSize"] = {"height": size[0], "width": size[1]}
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


def _our_size() -> tuple[int, int] | None:
    for fd in (0, 1):
        try:
            size = os.get_terminal_size(fd)
        except OSError:
            continue
        return size.lines, size.columns
    return None


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
    try:  # the process may have started before the size was set: tell it
        os.kill(pid, signal.SIGWINCH)
    except OSError:
        pass
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


def _split_ref(arg: str) -> tuple[str | None, str]:
    """``CONTAINER:PATH`` → (container, path); a local path → (None, path)."""
    if arg.startswith(("/", ".")) or ":" not in arg:
        return None, arg
    name, _, path = arg.partition(":")
    if "/" in name:
        return None, arg
    return name, path or "/"


@click.command("cp")
@click.option("-a", "--archive", is_flag=True, help="Archive mode (copy all uid/gid information)")
@click.option("-L", "--follow-link", is_flag=True, help="Always follow symbol link in SRC_PATH")
@click.option("-q", "--quiet", is_flag=True, help="Accepted for compatibility")
@click.argument("src")
@click.argument("dest")
def cp_cmd(archive: bool, follow_link: bool, quiet: bool, src: str, dest: str) -> None:
    """Copy files/folders between a container and the local filesystem.

    Use '-' as the source to read a tar archive from stdin and extract it to a directory
    destination in a container. Use '-' as the destination to stream a tar archive of a
    container source to stdout.
    """
    src_ctr, src_path = _split_ref(src)
    dest_ctr, dest_path = _split_ref(dest)
    if (src_ctr is None) == (dest_ctr is None):
        raise errors.InvalidArgument(
            "copying between containers is not supported"
            if src_ctr
            else "must specify at least one container source"
        )
    svc = engine().containers
    if src_ctr is not None:
        _copy_out(svc, src_ctr, src_path, dest_path, follow_link)
    else:
        assert dest_ctr is not None
        _copy_in(svc, src_path, dest_ctr, dest_path, archive, follow_link)


def _copy_out(svc: Any, ctr: str, src: str, dest: str, follow: bool) -> None:
    import shutil
    import tarfile
    import tempfile

    if follow:
        info = svc.stat_path(ctr, src)
        if info["linkTarget"]:
            target = info["linkTarget"]
            src = target if target.startswith("/") else os.path.join(os.path.dirname(src), target)
    if dest == "-":
        svc.archive(ctr, src, sys.stdout.buffer)
        return
    with tempfile.TemporaryFile() as buf:
        info = svc.archive(ctr, src, buf)
        is_dir = bool(info["mode"] & (1 << 31))
        buf.seek(0)
        contents = src.endswith("/.") or src == "."
        dest_dir = os.path.isdir(dest)
        if not dest_dir:
            if dest.endswith("/"):
                raise errors.NotFound(f"no such directory: {dest}")
            if os.path.lexists(dest) and is_dir:
                raise errors.InvalidArgument(f"cannot copy a directory to a file: {dest}")
        parent = os.path.abspath(dest) if dest_dir else os.path.dirname(os.path.abspath(dest))
        if not os.path.isdir(parent):
            raise errors.NotFound(f"no such directory: {parent}")
        tmp = tempfile.mkdtemp(prefix=".dy-cp-", dir=parent)
        try:
            with tarfile.open(fileobj=buf, mode="r|") as tar:
                tar.extractall(tmp, filter="tar")
            top = os.path.normpath(os.path.join(tmp, "." if contents else info["name"]))
            if contents and not dest_dir:
                os.mkdir(dest, 0o755)
                dest_dir = True
            if dest_dir and contents:
                for entry in os.listdir(top):
                    _move(os.path.join(top, entry), os.path.join(dest, entry))
            elif dest_dir:
                _move(top, os.path.join(dest, info["name"]))
            else:
                _move(top, os.path.abspath(dest))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _move(src: str, dest: str) -> None:
    import shutil

    if os.path.isdir(dest) and not os.path.islink(dest) and os.path.isdir(src):
        for entry in os.listdir(src):
            _move(os.path.join(src, entry), os.path.join(dest, entry))
        return
    if os.path.lexists(dest) and not os.path.isdir(dest):
        os.unlink(dest)
    shutil.move(src, dest)


def _copy_in(svc: Any, src: str, ctr: str, dest: str, keep_ids: bool, follow: bool) -> None:
    import tarfile
    import tempfile

    if src == "-":
        svc.extract(ctr, dest, sys.stdin.buffer)
        return
    if not os.path.lexists(src):
        raise errors.NotFound(f"lstat {src}: no such file or directory")
    src_is_dir = os.path.isdir(src) if (follow or not os.path.islink(src)) else False
    try:
        info: dict[str, Any] | None = svc.stat_path(ctr, dest)
    except errors.NotFound:
        info = None
    dest_is_dir = info is not None and bool(info["mode"] & (1 << 31))
    if info is not None and info["linkTarget"]:  # a link in the container: ask about its target
        try:
            dest_is_dir = bool(svc.stat_path(ctr, dest.rstrip("/") + "/.")["mode"] & (1 << 31))
        except errors.NotFound:
            dest_is_dir = False
    if dest_is_dir:
        into = dest
        name = "." if src.endswith("/.") else os.path.basename(os.path.abspath(src))
    else:
        if info is not None and src_is_dir:
            raise errors.InvalidArgument(f"cannot copy a directory to a file: {dest}")
        if dest.endswith("/") and info is None:
            raise errors.NotFound(f"no such directory: {dest}")
        into = os.path.dirname(dest.rstrip("/")) or "/"
        name = os.path.basename(dest.rstrip("/"))

    def owner(t: tarfile.TarInfo) -> tarfile.TarInfo:
        if not keep_ids:
            t.uid = t.gid = 0
            t.uname = t.gname = "root"
        return t

    with tempfile.TemporaryFile() as buf:
        with tarfile.open(fileobj=buf, mode="w") as tar:
            path = os.path.realpath(src) if follow else src
            tar.add(path, arcname=name, recursive=True, filter=owner)
        buf.seek(0)
        svc.extract(ctr, into, buf)


@click.command("commit")
@click.option("-a", "--author", default="", help='Author (e.g., "John Hannibal Smith")')
@click.option("-c", "--change", multiple=True, help="Apply Dockerfile instruction to the image")
@click.option("-m", "--message", default="", help="Commit message")
@click.option("-p/--no-pause", "--pause/", "pause", default=True,
              help="Pause container during commit (default true)")  # fmt: skip
@click.argument("container")
@click.argument("repository", required=False)
def commit_cmd(author: str, change: tuple[str, ...], message: str, pause: bool, container: str,
               repository: str | None) -> None:  # fmt: skip
    """Create a new image from a container's changes."""
    image_id = engine().containers.commit(container, repository, comment=message,
                                          author=author, changes=change, pause=pause)  # fmt: skip
    click.echo(image_id)


@click.command("export")
@click.option("-o", "--output", help="Write to a file, instead of STDOUT")
@click.argument("container")
def export_cmd(output: str | None, container: str) -> None:
    """Export a container's filesystem as a tar archive."""
    svc = engine().containers
    if output:
        with open(output, "wb") as f:
            svc.export(container, f)
        return
    if sys.stdout.isatty():
        raise errors.InvalidArgument(
            "cowardly refusing to save to a terminal. Use the -o flag or redirect"
        )
    svc.export(container, sys.stdout.buffer)


def _stats_row(doc: dict[str, Any]) -> list[str]:
    from dockyard.cli._humanize import human_size
    from dockyard.service.containers.stats import cpu_percent

    def binary(n: float) -> str:
        for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
            if n < 1024 or unit == "TiB":
                return f"{n:.4g}{unit}"
            n /= 1024
        return f"{n}B"

    mem = doc.get("memory_stats") or {}
    usage, limit = mem.get("usage", 0), mem.get("limit", 0)
    nets = (doc.get("networks") or {}).values()
    rx, tx = sum(n["rx_bytes"] for n in nets), sum(n["tx_bytes"] for n in nets)
    blk = (doc.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    rd = sum(e["value"] for e in blk if e["op"].lower() == "read")
    wr = sum(e["value"] for e in blk if e["op"].lower() == "write")
    return [
        doc["id"][:12], doc["name"].lstrip("/"), f"{cpu_percent(doc):.2f}%",
        f"{binary(usage)} / {binary(limit)}", f"{(usage / limit * 100) if limit else 0:.2f}%",
        f"{human_size(rx)} / {human_size(tx)}", f"{human_size(rd)} / {human_size(wr)}",
        str((doc.get("pids_stats") or {}).get("current", 0)),
    ]  # fmt: skip


@click.command("stats")
@click.option("-a", "--all", "all_", is_flag=True, help="Show all containers (default running)")
@click.option(
    "--no-stream", is_flag=True, help="Disable streaming stats and only pull the first result"
)
@click.option("--no-trunc", is_flag=True, help="Do not truncate output")
@click.argument("containers", nargs=-1)
def stats_cmd(all_: bool, no_stream: bool, no_trunc: bool, containers: tuple[str, ...]) -> None:
    """Display a live stream of container(s) resource usage statistics."""
    import time

    from dockyard.cli._format import render_table

    svc = engine().containers
    refs = list(containers) or [c["Id"] for c in svc.list(all=all_)]
    header = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
              "BLOCK I/O", "PIDS"]  # fmt: skip
    previous = {ref: svc.stats(ref) for ref in refs}
    while True:
        time.sleep(0.5 if no_stream else 1.0)
        current = {ref: svc.stats(ref, previous[ref]) for ref in refs}
        table = render_table([header, *(_stats_row(d) for d in current.values())])
        if not no_stream:
            click.echo("\x1b[2J\x1b[H", nl=False)
        click.echo(table.rstrip("\n"))
        if no_stream:
            return
        previous = current


@click.command("update")
@click.option("-m", "--memory", help="Memory limit")
@click.option(
    "--memory-swap", help="Swap limit equal to memory plus swap: -1 to enable unlimited swap"
)
@click.option("--memory-reservation", help="Memory soft limit")
@click.option("--cpus", type=float, help="Number of CPUs")
@click.option("-c", "--cpu-shares", type=int, help="CPU shares (relative weight)")
@click.option("--cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)")
@click.option("--pids-limit", type=int, help="Tune container pids limit (set -1 for unlimited)")
@click.option("--restart", help="Restart policy to apply when a container exits")
@click.argument("containers", nargs=-1, required=True)
def update_cmd(memory: str | None, memory_swap: str | None, memory_reservation: str | None,
               cpus: float | None, cpu_shares: int | None, cpuset_cpus: str | None,
               pids_limit: int | None, restart: str | None,
               containers: tuple[str, ...]) -> None:  # fmt: skip
    """Update configuration of one or more containers."""
    from dockyard.cli.run import _restart, parse_bytes

    changes: dict[str, Any] = {
        "Memory": parse_bytes(memory) if memory else None,
        "MemorySwap": parse_bytes(memory_swap) if memory_swap else None,
        "MemoryReservation": parse_bytes(memory_reservation) if memory_reservation else None,
        "NanoCpus": int(cpus * 1e9) if cpus else None,
        "CpuShares": cpu_shares, "CpusetCpus": cpuset_cpus, "PidsLimit": pids_limit,
        "RestartPolicy": _restart(restart) if restart else None,
    }  # fmt: skip
    svc = engine().containers
    _each(containers, lambda ref: svc.update(ref, changes))


@click.command("attach")
@click.option("--no-stdin", is_flag=True, help="Do not attach STDIN")
@click.option(
    "--sig-proxy/--no-sig-proxy", default=True, help="Proxy all received signals to the process"
)
@click.option("--detach-keys", help="Accepted for compatibility (ctrl-p ctrl-q)")
@click.argument("container")
def attach_cmd(no_stdin: bool, sig_proxy: bool, detach_keys: str | None, container: str) -> None:
    """Attach local standard input, output, and error streams to a running container.

    ctrl-p ctrl-q detaches (with a tty), leaving the container running.
    """
    from dockyard.cli._attach import follow
    from dockyard.runtime.shim import client

    svc = engine().containers
    record = svc.resolve(container)
    if not svc.live(record).running:
        raise errors.Conflict("You cannot attach to a stopped container, start it first")
    if svc.live(record).status == "paused":
        raise errors.Conflict("You cannot attach to a paused container, unpause it first")
    sd = svc.state_dir(record.id)
    tty = bool(record.config.get("Tty"))
    stdin = bool(record.config.get("OpenStdin")) and not no_stdin

    sock = client.connect_attach(sd)
    ended = follow(svc, record, sock, tty=tty, stdin=stdin, proxy_signals=sig_proxy)
    if not ended:
        click.echo("read escape sequence", err=True)
        sys.exit(0)
    sys.exit(svc.wait(record.id))
