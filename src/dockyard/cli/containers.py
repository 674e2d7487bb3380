"""Container commands: ``start stop kill restart rm ps logs wait``, ``container prune`` and the
``container`` group (``container ls/run/create/...``). ``run``/``create`` live in ``run.py``.

Each command is a thin shell over ``engine().containers``; like Docker, a command given several
containers acts on each, prints each name it handled, reports the failures on stderr and
exits 1 if any failed.

Imports click and the engine through ``cli._context``; never api/. Rendering only: no
container logic here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from dockyard import errors
from dockyard.cli._context import engine

__all__ = [
    "container_group",
    "kill_cmd",
    "logs_cmd",
    "prune_cmd",
    "ps_cmd",
    "restart_cmd",
    "rm_cmd",
    "start_cmd",
    "stop_cmd",
    "wait_cmd",
]

PS_HEADERS = {
    "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED", "Status": "STATUS", "Ports": "PORTS", "Names": "NAMES",
    "Size": "SIZE", "Labels": "LABELS", "State": "STATE", "Mounts": "MOUNTS",
    "Networks": "NETWORKS",
}  # fmt: skip
PS_DEFAULT = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
)


def _each(refs: tuple[str, ...], action: Callable[[str], Any], echo: bool = True) -> None:
    failed = False
    for ref in refs:
        try:
            action(ref)
        except errors.DockyardError as exc:
            click.echo(f"Error response from daemon: {exc}", err=True)
            failed = True
            continue
        if echo:
            click.echo(ref)
    if failed:
        sys.exit(1)


@click.command("start")
@click.option("-a", "--attach", is_flag=True, help="Attach STDOUT/STDERR and forward signals")
@click.option("-i", "--interactive", is_flag=True, help="Attach container's STDIN")
@click.argument("containers", nargs=-1, required=True)
def start_cmd(containers: tuple[str, ...], attach: bool, interactive: bool) -> None:
    """Start one or more stopped containers."""
    if attach or interactive:
        if len(containers) > 1:
            raise errors.InvalidArgument("you cannot start and attach multiple containers at once")
        from dockyard.cli.run import attach_and_wait

        record = engine().containers.resolve(containers[0])
        sys.exit(attach_and_wait(record.id, tty=bool(record.config.get("Tty")),
                                 stdin=interactive, auto_remove=False))  # fmt: skip
    _each(containers, lambda ref: engine().containers.start(ref))


@click.command("stop")
@click.option(
    "-t", "--time", "timeout", type=int, help="Seconds to wait for stop before killing it"
)
@click.argument("containers", nargs=-1, required=True)
def stop_cmd(containers: tuple[str, ...], timeout: int | None) -> None:
    """Stop one or more running containers."""
    _each(containers, lambda ref: engine().containers.stop(ref, timeout))


@click.command("restart")
@click.option(
    "-t", "--time", "timeout", type=int, help="Seconds to wait for stop before killing it"
)
@click.argument("containers", nargs=-1, required=True)
def restart_cmd(containers: tuple[str, ...], timeout: int | None) -> None:
    """Restart one or more containers."""
    _each(containers, lambda ref: engine().containers.restart(ref, timeout))


@click.command("kill")
@click.option("-s", "--signal", "sig", default="KILL", help="Signal to send to the container")
@click.argument("containers", nargs=-1, required=True)
def kill_cmd(containers: tuple[str, ...], sig: str) -> None:
    """Kill one or more running containers."""
    _each(containers, lambda ref: engine().containers.kill(ref, sig))


@click.command("rm")
@click.option("-f", "--force", is_flag=True, help="Force the removal of a running container")
@click.option("-v", "--volumes", is_flag=True, help="Remove anonymous volumes of the container")
@click.argument("containers", nargs=-1, required=True)
def rm_cmd(containers: tuple[str, ...], force: bool, volumes: bool) -> None:
    """Remove one or more containers."""
    _each(containers, lambda ref: engine().containers.remove(ref, force, volumes))


@click.command("wait")
@click.argument("containers", nargs=-1, required=True)
def wait_cmd(containers: tuple[str, ...]) -> None:
    """Block until one or more containers stop, then print their exit codes."""

    def one(ref: str) -> None:
        click.echo(engine().containers.wait(ref))  # the exit observed: its network goes back

    _each(containers, one, echo=False)


def _parse_filters(values: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for value in values:
        key, eq, arg = value.partition("=")
        if not eq:
            raise errors.InvalidArgument(f"bad format of filter (expected name=value): {value}")
        out.setdefault(key.lower(), []).append(arg)
    return out


def _ports_text(ports: list[dict[str, Any]]) -> str:
    """``ps``'s PORTS: ``0.0.0.0:5000->80/tcp, 443/tcp`` as Docker prints it."""
    ordered = sorted(ports, key=lambda p: (p["PrivatePort"], p["Type"], p.get("IP", ""),
                                           p.get("PublicPort", 0)))  # fmt: skip
    parts = []
    for p in ordered:
        private = f"{p['PrivatePort']}/{p['Type']}"
        parts.append(f"{p['IP']}:{p['PublicPort']}->{private}" if p.get("PublicPort") else private)
    return ", ".join(dict.fromkeys(parts))


def _ps_row(item: dict[str, Any], no_trunc: bool, size: bool) -> dict[str, Any]:
    import time as _time

    from dockyard.cli._humanize import human_duration

    command = item["Command"]
    if not no_trunc and len(command) > 20:
        command = command[:19] + "…"
    created = _time.time() - item["Created"]
    row = {
        "ID": item["Id"] if no_trunc else item["Id"][:12],
        "Image": item["Image"],
        "Command": f'"{command}"',
        "CreatedAt": _time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", _time.gmtime(item["Created"])),
        "RunningFor": human_duration(created) + " ago",
        "Status": item["Status"],
        "Ports": _ports_text(item.get("Ports") or []),
        "Names": item["Names"][0].lstrip("/"),
        "Labels": ",".join(f"{k}={v}" for k, v in item["Labels"].items()),
        "State": item["State"],
        "Mounts": "",
        "Networks": "",
        "Size": "",
    }
    if size:
        from dockyard.cli._humanize import human_size

        row["Size"] = (
            f"{human_size(item.get('SizeRw', 0))} (virtual {human_size(item.get('SizeRootFs', 0))})"
        )
    return row


@click.command("ps")
@click.option(
    "-a", "--all", "show_all", is_flag=True, help="Show all containers (default shows just running)"
)
@click.option("-q", "--quiet", is_flag=True, help="Only display container IDs")
@click.option(
    "-l", "--latest", is_flag=True, help="Show the latest created container (includes all states)"
)
@click.option(
    "-n",
    "--last",
    type=int,
    default=-1,
    help="Show n last created containers (includes all states)",
)
@click.option("-s", "--size", is_flag=True, help="Display total file sizes")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output")
@click.option(
    "-f", "--filter", "filters", multiple=True, help="Filter output based on conditions provided"
)
@click.option("--format", "fmt", help="Pretty-print containers using a Go template")
def ps_cmd(show_all: bool, quiet: bool, latest: bool, last: int, size: bool, no_trunc: bool,
           filters: tuple[str, ...], fmt: str | None) -> None:  # fmt: skip
    """List containers."""
    from dockyard.cli._format import emit

    svc = engine().containers
    items = svc.list(all=show_all, filters=_parse_filters(filters), last=1 if latest else last)
    if size:
        for item in items:
            item["SizeRw"], item["SizeRootFs"] = _sizes(item["Id"])
    if quiet:
        for item in items:
            click.echo(item["Id"] if no_trunc else item["Id"][:12])
        return
    rows = [_ps_row(i, no_trunc, size) for i in items]
    default = PS_DEFAULT + ("\t{{.Size}}" if size else "")
    text = emit(fmt, rows, PS_HEADERS, default)
    if text:
        click.echo(text)


def _sizes(cid: str) -> tuple[int, int]:
    eng = engine()
    try:
        rw = eng.snapshotter.usage(cid).size
    except errors.DockyardError:
        rw = 0
    try:
        record = eng.containers.resolve(cid)
        virtual = eng.images.size(eng.images.resolve(record.image_id)) + rw
    except errors.DockyardError:
        virtual = rw
    return rw, virtual


@click.command("logs")
@click.option("-f", "--follow", is_flag=True, help="Follow log output")
@click.option(
    "-n", "--tail", default="all", help="Number of lines to show from the end of the logs"
)
@click.option("-t", "--timestamps", is_flag=True, help="Show timestamps")
@click.option("--since", help="Show logs since timestamp or relative (e.g. 42m)")
@click.option("--until", help="Show logs before a timestamp or relative (e.g. 42m)")
@click.option("--details", is_flag=True, help="Show extra details provided to logs")
@click.argument("container")
def logs_cmd(container: str, follow: bool, tail: str, timestamps: bool, since: str | None,
             until: str | None, details: bool) -> None:  # fmt: skip
    """Fetch the logs of a container."""
    from dockyard.runtime.logs import format_entry

    if tail != "all" and not tail.lstrip("-").isdigit():
        raise errors.InvalidArgument(f'invalid value for "tail": "{tail}"')
    count = None if tail == "all" or int(tail) < 0 else int(tail)
    entries = engine().containers.logs(container, follow=follow, tail=count, since=since,
                                       until=until)  # fmt: skip
    out, err = sys.stdout.buffer, sys.stderr.buffer
    try:
        for entry in entries:
            stream = err if entry.stream == "stderr" else out
            stream.write(format_entry(entry, timestamps).encode("utf-8", "surrogateescape"))
            if follow:
                stream.flush()
    except KeyboardInterrupt:
        pass
    out.flush()
    err.flush()


@click.command("prune")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@click.option(
    "--filter", "filters", multiple=True, help="Provide filter values (e.g. 'until=<timestamp>')"
)
def prune_cmd(force: bool, filters: tuple[str, ...]) -> None:
    """Remove all stopped containers."""
    from dockyard.cli._humanize import human_size

    parsed = _parse_filters(filters)
    if not force:
        click.confirm("WARNING! This will remove all stopped containers.\n"
                      "Are you sure you want to continue?", abort=True)  # fmt: skip
    report = engine().containers.prune(labels=parsed.get("label"))
    if report["ContainersDeleted"]:
        click.echo("Deleted Containers:")
        for cid in report["ContainersDeleted"]:
            click.echo(cid)
        click.echo("")
    click.echo(f"Total reclaimed space: {human_size(report['SpaceReclaimed'])}")


@click.command("inspect")
@click.option("-f", "--format", "fmt", help="Format output using a Go template, or 'json'.")
@click.option("-s", "--size", is_flag=True, help="Display total file sizes")
@click.argument("containers", nargs=-1, required=True)
def inspect_cmd(containers: tuple[str, ...], fmt: str | None, size: bool) -> None:
    """Display detailed information on one or more containers."""
    from dockyard.cli.inspect import print_inspected

    lookup = engine().containers.inspect
    print_inspected([(c, lookup, "container") for c in containers], fmt)


class _ContainerGroup(click.Group):
    """``container SUBCOMMAND``: the same commands, loaded lazily."""

    _MAP = {
        "ls": ("containers", "ps_cmd"), "list": ("containers", "ps_cmd"),
        "ps": ("containers", "ps_cmd"), "run": ("run", "run_cmd"),
        "create": ("run", "create_cmd"), "start": ("containers", "start_cmd"),
        "stop": ("containers", "stop_cmd"), "kill": ("containers", "kill_cmd"),
        "restart": ("containers", "restart_cmd"), "rm": ("containers", "rm_cmd"),
        "remove": ("containers", "rm_cmd"), "logs": ("containers", "logs_cmd"),
        "wait": ("containers", "wait_cmd"), "inspect": ("containers", "inspect_cmd"),
        "prune": ("containers", "prune_cmd"),
    }  # fmt: skip
    extra: dict[str, tuple[str, str]] = {  # other engineers' subcommands (exec, top, ...)
        name: ("container_tools", f"{name}_cmd")
        for name in ("exec", "top", "pause", "unpause", "rename", "diff", "cp", "commit",
                     "export", "stats", "update", "attach")
    }  # fmt: skip

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({**self._MAP, **self.extra})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        import importlib

        target = {**self._MAP, **self.extra}.get(cmd_name)
        if target is None:
            return None
        module = importlib.import_module(f"dockyard.cli.{target[0]}")
        command: click.Command = getattr(module, target[1])
        return command


@click.group("container", cls=_ContainerGroup)
def container_group() -> None:
    """Manage containers."""
