"""The cgroup v1 driver: one directory per controller, ``<root>/<controller>/<parent>/<path>``.

Controllers that are co-mounted (``cpu,cpuacct`` behind two symlinks) share one directory and
are handled once. A new cpuset cgroup starts with empty ``cpuset.cpus``/``cpuset.mems`` and
refuses processes, so both are copied down from the parent on create.

Imports only the standard library, ``dockyard.errors``, ``dockyard._sys.libc`` (through
``_fs``) and sibling modules; never another L3 package.
"""

from __future__ import annotations

import os
import time

from dockyard import errors
from dockyard.runtime.cgroups._fs import CgroupFs, check_path, remove_cgroup
from dockyard.runtime.cgroups.protocol import Resources, Stats
from dockyard.runtime.cgroups.resources import v1_files

__all__ = ["CONTROLLERS", "V1Driver"]

CONTROLLERS = ("memory", "cpu", "cpuacct", "cpuset", "pids", "freezer", "devices", "blkio")
FREEZE_TIMEOUT = 5.0
# A v1 limit at or above this is the kernel's "unlimited" (PAGE_COUNTER_MAX pages).
UNLIMITED = 1 << 62


class V1Driver:
    """Cgroups of one Dockyard parent on the per-controller v1 hierarchies under *root*."""

    version = "v1"

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
        mounts: dict[str, str] = {}
        for name in CONTROLLERS:
            base = os.path.join(root, name)
            if self.fs.exists(base):
                mounts[name] = os.path.realpath(base)
        self.mounts = mounts

    def dir(self, controller: str, path: str) -> str:
        """The cgroup's directory for *controller*. Raises Unavailable if it is not mounted."""
        if controller not in self.mounts:
            raise errors.Unavailable(f"cgroup controller {controller} is not mounted")
        return os.path.join(self.mounts[controller], self.parent, check_path(path))

    def _dirs(self, path: str) -> list[str]:
        """One directory per distinct hierarchy, in CONTROLLERS order."""
        seen: list[str] = []
        for name in self.mounts:
            d = self.dir(name, path)
            if d not in seen:
                seen.append(d)
        return seen

    def _require(self, controller: str, path: str) -> str:
        d = self.dir(controller, path)
        if not self.fs.exists(d):
            raise errors.NotFound(f"No such cgroup: {self.parent}/{path}")
        return d

    def create(self, path: str, resources: Resources) -> None:
        """Make the cgroup in every controller and apply limits.

        Raises AlreadyExists, InvalidArgument (a limit the kernel refuses), PermissionDenied.
        """
        check_path(path)
        *middle, leaf = path.split("/")
        cpuset = self.mounts.get("cpuset")
        made: list[str] = []
        try:
            for base in dict.fromkeys(self.mounts.values()):
                current = base
                for part in [*self.parent.split("/"), *middle]:
                    parent_dir, current = current, os.path.join(current, part)
                    self.fs.mkdir(current, exist_ok=True)
                    if base == cpuset:
                        self._inherit_cpuset(parent_dir, current)
                target = os.path.join(current, leaf)
                self.fs.mkdir(target)
                made.append(target)
                if base == cpuset:
                    self._inherit_cpuset(current, target)
            self._apply(path, resources)
        except errors.DockyardError:
            for d in reversed(made):
                self.fs.rmdir(d)
            raise

    def _inherit_cpuset(self, parent_dir: str, child: str) -> None:
        for name in ("cpuset.cpus", "cpuset.mems"):
            if not self.fs.read(os.path.join(child, name)).strip():
                value = self.fs.read(os.path.join(parent_dir, name)).strip()
                self.fs.write(os.path.join(child, name), value)

    def _apply(self, path: str, resources: Resources) -> None:
        files = v1_files(resources)
        names = [name for _, name, _ in files]
        if "memory.memsw.limit_in_bytes" in names and "memory.limit_in_bytes" in names:
            # memsw must stay >= memory at every step: raise memsw first when it grows.
            current = self._memsw_current(path)
            swap = int(next(v for _, n, v in files if n == "memory.memsw.limit_in_bytes"))
            if current is not None and (swap == -1 or swap > current):
                files.sort(key=lambda f: f[1] != "memory.memsw.limit_in_bytes")
        for controller, name, value in files:
            file = os.path.join(self.dir(controller, path), name)
            if name.startswith("memory.memsw.") and not self.fs.has(file):
                continue  # swap accounting off: Docker ignores the swap limit then
            self.fs.write(file, value)

    def _memsw_current(self, path: str) -> int | None:
        file = os.path.join(self.dir("memory", path), "memory.memsw.limit_in_bytes")
        if not self.fs.has(file):
            return None
        return self.fs.read_int(file)

    def add_process(self, path: str, pid: int) -> None:
        """Move *pid* into the cgroup of every controller. Raises NotFound."""
        for d in self._dirs(path):
            if not self.fs.exists(d):
                raise errors.NotFound(f"No such cgroup: {self.parent}/{path}")
            self.fs.write(os.path.join(d, "cgroup.procs"), str(pid))

    def update(self, path: str, resources: Resources) -> None:
        """Change the limits that are set. Raises NotFound, InvalidArgument."""
        self._require("memory", path)
        self._apply(path, resources)

    def stats(self, path: str) -> Stats:
        """Usage from memory, cpuacct and pids. Raises NotFound."""
        mem = self._require("memory", path)
        limit = self.fs.read_int(os.path.join(mem, "memory.limit_in_bytes"))
        pids = 0
        if "pids" in self.mounts:
            pids = self.fs.read_int(os.path.join(self._require("pids", path), "pids.current"))
        return Stats(
            memory_usage=self.fs.read_int(os.path.join(mem, "memory.usage_in_bytes")),
            memory_limit=None if limit >= UNLIMITED else limit,
            cpu_usage_ns=self.fs.read_int(
                os.path.join(self._require("cpuacct", path), "cpuacct.usage")
            ),
            pids_current=pids,
        )

    def oom_events(self, path: str) -> int:
        """The oom_kill counter of memory.oom_control (kernel 4.13+). Raises NotFound."""
        control = os.path.join(self._require("memory", path), "memory.oom_control")
        return self.fs.read_keyed(control).get("oom_kill", 0)

    def oom_killed(self, path: str) -> bool:
        """Whether the OOM killer killed a process of the cgroup. Raises NotFound."""
        return self.oom_events(path) > 0

    def _set_state(self, path: str, state: str) -> None:
        file = os.path.join(self._require("freezer", path), "freezer.state")
        deadline = time.monotonic() + FREEZE_TIMEOUT
        while True:
            self.fs.write(file, state)
            if self.fs.read(file).strip() == state:
                return
            if time.monotonic() > deadline:
                raise errors.Unavailable(f"cgroup {self.parent}/{path} did not reach {state}")
            time.sleep(0.005)

    def freeze(self, path: str) -> None:
        """FROZEN via the freezer controller, waiting out FREEZING. Raises NotFound, Unavailable."""
        self._set_state(path, "FROZEN")

    def thaw(self, path: str) -> None:
        """THAWED via the freezer controller. Raises NotFound, Unavailable."""
        self._set_state(path, "THAWED")

    def pids(self, path: str) -> list[int]:
        """Pids in the memory (else first) controller's cgroup.procs. Raises NotFound."""
        controller = "memory" if "memory" in self.mounts else next(iter(self.mounts))
        return self.fs.read_pids(os.path.join(self._require(controller, path), "cgroup.procs"))

    def delete(self, path: str) -> None:
        """rmdir the cgroup in every controller; missing is fine. Raises Conflict if busy.

        A busy cgroup is retried for ``busy_wait`` seconds (a process killed a moment ago
        still counts until the kernel has torn it down).
        """
        for d in self._dirs(path):
            remove_cgroup(self.fs, d, self.busy_wait)

    def delete_parent(self) -> None:
        """Remove the Dockyard parent wherever it is empty (tests use a throwaway parent)."""
        for base in dict.fromkeys(self.mounts.values()):
            try:
                self.fs.rmdir(os.path.join(base, self.parent))
            except errors.Conflict:
                pass
