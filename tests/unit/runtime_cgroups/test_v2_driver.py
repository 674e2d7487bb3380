"""The v2 driver against a fake unified hierarchy that behaves like the kernel's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.runtime.cgroups import Resources, V2Driver

from .fakefs import FakeCgroupFs, make_root

MIB = 1024 * 1024


@pytest.fixture
def root(tmp_path: Path) -> str:
    make_root(str(tmp_path / "cg"))
    return str(tmp_path / "cg")


@pytest.fixture
def driver(root: str) -> V2Driver:
    return V2Driver(root=root, parent="dockyard", fs=FakeCgroupFs(), busy_wait=0)


def read(root: str, *parts: str) -> str:
    return Path(root, *parts).read_text().strip()


def test_create_delegates_controllers_and_writes_limits(root: str, driver: V2Driver) -> None:
    driver.create("c1", Resources(memory=64 * MIB, cpus=1.5, cpu_shares=512, pids_limit=50))
    assert read(root, "cgroup.subtree_control").split() == ["cpuset", "cpu", "memory", "pids"]
    assert read(root, "dockyard", "cgroup.subtree_control").split() == [
        "cpuset",
        "cpu",
        "memory",
        "pids",
    ]
    assert read(root, "dockyard", "c1", "memory.max") == str(64 * MIB)
    assert read(root, "dockyard", "c1", "memory.swap.max") == str(64 * MIB)
    assert read(root, "dockyard", "c1", "cpu.max") == "150000 100000"
    assert read(root, "dockyard", "c1", "cpu.weight") == "20"
    assert read(root, "dockyard", "c1", "pids.max") == "50"


def test_create_twice_is_already_exists(driver: V2Driver) -> None:
    driver.create("c1", Resources())
    with pytest.raises(errors.AlreadyExists, match="c1"):
        driver.create("c1", Resources())


def test_refused_limit_leaves_no_cgroup_behind(root: str) -> None:
    class Refusing(FakeCgroupFs):
        def write(self, path: str, value: str) -> None:
            if path.endswith("pids.max"):
                raise errors.InvalidArgument(f"write {value!r} to {path}: Invalid argument")
            super().write(path, value)

    driver = V2Driver(root=root, fs=Refusing())
    with pytest.raises(errors.InvalidArgument, match=r"pids\.max"):
        driver.create("c1", Resources(pids_limit=5))
    assert not os.path.exists(os.path.join(root, "dockyard", "c1"))


def test_update_changes_only_given_limits(root: str, driver: V2Driver) -> None:
    driver.create("c1", Resources(memory=64 * MIB, pids_limit=10))
    driver.update("c1", Resources(pids_limit=20))
    assert read(root, "dockyard", "c1", "pids.max") == "20"
    assert read(root, "dockyard", "c1", "memory.max") == str(64 * MIB)


def test_add_process_and_pids_and_busy_delete(root: str, driver: V2Driver) -> None:
    driver.create("c1", Resources())
    driver.add_process("c1", 4242)
    assert driver.pids("c1") == [4242]
    with pytest.raises(errors.Conflict):
        driver.delete("c1")
    Path(root, "dockyard", "c1", "cgroup.procs").write_text("")
    driver.delete("c1")
    assert not os.path.exists(os.path.join(root, "dockyard", "c1"))
    driver.delete("c1")  # a missing cgroup is fine
    driver.delete_parent()
    assert not os.path.exists(os.path.join(root, "dockyard"))


def test_stats_and_oom_from_kernel_files(root: str, driver: V2Driver) -> None:
    driver.create("c1", Resources(memory=64 * MIB))
    d = Path(root, "dockyard", "c1")
    (d / "memory.current").write_text("1048576\n")
    (d / "cpu.stat").write_text("usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n")
    (d / "pids.current").write_text("3\n")
    stats = driver.stats("c1")
    assert (stats.memory_usage, stats.memory_limit, stats.cpu_usage_ns, stats.pids_current) == (
        1048576,
        64 * MIB,
        2_500_000,
        3,
    )
    assert not driver.oom_killed("c1")
    (d / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    assert driver.oom_events("c1") == 1
    assert driver.oom_killed("c1")


def test_unlimited_memory_stats_as_none(driver: V2Driver) -> None:
    driver.create("c1", Resources())
    assert driver.stats("c1").memory_limit is None


def test_freeze_and_thaw_wait_for_the_kernel(root: str, driver: V2Driver) -> None:
    driver.create("c1", Resources())
    driver.freeze("c1")
    assert read(root, "dockyard", "c1", "cgroup.freeze") == "1"
    assert "frozen 1" in read(root, "dockyard", "c1", "cgroup.events")
    driver.thaw("c1")
    assert "frozen 0" in read(root, "dockyard", "c1", "cgroup.events")


def test_missing_cgroup_is_not_found(driver: V2Driver) -> None:
    for op in (driver.stats, driver.pids, driver.oom_killed, driver.freeze):
        with pytest.raises(errors.NotFound, match="dockyard/nope"):
            op("nope")


@pytest.mark.parametrize("bad", ["", "/abs", "../escape", "a/../b"])
def test_paths_cannot_escape_the_parent(driver: V2Driver, bad: str) -> None:
    with pytest.raises(errors.InvalidArgument):
        driver.create(bad, Resources())


def test_missing_controller_is_reported(tmp_path: Path) -> None:
    make_root(str(tmp_path / "cg"), controllers=("cpu", "memory"))
    driver = V2Driver(root=str(tmp_path / "cg"), fs=FakeCgroupFs(), busy_wait=0)
    with pytest.raises(errors.NotFound, match=r"pids\.max"):
        driver.create("c1", Resources(pids_limit=5))
    driver.create("c2", Resources(memory=64 * MIB))  # what is there still works
