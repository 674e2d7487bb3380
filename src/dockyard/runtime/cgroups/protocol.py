"""The cgroup role every driver plays, and the values that cross it.

Vocabulary: a *path* names one container's cgroup relative to the driver's parent (``<id>``
becomes ``/sys/fs/cgroup/<controller>/dockyard/<id>`` on v1 and ``/sys/fs/cgroup/dockyard/<id>``
on v2). Lifecycle: ``create`` the cgroup with its limits, ``add_process`` the container's init,
``update`` limits while it runs, read ``stats``/``oom_events``, ``freeze``/``thaw`` for pause,
and ``delete`` once no process is left in it.

Imports only the standard library (pure data and a Protocol). The values are NamedTuples, not
dataclasses, to keep the shim (which reads OOM counters) cheap to start.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

__all__ = ["CgroupDriver", "Resources", "Stats"]


class Resources(NamedTuple):
    """Limits in Docker's terms. ``None`` means "leave as it is" (on create: the kernel default).

    ``memory_swap`` is the total of memory and swap, as in ``docker run --memory-swap``:
    ``-1`` is unlimited swap; unset with ``memory`` set means twice ``memory``.
    ``cpus`` is a fraction of CPUs (``1.5``); ``cpu_shares`` the v1 relative weight (2..262144);
    ``pids_limit`` of 0 or below means unlimited.
    """

    memory: int | None = None
    memory_swap: int | None = None
    memory_reservation: int | None = None
    cpus: float | None = None
    cpu_shares: int | None = None
    cpuset_cpus: str | None = None
    pids_limit: int | None = None


class Stats(NamedTuple):
    """What ``docker stats`` shows of one cgroup. ``memory_limit`` None means unlimited."""

    memory_usage: int
    memory_limit: int | None
    cpu_usage_ns: int
    pids_current: int


class CgroupDriver(Protocol):
    """One cgroup hierarchy (v1 or v2) below a Dockyard parent; every method takes a *path*."""

    version: str

    def create(self, path: str, resources: Resources) -> None:
        """Make the cgroup and apply *resources*. Raises AlreadyExists, InvalidArgument."""

    def add_process(self, path: str, pid: int) -> None:
        """Move *pid* into the cgroup. Raises NotFound (no such cgroup or process)."""

    def update(self, path: str, resources: Resources) -> None:
        """Change the limits that are not None. Raises NotFound, InvalidArgument."""

    def stats(self, path: str) -> Stats:
        """Current usage and limits. Raises NotFound."""

    def oom_events(self, path: str) -> int:
        """How many processes the OOM killer has killed in the cgroup. Raises NotFound."""

    def oom_killed(self, path: str) -> bool:
        """Whether the OOM killer ever killed a process of the cgroup. Raises NotFound."""

    def freeze(self, path: str) -> None:
        """Stop every process of the cgroup until ``thaw``. Raises NotFound, Unavailable."""

    def thaw(self, path: str) -> None:
        """Resume a frozen cgroup. Raises NotFound."""

    def pids(self, path: str) -> list[int]:
        """Process ids in the cgroup (not its children). Raises NotFound."""

    def delete(self, path: str) -> None:
        """Remove the cgroup. Raises Conflict while processes remain; a missing one is fine."""
