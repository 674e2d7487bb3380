"""``volume`` commands: create, ls, inspect, rm, prune, as Docker prints them."""

from __future__ import annotations

import sys
from typing import Any

import click

from dockyard import errors
from dockyard.cli._context import engine
from dockyard.cli._format import emit
from dockyard.cli._humanize import human_size

_HEADERS = {"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE",
            "Mountpoint": "MOUNTPOINT", "Labels": "LABELS", "Links": "LINKS", "Size": "SIZE"}  # fmt: skip


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, _, val = value.partition("=")
        out[key] = val
    return out


@click.command("create")
@click.argument("name", required=False)
@click.option("--name", "name_opt", help="Specify volume name.")
@click.option("-d", "--driver", default="local", show_default=True, help="Specify volume driver name.")
@click.option("--label", "labels", multiple=True, help="Set metadata for a volume.")
@click.option("-o", "--opt", "opts", multiple=True, help="Set driver specific options.")
def create_cmd(name: str | None, name_opt: str | None, driver: str, labels: tuple[str, ...],
               opts: tuple[str, ...]) -> None:
    """Create a volume."""
    if name and name_opt and name != name_opt:
        raise errors.InvalidArgument(
            "conflicting options: either specify --name or provide positional arg, not both"
        )
    record = engine().volumes.create(name or name_opt or "", driver, _pairs(labels), _pairs(opts))
    click.echo(record.name)


@click.command("ls")
@click.option("-q", "--quiet", is_flag=True, help="Only display volume names.")
@click.option("-f", "--filter", "filters", multiple=True,
              help="Provide filter values (e.g. 'dangling=true').")
@click.option("--format", "fmt", help="Format output using a Go template, or 'json'.")
def ls_cmd(quiet: bool, filters: tuple[str, ...], fmt: str | None) -> None:
    """List volumes."""
    records = engine().volumes.list_volumes(filters)
    if quiet:
        if records:
            click.echo("\n".join(r.name for r in records))
        return
    items: list[dict[str, Any]] = [
        {"Name": r.name, "Driver": r.driver, "Scope": "local", "Mountpoint": r.mountpoint,
         "Labels": ",".join(f"{k}={v}" for k, v in sorted(r.labels.items())),
         "Links": "N/A", "Size": "N/A", "Availability": "N/A", "Group": "N/A", "Status": "N/A"}
        for r in records
    ]  # fmt: skip
    out = emit(fmt, items, _HEADERS, "table {{.Driver}}\t{{.Name}}")
    if out:
        click.echo(out)


@click.command("inspect")
@click.argument("names", nargs=-1, required=True)
@click.option("-f", "--format", "fmt", help="Format output using a Go template, or 'json'.")
def inspect_cmd(names: tuple[str, ...], fmt: str | None) -> None:
    """Display detailed information on one or more volumes."""
    from dockyard.cli.inspect import print_inspected

    print_inspected([(n, lambda x: engine().volumes.inspect(x), "volume") for n in names], fmt)


@click.command("rm")
@click.argument("names", nargs=-1, required=True)
@click.option("-f", "--force", is_flag=True, help="Force the removal of one or more volumes.")
def rm_cmd(names: tuple[str, ...], force: bool) -> None:
    """Remove one or more volumes. You cannot remove a volume that is in use by a container."""
    failed = []
    for name in names:
        try:
            engine().volumes.remove(name, force=force)
        except errors.DockyardError as exc:
            failed.append(str(exc))
            continue
        click.echo(name)
    if failed:
        click.echo("Error response from daemon: " + "\n".join(failed), err=True)
        sys.exit(1)


@click.command("prune")
@click.option("-a", "--all", "all_", is_flag=True, help="Remove all unused volumes, not just anonymous ones.")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation.")
@click.option("--filter", "filters", multiple=True, help="Provide filter values (e.g. 'label=<label>').")
def prune_cmd(all_: bool, force: bool, filters: tuple[str, ...]) -> None:
    """Remove unused local volumes (anonymous ones unless -a)."""
    if not force:
        warning = ("WARNING! This will remove all local volumes not used by at least one container."
                   if all_ else
                   "WARNING! This will remove anonymous local volumes not used by at least one container.")  # fmt: skip
        if not click.confirm(warning + "\nAre you sure you want to continue?", default=False):
            return
    removed, reclaimed = engine().volumes.prune(all_volumes=all_, filter_args=filters)
    if removed:
        click.echo("Deleted Volumes:")
        click.echo("\n".join(removed))
        click.echo("")
    click.echo(f"Total reclaimed space: {human_size(reclaimed)}")


@click.group("volume")
def volume_group() -> None:
    """Manage volumes."""


volume_group.add_command(create_cmd)
volume_group.add_command(ls_cmd, "ls")
volume_group.add_command(ls_cmd, "list")
volume_group.add_command(inspect_cmd)
volume_group.add_command(rm_cmd, "rm")
volume_group.add_command(rm_cmd, "remove")
volume_group.add_command(prune_cmd)
