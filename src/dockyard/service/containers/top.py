"""``top``: the container's processes as the host's ``ps`` shows them (``docker top``).

Like Docker, runs ``ps`` on the host (``-ef`` unless given other options) and keeps the
rows whose PID is in the container's cgroup; so the PIDs are host PIDs. The parsing is pure
(``filter_ps``). Imports only the standard library, ``dockyard.errors`` and the cgroups.
"""

from __future__ import annotations

import subprocess
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from dockyard import errors

if TYPE_CHECKING:
    from dockyard.metadata.containers import ContainerRecord
    from dockyard.service.containers.service import ContainerService

__all__ = ["filter_ps", "top"]


def filter_ps(output: str, pids: Collection[int]) -> dict[str, Any]:
    """``{"Titles": [...], "Processes": [[...], ...]}`` of the rows of ``ps`` *output* whose
    PID is in *pids* (the last column keeps its spaces). Raises InvalidArgument when the
    output has no PID column."""
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines:
        raise errors.InvalidArgument("ps printed nothing")
    titles = lines[0].split()
    if "PID" not in titles:
        raise errors.InvalidArgument("Couldn't find PID field in ps output")
    col = titles.index("PID")
    procs = []
    for line in lines[1:]:
        fields = line.split(None, len(titles) - 1)
        try:
            pid = int(fields[col])
        except (IndexError, ValueError):
            continue
        if pid in pids:
            procs.append(fields)
    return {"Titles": titles, "Processes": procs}


def top(
    svc: ContainerService, record: ContainerRecord, ps_args: Sequence[str] = ()
) -> dict[str, Any]:
    """The processes of running *record*. Raises Conflict (not running), InvalidArgument
    (``ps`` refused the options)."""
    from dockyard.runtime.cgroups import driver_for

    live = svc.live(record)
    if not live.running:
        raise errors.Conflict(f"Container {record.id} is not running")
    try:
        pids = set(driver_for().pids(record.id))
    except errors.NotFound as exc:
        raise errors.Conflict(f"Container {record.id} is not running") from exc
    if live.pid:
        pids.add(live.pid)
    proc = subprocess.run(["ps", *(ps_args or ["-ef"])], capture_output=True, text=True)
    if proc.returncode != 0:
        raise errors.InvalidArgument(f"ps: {proc.stderr.strip()}")
    return filter_ps(proc.stdout, pids)
