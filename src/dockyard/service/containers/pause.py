"""``pause``/``unpause``: freeze every process of a container with the cgroup freezer.

The ``paused`` file in the state dir is what ``state.read_live_state`` reads as status
``paused`` (``ps`` shows ``Up … (Paused)``). Imports only ``dockyard.errors`` and the cgroup
drivers.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dockyard import errors

if TYPE_CHECKING:
    from dockyard.metadata.containers import ContainerRecord
    from dockyard.service.containers.service import ContainerService

__all__ = ["pause", "unpause"]

PAUSED = "paused"


def pause(svc: ContainerService, record: ContainerRecord) -> None:
    """Freeze *record*. Raises Conflict (not running, or paused already), Unavailable (no
    freezer)."""
    from dockyard.runtime.cgroups import driver_for

    live = svc.live(record)
    if live.status == "paused":
        raise errors.Conflict(f"Container {record.id} is already paused")
    if live.status != "running":
        raise errors.Conflict(f"Container {record.id} is not running")
    try:
        driver_for().freeze(record.id)
    except errors.NotFound as exc:
        raise errors.Conflict(f"Container {record.id} is not running") from exc
    with open(os.path.join(svc.state_dir(record.id), PAUSED), "w"):
        pass
    svc.emit("pause", record)


def unpause(svc: ContainerService, record: ContainerRecord) -> None:
    """Thaw *record*. Raises Conflict (not paused)."""
    from dockyard.runtime.cgroups import driver_for

    if svc.live(record).status != "paused":
        raise errors.Conflict(f"Container {record.id} is not paused")
    try:
        driver_for().thaw(record.id)
    except errors.NotFound:
        pass  # the cgroup is gone with the container: nothing is frozen
    try:
        os.unlink(os.path.join(svc.state_dir(record.id), PAUSED))
    except FileNotFoundError:
        pass
    svc.emit("unpause", record)
