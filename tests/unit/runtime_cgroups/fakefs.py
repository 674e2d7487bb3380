"""A fake cgroup v2 filesystem in a temporary directory that behaves like the kernel's.

``mkdir`` creates the interface files of the controllers the parent delegates; writes to
``cgroup.subtree_control`` check availability; ``cgroup.freeze`` updates ``cgroup.events``;
``rmdir`` refuses a cgroup that still lists processes.
"""

from __future__ import annotations

import errno
import os

from dockyard._sys.libc import as_error
from dockyard.runtime.cgroups._fs import CgroupFs

CORE = {
    "cgroup.procs": "",
    "cgroup.controllers": "",
    "cgroup.subtree_control": "",
    "cgroup.events": "populated 0\nfrozen 0\n",
    "cgroup.freeze": "0\n",
}
PER_CONTROLLER = {
    "memory": {
        "memory.max": "max\n",
        "memory.swap.max": "max\n",
        "memory.low": "0\n",
        "memory.current": "0\n",
        "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
    },
    "cpu": {"cpu.max": "max 100000\n", "cpu.weight": "100\n", "cpu.stat": "usage_usec 0\n"},
    "pids": {"pids.max": "max\n", "pids.current": "0\n"},
    "cpuset": {"cpuset.cpus": "\n"},
}


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def make_root(
    root: str, controllers: tuple[str, ...] = ("cpuset", "cpu", "memory", "pids")
) -> None:
    """A cgroup2 root like a fresh v2 host's."""
    os.makedirs(root, exist_ok=True)
    for name, text in CORE.items():
        _write(os.path.join(root, name), text)
    _write(os.path.join(root, "cgroup.controllers"), " ".join(controllers) + "\n")
    _write(os.path.join(root, "cgroup.procs"), "1\n")
    _write(os.path.join(root, "cpu.stat"), "usage_usec 0\n")


class FakeCgroupFs(CgroupFs):
    """CgroupFs over a temp dir, with the kernel's side effects of mkdir, write and rmdir."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str]] = []

    def mkdir(self, path: str, exist_ok: bool = False) -> None:
        existed = os.path.isdir(path)
        super().mkdir(path, exist_ok)
        if existed:
            return
        parent = os.path.dirname(path)
        delegated = self.read(os.path.join(parent, "cgroup.subtree_control")).split()
        for name, text in CORE.items():
            _write(os.path.join(path, name), text)
        _write(os.path.join(path, "cgroup.controllers"), " ".join(delegated) + "\n")
        for controller in delegated:
            for name, text in PER_CONTROLLER.get(controller, {}).items():
                _write(os.path.join(path, name), text)

    def write(self, path: str, value: str) -> None:
        if not os.path.exists(path):
            raise as_error(OSError(errno.ENOENT, "No such file or directory"), f"write {path}")
        self.writes.append((path, value))
        name = os.path.basename(path)
        directory = os.path.dirname(path)
        if name == "cgroup.subtree_control":
            available = self.read(os.path.join(directory, "cgroup.controllers")).split()
            enabled = self.read(path).split()
            for token in value.split():
                ctrl = token[1:]
                if ctrl not in available:
                    raise as_error(OSError(errno.ENOENT, "No such file"), f"enable {ctrl}")
                if token[0] == "+" and ctrl not in enabled:
                    enabled.append(ctrl)
                elif token[0] == "-" and ctrl in enabled:
                    enabled.remove(ctrl)
            _write(path, " ".join(enabled) + "\n")
        elif name == "cgroup.procs":
            procs = self.read(path).split()
            _write(path, "\n".join([*procs, value.strip()]) + "\n")
        elif name == "cgroup.freeze":
            _write(path, value + "\n")
            _write(os.path.join(directory, "cgroup.events"), f"populated 1\nfrozen {value}\n")
        elif name == "memory.max" and not (value == "max" or value.isdigit()):
            raise as_error(OSError(errno.EINVAL, "Invalid argument"), f"write {path}")
        else:
            _write(path, value + "\n")

    def rmdir(self, path: str) -> None:
        if os.path.isdir(path):
            procs = os.path.join(path, "cgroup.procs")
            busy = self.read(procs).strip() or any(
                os.path.isdir(os.path.join(path, e)) for e in os.listdir(path)
            )
            if busy:  # the real rmdir then fails (here: ENOTEMPTY, mapped to Conflict)
                super().rmdir(path)
            for entry in os.listdir(path):
                os.unlink(os.path.join(path, entry))
        super().rmdir(path)


V1_FILES = {
    "memory": {
        "memory.limit_in_bytes": "9223372036854771712\n",
        "memory.memsw.limit_in_bytes": "9223372036854771712\n",
        "memory.soft_limit_in_bytes": "9223372036854771712\n",
        "memory.usage_in_bytes": "0\n",
        "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
    },
    "cpu": {"cpu.cfs_period_us": "100000\n", "cpu.cfs_quota_us": "-1\n", "cpu.shares": "1024\n"},
    "cpuacct": {"cpuacct.usage": "0\n"},
    "cpuset": {"cpuset.cpus": "\n", "cpuset.mems": "\n"},
    "pids": {"pids.max": "max\n", "pids.current": "0\n"},
    "freezer": {"freezer.state": "THAWED\n"},
    "devices": {},
    "blkio": {},
}


UNLIMITED_V1 = 9223372036854771712


def make_v1_root(root: str) -> None:
    """Per-controller v1 hierarchies like this project's CI host (plus an empty unified)."""
    for ctrl, files in V1_FILES.items():
        base = os.path.join(root, ctrl)
        os.makedirs(base)
        _write(os.path.join(base, "cgroup.procs"), "1\n")
        for name, text in files.items():
            if name != "freezer.state":  # the root cgroup has no freezer.state
                _write(os.path.join(base, name), text)
        if ctrl == "cpuset":
            _write(os.path.join(base, "cpuset.cpus"), "0-1\n")
            _write(os.path.join(base, "cpuset.mems"), "0\n")
    make_root(os.path.join(root, "unified"), controllers=())
    os.unlink(os.path.join(root, "unified", "cgroup.controllers"))


class FakeV1Fs(CgroupFs):
    """CgroupFs over a temp dir playing the v1 kernel: per-controller files, procs, freezer."""

    def __init__(self, root: str) -> None:
        self.root = root

    def _controller(self, path: str) -> str:
        return os.path.relpath(path, self.root).split(os.sep)[0]

    def mkdir(self, path: str, exist_ok: bool = False) -> None:
        existed = os.path.isdir(path)
        super().mkdir(path, exist_ok)
        if existed:
            return
        _write(os.path.join(path, "cgroup.procs"), "")
        for name, text in V1_FILES[self._controller(path)].items():
            _write(os.path.join(path, name), text)

    def write(self, path: str, value: str) -> None:
        if not os.path.exists(path):
            raise as_error(OSError(errno.ENOENT, "No such file or directory"), f"write {path}")
        name = os.path.basename(path)
        if name == "cgroup.procs":
            procs = self.read(path).split()
            _write(path, "\n".join([*procs, value.strip()]) + "\n")
        elif name == "cpuset.cpus" and value and not value[0].isdigit():
            raise as_error(OSError(errno.EINVAL, "Invalid argument"), f"write {path}")
        elif name in ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"):
            # the kernel keeps memsw >= memory at all times, and stores -1 as its maximum
            number = UNLIMITED_V1 if int(value) == -1 else int(value)
            directory = os.path.dirname(path)
            memory = self.read_int(os.path.join(directory, "memory.limit_in_bytes"))
            memsw = self.read_int(os.path.join(directory, "memory.memsw.limit_in_bytes"))
            if (name == "memory.limit_in_bytes" and number > memsw) or (
                name == "memory.memsw.limit_in_bytes" and number < memory
            ):
                raise as_error(OSError(errno.EINVAL, "Invalid argument"), f"write {path}")
            _write(path, f"{number}\n")
        else:
            _write(path, value + "\n")

    def rmdir(self, path: str) -> None:
        if os.path.isdir(path):
            busy = self.read(os.path.join(path, "cgroup.procs")).strip() or any(
                os.path.isdir(os.path.join(path, e)) for e in os.listdir(path)
            )
            if busy:
                super().rmdir(path)
            for entry in os.listdir(path):
                os.unlink(os.path.join(path, entry))
        super().rmdir(path)
