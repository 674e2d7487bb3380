"""Ending every process of a cgroup, race-free, so the cgroup can be deleted (``rm -f``).

Freeze first: a frozen process cannot fork, so the list of pids read next is complete; then
SIGKILL each, thaw (a frozen process only dies once thawed) and wait for the cgroup to empty.
Works with any ``CgroupDriver``.

Imports only the standard library, ``dockyard.errors`` and the sibling protocol module.
"""

from __future__ import annotations

import os
import signal
import time

from dockyard import errors
from dockyard.runtime.cgroups.protocol import CgroupDriver

__all__ = ["kill_all"]


def kill_all(driver: CgroupDriver, path: str, timeout: float = 5.0) -> int:
    """SIGKILL every process in the cgroup and wait until it is empty; how many were killed.

    Raises NotFound (no such cgroup), Unavailable (still populated after *timeout*).
    """
    killed = 0
    deadline = time.monotonic() + timeout
    while True:
        frozen = True
        try:
            driver.freeze(path)
        except errors.Unavailable:
            frozen = False  # a dying process can keep it FREEZING; kill what we see anyway
        pids = driver.pids(path)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        if frozen:
            driver.thaw(path)
        while driver.pids(path) and time.monotonic() < deadline:
            time.sleep(0.01)
        if not driver.pids(path):
            return killed
        if time.monotonic() >= deadline:
            raise errors.Unavailable(f"cgroup {path}: processes survived SIGKILL")
