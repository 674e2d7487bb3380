"""``network`` commands (create, ls, inspect, rm, prune, connect, disconnect) and ``port``,
as Docker prints them. Thin: the network service does the work."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from dockyard import errors
from dockyard.cli._context import engine
from dockyard.cli._format import emit

__all__ = ["network_group", "port_cmd", "render_ports"]

_HEADERS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
            "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"}  # fmt: skip


def _pairs(values: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, _, val = value.partition("=")
        out[key] = val
    return out


@click.command("create")
@click.argument("name")
@click.option(
    "-d", "--driver", default="bridge", show_default=True, help="Driver to manage the Network."
)
@click.option("--subnet", help="Subnet in CIDR format that represents a network segment.")
@click.option("--gateway", help="IPv4 Gateway for the master subnet.")
@click.option("--internal", is_flag=True, help="Restrict external access to the network.")
@click.option("--label", "labels", multiple=True, help="Set metadata on a network.")
@click.option("--attachable", is_flag=True, help="Enable manual container attachment (always).")
def create_cmd(name: str, driver: str, subnet: str | None, gateway: str | None, internal: bool,
               labels: tuple[str, ...], attachable: bool) -> None:  # fmt: skip
    """Create a network."""
    net = engine().networks.create(name, driver, subnet, gateway, internal, _pairs(labels))
    click.echo(net.id)


def _row(doc: dict[str, Any], no_trunc: bool) -> dict[str, Any]:
    return {"ID": doc["Id"] if no_trunc else doc["Id"][:12], "Name": doc["Name"],
            "Driver": doc["Driver"], "Scope": doc["Scope"], "IPv6": doc["EnableIPv6"],
            "Internal": doc["Internal"], "CreatedAt": doc["Created"],
            "Labels": ",".join(f"{k}={v}" for k, v in sorted(doc["Labels"].items()))}  # fmt: skip


@click.command("ls")
@click.option("-q", "--quiet", is_flag=True, help="Only display network IDs.")
@click.option(
    "-f", "--filter", "filters", multiple=True, help="Provide filter values (e.g. 'driver=bridge')."
)
@click.option("--format", "fmt", help="Format output using a Go template, or 'json'.")
@click.option("--no-trunc", is_flag=True, help="Do not truncate the output.")
def ls_cmd(quiet: bool, filters: tuple[str, ...], fmt: str | None, no_trunc: bool) -> None:
    """List networks."""
    rows = [_row(d, no_trunc) for d in engine().networks.list_networks(filters)]
    if quiet:
        if rows:
            click.echo("\n".join(r["ID"] for r in rows))
        return
    out = emit(fmt, rows, _HEADERS, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}")
    if out:
        click.echo(out)


@click.command("inspect")
@click.argument("names", nargs=-1, required=True)
@click.option("-f", "--format", "fmt", help="Format output using a Go template, or 'json'.")
@click.option("-v", "--verbose", is_flag=True, help="Verbose output for diagnostics.")
def inspect_cmd(names: tuple[str, ...], fmt: str | None, verbose: bool) -> None:
    """Display detailed information on one or more networks."""
    from dockyard.cli.inspect import print_inspected

    print_inspected([(n, lambda x: engine().networks.inspect(x), "network") for n in names], fmt)


@click.command("rm")
@click.argument("names", nargs=-1, required=True)
@click.option("-f", "--force", is_flag=True, help="Do not error if the network does not exist.")
def rm_cmd(names: tuple[str, ...], force: bool) -> None:
    """Remove one or more networks."""
    failed = []
    for name in names:
        try:
            engine().networks.remove(name)
        except errors.NotFound:
            if not force:
                failed.append(f"Error response from daemon: network {name} not found")
            continue
        except errors.DockyardError as exc:
            failed.append(f"Error response from daemon: {exc}")
            continue
        click.echo(name)
    if failed:
        click.echo("\n".join(failed), err=True)
        sys.exit(1)


@click.command("prune")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation.")
@click.option(
    "--filter", "filters", multiple=True, help="Provide filter values (e.g. 'label=<key>=<value>')."
)
def prune_cmd(force: bool, filters: tuple[str, ...]) -> None:
    """Remove all unused networks."""
    if not force and not click.confirm(
        "WARNING! This will remove all custom networks not used by at least one container.\n"
        "Are you sure you want to continue?", default=False,
    ):  # fmt: skip
        return
    removed = engine().networks.prune(filters)
    if removed:
        click.echo("Deleted Networks:")
        click.echo("\n".join(removed))
        click.echo("")


def _running(ref: str) -> tuple[str, str, int]:
    """(id, name, init pid) of running container *ref*. Raises NotFound, FailedPrecondition."""
    eng = engine()
    record = eng.containers.resolve(ref)
    live = eng.containers.live(record)
    if not live.running or not live.pid:
        raise errors.FailedPrecondition(f"container {record.name or ref} is not running")
    return record.id, record.name, live.pid


@click.command("connect")
@click.argument("network")
@click.argument("container")
@click.option(
    "--alias", "aliases", multiple=True, help="Add network-scoped alias for the container."
)
@click.option("--ip", help="IPv4 address (e.g., 172.30.100.104).")
def connect_cmd(network: str, container: str, aliases: tuple[str, ...], ip: str | None) -> None:
    """Connect a running container to a network."""
    cid, name, pid = _running(container)
    engine().networks.connect(network, cid, name, f"/proc/{pid}/ns/net", aliases, ip)


@click.command("disconnect")
@click.argument("network")
@click.argument("container")
@click.option(
    "-f", "--force", is_flag=True, help="Force the container to disconnect from a network."
)
def disconnect_cmd(network: str, container: str, force: bool) -> None:
    """Disconnect a container from a network."""
    eng = engine()
    record = eng.containers.resolve(container)
    if not eng.networks.disconnect(network, record.id) and not force:
        raise errors.FailedPrecondition(
            f"container {record.id[:12]} is not connected to network {network}"
        )


def render_ports(ports: Sequence[Any], private: str | None = None) -> list[str]:
    """``docker port`` lines of *ports* (``PortMapping``s): ``80/tcp -> 0.0.0.0:5000``, or
    only ``0.0.0.0:5000`` for the *private* port (``80`` or ``80/udp``) asked."""
    want = None
    if private:
        port, _, proto = private.partition("/")
        want = (int(port) if port.isdigit() else -1, proto or "tcp")
    ordered = sorted(ports, key=lambda p: (p.container_port, p.proto, p.host_ip, p.host_port))
    lines = []
    for p in ordered:
        host = f"{p.host_ip or '0.0.0.0'}:{p.host_port}"
        if want is None:
            lines.append(f"{p.container_port}/{p.proto} -> {host}")
        elif (p.container_port, p.proto) == want:
            lines.append(host)
    return lines


@click.command("port")
@click.argument("container")
@click.argument("private", required=False)
def port_cmd(container: str, private: str | None) -> None:
    """List port mappings or a specific mapping for the container."""
    eng = engine()
    record = eng.containers.resolve(container)
    lines = render_ports(eng.networks.ports(record.id), private)
    if private and not lines:
        shown = private if "/" in private else f"{private}/tcp"
        click.echo(f"Error: No public port '{shown}' published for {container}", err=True)
        sys.exit(1)
    if lines:
        click.echo("\n".join(lines))


@click.group("network")
def network_group() -> None:
    """Manage networks."""


network_group.add_command(create_cmd)
network_group.add_command(ls_cmd, "ls")
network_group.add_command(ls_cmd, "list")
network_group.add_command(inspect_cmd)
network_group.add_command(rm_cmd, "rm")
network_group.add_command(rm_cmd, "remove")
network_group.add_command(prune_cmd)
network_group.add_command(connect_cmd)
network_group.add_command(disconnect_cmd)
