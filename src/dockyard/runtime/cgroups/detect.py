"""Which cgroup hierarchy a host uses, and the driver for it.

A pure v2 host mounts cgroup2 at the root (``cgroup.controllers`` there). A hybrid host (this
project's CI: v1 controllers plus an empty ``unified`` v2 mount) keeps every controller in v1,
so it gets the v1 driver. Detection reads files only, so it is tested against fake trees.

Imports only the standard library, ``dockyard.errors`` and sibling modules.
"""

from __future__ import annotations

import os

from dockyard import errors
from dockyard.runtime.cgroups.protocol import CgroupDriver
from dockyard.runtime.cgroups.v1 import V1Driver
from dockyard.runtime.cgroups.v2 import V2Driver

__all__ = ["detect", "driver_for"]


def detect(root: str = "/sys/fs/cgroup") -> str:
    """``"v2"`` or ``"v1"``. Raises Unavailable when no usable hierarchy is mounted."""
    if os.path.exists(os.path.join(root, "cgroup.controllers")):
        return "v2"
    if os.path.isdir(os.path.join(root, "memory")) or os.path.isdir(os.path.join(root, "pids")):
        return "v1"
    raise errors.Unavailable(f"no cgroup hierarchy mounted at {root}")


def driver_for(
    version: str | None = None, root: str = "/sys/fs/cgroup", parent: str = "dockyard"
) -> CgroupDriver:
    """The driver for *version* (detected when None) below *parent*.

    Raises Unavailable (nothing mounted), InvalidArgument (unknown version).
    """
    chosen = version or detect(root)
    if chosen == "v1":
        return V1Driver(root=root, parent=parent)
    if chosen == "v2":
        return V2Driver(root=root, parent=parent)
    raise errors.InvalidArgument(f"unknown cgroup version: {chosen!r} (want v1 or v2)")
