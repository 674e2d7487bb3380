"""``version``, ``info`` and the ``system`` group (``df``, ``info``)."""

from __future__ import annotations

import json
import os
import platform
import sys

import click

from dockyard.cli._context import engine
from dockyard.cli._format import Template, emit
from dockyard.cli._humanize import human_size
from dockyard.service.apiversion import MAX_API_VERSION as API_VERSION
from dockyard.service.apiversion import MIN_API_VERSION


def _version_info() -> dict[str, object]:
    from dockyard import __version__
    from dockyard.oci.platform import host

    arch = host().architecture
    return {
        "Client": {"Version": __version__, "ApiVersion": API_VERSION, "Os": "linux", "Arch": arch,
                   "PythonVersion": platform.python_version()},
        "Server": {"Version": __version__, "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
                   "Os": "linux", "Arch": arch, "KernelVersion": platform.release(),
                   "Components": [{"Name": "Engine", "Version": __version__}]},
    }


@click.command("version")
@click.option("-f", "--format", "fmt", help="Format output using a Go template, or 'json'.")
def version_cmd(fmt: str | None) -> None:
    """Show the Dockyard version information."""
    info = _version_info()
    if fmt:
        click.echo(json.dumps(info) if fmt == "json" else Template(fmt).render(info))
        return
    c, s = info["Client"], info["Server"]
    assert isinstance(c, dict) and isinstance(s, dict)
    click.echo(f"Client: Dockyard\n Version:           {c['Version']}\n API version:       {c['ApiVersion']}\n"
               f" Python version:    {c['PythonVersion']}\n OS/Arch:           linux/{c['Arch']}\n")
    click.echo(f"Server: Dockyard Engine\n Engine:\n  Version:          {s['Version']}\n"
               f"  API version:      {s['ApiVersion']} (minimum version {s['MinAPIVersion']})\n"
               f"  OS/Arch:          linux/{s['Arch']}\n  Kernel:           {s['KernelVersion']}")


def _info() -> dict[str, object]:
    from dockyard import __version__
    from dockyard.oci.platform import host

    eng = engine()
    records = eng.image_records.all()
    return {
        "ID": "", "Containers": 0, "ContainersRunning": 0, "ContainersPaused": 0,
        "ContainersStopped": 0, "Images": len(records), "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", "extfs"]],
        "DockerRootDir": str(eng.settings.root), "ServerVersion": __version__,
        "OperatingSystem": _os_name(), "OSType": "linux", "Architecture": host().architecture,
        "KernelVersion": platform.release(), "NCPU": os.cpu_count() or 1,
        "MemTotal": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
        "CgroupDriver": "cgroupfs", "CgroupVersion": "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1",
        "Name": platform.node(), "LoggingDriver": "json-file",
    }


def _os_name() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


@click.command("info")
@click.option("-f", "--format", "fmt", help="Format output using a Go template, or 'json'.")
def info_cmd(fmt: str | None) -> None:
    """Display system-wide information."""
    info = _info()
    if fmt:
        click.echo(json.dumps(info) if fmt == "json" else Template(fmt).render(info))
        return
    click.echo("Server:")
    for key in ("Containers", "Images", "ServerVersion", "Driver", "CgroupDriver", "CgroupVersion",
                "KernelVersion", "OperatingSystem", "OSType", "Architecture", "NCPU", "MemTotal",
                "Name", "DockerRootDir", "LoggingDriver"):
        value = info[key]
        if key == "MemTotal":
            value = human_size(float(value))  # type: ignore[arg-type]
        click.echo(f" {key}: {value}")


@click.command("df")
@click.option("-v", "--verbose", is_flag=True, help="Show detailed information on space usage.")
@click.option("--format", "fmt", help="Format output using a Go template, or 'json'.")
def df_cmd(verbose: bool, fmt: str | None) -> None:
    """Show disk usage."""
    from dockyard.service.system import disk_usage

    usage = disk_usage(engine())
    items = [
        {"Type": row.kind, "TotalCount": str(row.total), "Active": str(row.active),
         "Size": human_size(row.size), "Reclaimable": _reclaimable(row.reclaimable, row.size)}
        for row in usage
    ]
    headers = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
               "Reclaimable": "RECLAIMABLE"}
    click.echo(emit(fmt, items, headers,
                    "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"))


def _reclaimable(reclaimable: int, size: int) -> str:
    pct = round(100 * reclaimable / size) if size else 0
    return f"{human_size(reclaimable)} ({pct}%)"


@click.group("system")
def system_group() -> None:
    """Manage Dockyard."""


system_group.add_command(df_cmd)
system_group.add_command(info_cmd)
system_group.add_command(version_cmd)

_ = sys
