"""The cgroup v2 (unified hierarchy) driver: ``<root>/<parent>/<path>``.

Controllers are enabled top-down through ``cgroup.subtree_control`` (the root's, then the
Dockyard parent's), since v2 only gives a child the controllers its parent delegates. The
parent holds no process itself (v2's "no internal processes" rule).

Imports only the standard library, ``dockyard.errors``, ``dockyard._sys.libc`` (through
``_fs``) and sibling modules; never another L3 package.
"""

from __future__ import annotations

import os
import time

from dockyard import errors
from dockyard.runtime.cgroups._fs import CgroupFs, check_path, remove_cgroup
from dockyard.runtime.cgroups.protocol import Resources, Stats
from dockyard.runtime.cgroups.resources import v2_files

__all__ = ["V2Driver"]

WANTED = ("cpuset", "cpu", "io", "memory", "pids")
FREEZE_TIMEOUT = 5.0


class V2Driver:
    """Cgroups of one Dockyard parent on a unified hierarchy mounted at *root*."""

    version = "v2"

    def __init__(
        self,
        root: str = "/sys/fs/cgroup",
        parent: str = "dockyard",
        fs: CgroupFs | None = None,
        busy_wait: float = 1.0,
    ) -> None:
        self.root = root
        self.busy_wait = busy_wait
        self.parent = check_path(parent)
        self.fs = fs or CgroupFs()

    def dir(self, path: str) -> str:
        """The cgroup's directory. Raises InvalidArgument for a bad path."""
        return os.path.join(self.root, self.parent, check_path(path))

    def _require(self, path: str) -> str:
        d = self.dir(path)
        if not self.fs.exists(d):
            raise errors.NotFound(f"No such cgroup: {self.parent}/{path}")
        return d

    def _delegate(self, directory: str) -> None:
        """Enable in *directory*'s subtree_control every wanted controller it has."""
        available = self.fs.read(os.path.join(directory, "cgroup.controllers")).split()
        enabled = self.fs.read(os.path.join(directory, "cgroup.subtree_control")).split()
        missing = [c for c in WANTED if c in available and c not in enabled]
        if missing:
            control = os.path.join(directory, "cgroup.subtree_control")
            self.fs.write(control, " ".join(f"+{c}" for c in missing))

    def create(self, path: str, resources: Resources) -> None:
        """Make the cgroup and apply limits. Raises AlreadyExists, InvalidArgument, NotFound."""
        target = self.dir(path)
        self._delegate(self.root)
        current = self.root
        for part in self.parent.split("/"):
            current = os.path.join(current, part)
            self.fs.mkdir(current, exist_ok=True)
            self._delegate(current)
        for part in check_path(path).split("/")[:-1]:
            current = os.path.join(current, part)
            self.fs.mkdir(current, exist_ok=True)
            self._delegate(current)
        self.fs.mkdir(target)
        try:
            self._apply(target, resources)
        except errors.DockyardError:
            self.fs.rmdir(target)
            raise

    def _apply(self, target: str, resources: Resources) -> None:
        for name, value in v2_files(resources):
            file = os.path.join(target, name)
            if name == "memory.swap.max" and not self.fs.has(file):
                continue  # swap accounting off: Docker ignores the swap limit then
            self.fs.write(file, value)

    def add_process(self, path: str, pid: int) -> None:
        """Move *pid* into the cgroup. Raises NotFound."""
        self.fs.write(os.path.join(self._require(path), "cgroup.procs"), str(pid))

    def update(self, path: str, resources: Resources) -> None:
        """Change the limits that are set. Raises NotFound, InvalidArgument."""
        self._apply(self._require(path), resources)

    def stats(self, path: str) -> Stats:
        """Usage from memory.current, memory.max, cpu.stat and pids.current. Raises NotFound."""
        d = self._require(path)
        limit = self.fs.read(os.path.join(d, "memory.max")).strip()
        cpu = self.fs.read_keyed(os.path.join(d, "cpu.stat"))
        return Stats(
            memory_usage=self.fs.read_int(os.path.join(d, "memory.current")),
            memory_limit=None if limit == "max" else int(limit),
            cpu_usage_ns=cpu.get("usage_usec", 0) * 1000,
            pids_current=self.fs.read_int(os.path.join(d, "pids.current")),
        )

    def oom_events(self, path: str) -> int:
        """The oom_kill counter of memory.events. Raises NotFound."""
        events = self.fs.read_keyed(os.path.join(self._require(path), "memory.events"))
        return events.get("oom_kill", 0)

    def oom_killed(self, path: str) -> bool:
        """Whether the OOM killer killed a process of the cgroup. Raises NotFound."""
        return self.oom_events(path) > 0

    def _set_frozen(self, path: str, frozen: bool) -> None:
        d = self._require(path)
        self.fs.write(os.path.join(d, "cgroup.freeze"), "1" if frozen else "0")
        want = 1 if frozen else 0
        deadline = time.monotonic() + FREEZE_TIMEOUT
        while self.fs.read_keyed(os.path.join(d, "cgroup.events")).get("frozen", 0) != want:
            if time.monotonic() > deadline:
                raise errors.Unavailable(f"cgroup {self.parent}/{path} did not freeze in time")
            time.sleep(0.005)

    def freeze(self, path: str) -> None:
        """Freeze via cgroup.freeze and wait for ``frozen 1``. Raises NotFound, Unavailable."""
        self._set_frozen(path, True)

    def thaw(self, path: str) -> None:
        """Thaw via cgroup.freeze. Raises NotFound, Unavailable."""
        self._set_frozen(path, False)

    def pids(self, path: str) -> list[int]:
        """Pids in cgroup.procs. Raises NotFound."""
        return self.fs.read_pids(os.path.join(self._require(path), "cgroup.procs"))

    def delete(self, path: str) -> None:
        """rmdir the cgroup; missing is fine. Raises Conflict while processes remain.

        A busy cgroup is retried for ``busy_wait`` seconds (a process killed a moment ago
        still counts until the kernel has torn it down).
        """
        remove_cgroup(self.fs, self.dir(path), self.busy_wait)

    def delete_parent(self) -> None:
        """Remove the Dockyard parent if it is empty (tests use a throwaway parent)."""
        try:
            self.fs.rmdir(os.path.join(self.root, self.parent))
        except errors.Conflict:
            pass
