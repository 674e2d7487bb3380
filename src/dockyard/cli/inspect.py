"""``inspect``: any object by name (images now; containers, networks and volumes join as their
services land), printed as Docker prints it: a JSON array, or one line per object with -f."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from dockyard import errors
from dockyard.cli._context import engine
from dockyard.cli._format import Template

# Kinds `inspect` tries in order when --type is not given: (kind, lookup).
LOOKUPS: list[tuple[str, Callable[[str], dict[str, Any]]]] = [
    ("container", lambda name: engine().containers.inspect(name)),
    ("image", lambda name: engine().images.inspect(name)),
    ("volume", lambda name: engine().volumes.inspect(name)),
    ("network", lambda name: engine().networks.inspect(name)),
]


def print_inspected(targets: list[tuple[str, Callable[[str], dict[str, Any]], str]], fmt: str | None) -> None:
    """Look up each target and print; a missing one prints ``Error: No such …`` and exit 1."""
    found: list[dict[str, Any]] = []
    missing: list[str] = []
    for name, lookup, kind in targets:
        try:
            found.append(lookup(name))
        except errors.NotFound:
            missing.append(f"Error: No such {kind}: {name}")
    if fmt and fmt != "json":
        template = Template(fmt)
        for item in found:
            click.echo(template.render(item))
    else:
        click.echo(json.dumps(found, indent=4, ensure_ascii=False))
    for line in missing:
        click.echo(line, err=True)
    if missing:
        sys.exit(1)


@click.command("inspect")
@click.argument("names", nargs=-1, required=True)
@click.option("-f", "--format", "fmt", help="Format output using a Go template, or 'json'.")
@click.option("--type", "kind", help="Only inspect objects of the given type.")
@click.option("-s", "--size", is_flag=True, help="Display total file sizes if the type is container.")
def inspect_cmd(names: tuple[str, ...], fmt: str | None, kind: str | None, size: bool) -> None:
    """Return low-level information on Dockyard objects."""
    lookups = [(k, f) for k, f in LOOKUPS if kind is None or k == kind]
    if not lookups:
        raise errors.InvalidArgument(f'"{kind}" is not a valid value for --type')

    def first_found(name: str) -> dict[str, Any]:
        for _, lookup in lookups:
            try:
                return lookup(name)
            except errors.NotFound:
                continue
        raise errors.NotFound(name)

    print_inspected([(n, first_found, kind or "object") for n in names], fmt)
