"""``diff``: what a container changed in its filesystem, from its writable layer alone.

The writable (upper) layer holds exactly the container's changes (the init layer is below
it). Each entry is ``D`` (an overlay whiteout: a 0/0 character device), ``C`` (the path
exists in a lower layer) or ``A`` (new). Pure walking of directories; imports only the
standard library and ``dockyard.errors``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.metadata.containers import ContainerRecord
    from dockyard.service.containers.service import ContainerService

__all__ = ["changes", "layer_changes"]

KIND = {"C": 0, "A": 1, "D": 2}  # Docker's ChangeType numbers


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def layer_changes(upper: str, lowers: Sequence[str]) -> list[tuple[str, str]]:
    """``[(kind, "/path"), ...]`` sorted by path, for overlay *upper* over *lowers*."""
    out: list[tuple[str, str]] = []

    def in_lower(rel: str) -> bool:
        return any(os.path.lexists(os.path.join(low, rel)) for low in lowers)

    def walk(rel: str) -> None:
        with os.scandir(os.path.join(upper, rel) if rel else upper) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            if _is_whiteout(st):
                out.append(("D", "/" + path))
                continue
            out.append(("C" if in_lower(path) else "A", "/" + path))
            if stat.S_ISDIR(st.st_mode):
                walk(path)

    walk("")
    return sorted(out, key=lambda c: c[1])


def _lowers(options: Sequence[str]) -> list[str]:
    for opt in options:
        if opt.startswith("lowerdir="):
            return opt[len("lowerdir=") :].split(":")
    return []


def changes(svc: ContainerService, record: ContainerRecord) -> list[dict[str, object]]:
    """Docker's ``/containers/{id}/changes``: ``[{"Path": ..., "Kind": 0|1|2}]``.
    Raises NotFound (no writable layer), FailedPrecondition."""
    snap = svc.engine.snapshotter
    upper = os.fspath(snap.upper_dir(record.snapshot_key))
    lowers: list[str] = []
    for m in snap.mounts(record.snapshot_key):
        lowers += _lowers(m.options)
    return [{"Path": p, "Kind": KIND[k]} for k, p in layer_changes(upper, lowers)]
