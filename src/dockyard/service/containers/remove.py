"""``rm`` and ``container prune``: take a container down and leave nothing behind.

What a container owns: its shim and processes, the runtime's record, a possibly stale rootfs
mount (a launcher killed half-way), its cgroup, its writable snapshot, its state directory
and its record. ``remove`` clears them in that order; each step tolerates what is already
gone, so ``rm -f`` also cleans up after a CLI killed mid-start.

Imports runtime (builtin delete, cgroups), ``mount`` and sibling modules; never cli/ or
api/.
"""

from __future__ import annotations

import os
import shutil
import signal
from typing import TYPE_CHECKING, Any

from dockyard import errors
from dockyard.metadata.containers import ContainerRecord
from dockyard.service.containers import runtimes

if TYPE_CHECKING:
    from dockyard.service.containers.service import ContainerService

__all__ = ["prune", "remove"]


def _kill_shim(svc: ContainerService, record: ContainerRecord) -> None:
    from dockyard.runtime.shim import client

    sd = svc.state_dir(record.id)
    live = svc.live(record)
    if live.running:
        try:
            client.request_stop(sd, signal.SIGKILL)
        except errors.FailedPrecondition:
            pass
        try:
            client.wait_exit(sd, 10.0)
        except errors.Unavailable:
            pass
        svc.emit_die(record)
    if client.shim_alive(sd):  # restarting, or stuck: the shim itself goes
        try:
            os.kill(int((client.read_state(sd) or {}).get("shim_pid") or 0), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def _runtime_delete(svc: ContainerService, record: ContainerRecord) -> None:
    if record.runtime == "builtin":
        from dockyard.runtime import builtin

        root = str(svc.engine.settings.exec_root / "builtin")
        try:
            builtin.delete(record.id, root=root, force=True)
        except errors.NotFound:
            pass
        return
    try:
        base = runtimes.runtime_base(record.runtime, svc.engine.settings.exec_root)
    except errors.DockyardError:
        return
    import subprocess

    subprocess.run([*base, "delete", "--force", record.id], capture_output=True, check=False)


def _unmount_rootfs(state_dir: str) -> None:
    from pathlib import Path

    from dockyard.mount import active_mounts, unmount_all

    if active_mounts(Path(state_dir)):
        unmount_all(Path(state_dir))


def _remove_cgroup(record: ContainerRecord) -> None:
    from dockyard.runtime.cgroups import driver_for, kill_all

    driver = driver_for()
    try:
        if driver.pids(record.id):
            kill_all(driver, record.id)
    except errors.NotFound:
        pass  # never made, or made in part by a start killed half-way: delete what is there
    driver.delete(record.id)


def remove(
    svc: ContainerService, record: ContainerRecord, force: bool = False, volumes: bool = False
) -> None:
    """``docker rm``: with *force* a running container is killed first.

    Raises Conflict (running without *force*, Docker's message).
    """
    live = svc.live(record)
    if live.running and not force:
        raise errors.Conflict(
            f"You cannot remove a {live.status} container {record.id}. Stop the container "
            "before attempting removal or force remove"
        )
    _kill_shim(svc, record)
    _runtime_delete(svc, record)
    from dockyard.service.containers import networking, volumes_setup

    networking.release(svc, record)
    mount_specs = volumes_setup.release(svc, record)
    sd = svc.state_dir(record.id)
    _unmount_rootfs(sd)
    _remove_cgroup(record)
    from dockyard.service.containers.create import init_name

    for key in (record.snapshot_key, init_name(record.id)):
        try:
            svc.engine.snapshotter.remove(key)
        except errors.NotFound:
            pass
    shutil.rmtree(sd, ignore_errors=True)
    svc.records.delete(record.id)
    if volumes and mount_specs:
        volumes_setup.remove_anonymous(svc, mount_specs)
    svc.emit("destroy", record)


def prune(svc: ContainerService, until: str | None = None,
          labels: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    """``container prune``: remove every stopped container; Docker's report
    (``ContainersDeleted``, ``SpaceReclaimed``)."""
    deleted: list[str] = []
    reclaimed = 0
    for record in svc.records.all():
        if svc.live(record).running:
            continue
        if labels and not all(_label_match(record, f) for f in labels):
            continue
        if until and record.created >= until:
            continue
        try:
            reclaimed += svc.engine.snapshotter.usage(record.snapshot_key).size
        except (errors.DockyardError, AttributeError, OSError):
            pass
        remove(svc, record)
        deleted.append(record.id)
    return {"ContainersDeleted": deleted, "SpaceReclaimed": reclaimed}


def _label_match(record: ContainerRecord, spec: str) -> bool:
    labels = record.config.get("Labels") or {}
    key, eq, value = spec.partition("=")
    return key in labels and (not eq or labels[key] == value)
