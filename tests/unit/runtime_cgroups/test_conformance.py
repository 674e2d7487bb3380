"""One suite, both drivers: what every CgroupDriver must do, against kernel-like fake trees.

The v1 driver also runs for real in tests/integration/cgroups; the v2 driver is checked here
since this project's CI host has no v2 controllers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from dockyard import errors
from dockyard.runtime.cgroups import CgroupDriver, Resources, V1Driver, V2Driver, detect

from .fakefs import FakeCgroupFs, FakeV1Fs, make_root, make_v1_root

MIB = 1024 * 1024


class Kernel(NamedTuple):
    """The driver plus the test's hand on the kernel side of the fake tree."""

    driver: CgroupDriver
    cgroup_dir: Callable[[str], str]  # where memory files of a cgroup live
    oom_file: str
    oom_text: Callable[[int], str]


@pytest.fixture(params=["v1", "v2"])
def kernel(request: pytest.FixtureRequest, tmp_path: Path) -> Kernel:
    root = str(tmp_path / "cgroup")
    if request.param == "v1":
        make_v1_root(root)
        assert detect(root) == "v1"
        v1 = V1Driver(root=root, parent="dockyard", fs=FakeV1Fs(root), busy_wait=0)
        return Kernel(
            v1,
            lambda p: v1.dir("memory", p),
            "memory.oom_control",
            lambda n: f"oom_kill_disable 0\nunder_oom 0\noom_kill {n}\n",
        )
    make_root(root)
    assert detect(root) == "v2"
    v2 = V2Driver(root=root, parent="dockyard", fs=FakeCgroupFs(), busy_wait=0)
    return Kernel(v2, v2.dir, "memory.events", lambda n: f"low 0\nmax 0\noom 1\noom_kill {n}\n")


def test_memory_limit_shows_in_stats_and_update_changes_it(kernel: Kernel) -> None:
    d = kernel.driver
    d.create("web", Resources(memory=64 * MIB, cpus=1, pids_limit=100))
    assert d.stats("web").memory_limit == 64 * MIB
    d.update("web", Resources(memory=256 * MIB, memory_swap=-1))
    assert d.stats("web").memory_limit == 256 * MIB


def test_unlimited_by_default(kernel: Kernel) -> None:
    kernel.driver.create("web", Resources())
    assert kernel.driver.stats("web").memory_limit is None


def test_lifecycle_create_add_delete(kernel: Kernel) -> None:
    d = kernel.driver
    d.create("web", Resources())
    with pytest.raises(errors.AlreadyExists):
        d.create("web", Resources())
    d.add_process("web", 1234)
    assert d.pids("web") == [1234]
    with pytest.raises(errors.Conflict):
        d.delete("web")
    for directory in {kernel.cgroup_dir("web"), *_all_dirs(d, "web")}:
        Path(directory, "cgroup.procs").write_text("")
    d.delete("web")
    with pytest.raises(errors.NotFound, match="web"):
        d.stats("web")
    d.delete("web")


def _all_dirs(d: CgroupDriver, path: str) -> list[str]:
    if isinstance(d, V1Driver):
        return [os.path.join(base, d.parent, path) for base in set(d.mounts.values())]
    return []


def test_oom_kills_are_counted(kernel: Kernel) -> None:
    d = kernel.driver
    d.create("web", Resources(memory=16 * MIB))
    assert (d.oom_events("web"), d.oom_killed("web")) == (0, False)
    Path(kernel.cgroup_dir("web"), kernel.oom_file).write_text(kernel.oom_text(2))
    assert (d.oom_events("web"), d.oom_killed("web")) == (2, True)


def test_freeze_and_thaw(kernel: Kernel) -> None:
    d = kernel.driver
    d.create("web", Resources())
    d.freeze("web")
    d.thaw("web")
    with pytest.raises(errors.NotFound):
        d.freeze("nope")


def test_bad_limits_leave_nothing_behind(kernel: Kernel) -> None:
    d = kernel.driver
    with pytest.raises(errors.InvalidArgument):
        d.create("web", Resources(memory=100 * MIB, memory_swap=10 * MIB))
    with pytest.raises(errors.NotFound):
        d.stats("web")
    d.create("web", Resources())  # the name is free again


def test_memory_with_swap_can_grow_and_shrink(kernel: Kernel) -> None:
    d = kernel.driver
    d.create("web", Resources(memory=64 * MIB))
    d.update("web", Resources(memory=256 * MIB, memory_swap=512 * MIB))
    assert d.stats("web").memory_limit == 256 * MIB
    d.update("web", Resources(memory=32 * MIB, memory_swap=48 * MIB))
    assert d.stats("web").memory_limit == 32 * MIB
