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


def make_root(root: str, controllers: tuple[str, ...] = ("cpuset", "cpu", "memory", "pids")) -> None:
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
