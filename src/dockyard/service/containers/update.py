"""``update``: change a container's resource limits (and restart policy) while it runs or
before it starts (``docker update``).

The new values go into the stored ``HostConfig`` (so ``inspect`` shows them and the next
start applies them) and, for a running container, into its cgroup now. Imports only
``dockyard.errors`` and the cgroup drivers.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dockyard import errors

if TYPE_CHECKING:
    from dockyard.metadata.containers import ContainerRecord
    from dockyard.service.containers.service import ContainerService

__all__ = ["UPDATABLE", "merged_host_config", "update"]

UPDATABLE = ("Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuShares",
             "CpusetCpus", "PidsLimit", "RestartPolicy")  # fmt: skip


def merged_host_config(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """*current* with the updatable keys of *changes* that are set (Docker ignores zero
    values, as "leave unchanged"). Pure. Raises InvalidArgument for a memory-swap below the
    memory, or a policy Docker refuses."""
    out = dict(current)
    for key in UPDATABLE:
        value = changes.get(key)
        if value in (None, "", 0) or (key == "RestartPolicy" and not (value or {}).get("Name")):
            continue
        out[key] = value
    memory, swap = out.get("Memory") or 0, out.get("MemorySwap") or 0
    if memory and swap and swap != -1 and swap < memory:
        raise errors.InvalidArgument(
            "Minimum memoryswap limit should be larger than memory limit, see usage"
        )
    if (changes.get("RestartPolicy") or {}).get("Name") and out.get("AutoRemove"):
        raise errors.InvalidArgument(
            "Restart policy cannot be updated because AutoRemove is enabled for the container"
        )
    return out


def update(svc: ContainerService, record: ContainerRecord, changes: dict[str, Any]) -> list[str]:
    """Apply *changes* (``HostConfig`` resource keys) to *record*; Docker's warnings.

    Raises InvalidArgument, NotFound.
    """
    from dockyard.runtime.cgroups import driver_for
    from dockyard.service.containers.create import resources_of

    host = merged_host_config(record.host_config or {}, changes)
    with svc.engine.db.tx() as tx:
        cur = tx.execute("UPDATE containers SET host_config = ? WHERE id = ?",
                         (json.dumps(host), record.id))  # fmt: skip
        if cur.rowcount == 0:
            raise errors.NotFound(f"No such container: {record.id}")
    if svc.live(record).running:
        applied = {k: changes[k] for k in UPDATABLE if k != "RestartPolicy" and changes.get(k)}
        if applied:
            try:
                driver_for().update(record.id, resources_of(applied))
            except errors.NotFound:
                pass  # it stopped meanwhile: the next start applies the stored values
    svc.emit("update", record)
    return []
