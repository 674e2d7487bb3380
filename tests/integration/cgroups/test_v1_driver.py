"""The v1 driver on this host's real cgroup hierarchies (root; skipped on a v2-only host)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.runtime.cgroups import Resources, V1Driver, detect, kill_all

MIB = 1024 * 1024
ROOT = "/sys/fs/cgroup"

pytestmark = pytest.mark.root


@pytest.fixture
def driver() -> Iterator[V1Driver]:
    if detect(ROOT) != "v1":
        pytest.skip("host has no cgroup v1 hierarchy")
    drv = V1Driver(root=ROOT, parent=f"dockyard-test-{secrets.token_hex(4)}")
    yield drv
    for base in set(drv.mounts.values()):
        parent = Path(base, drv.parent)
        if not parent.is_dir():
            continue
        for child in parent.iterdir():
            if child.is_dir():
                if (child / "freezer.state").exists():
                    (child / "freezer.state").write_text("THAWED")
                for pid in (child / "cgroup.procs").read_text().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
    for base in set(drv.mounts.values()):
        parent = Path(base, drv.parent)
        if parent.is_dir():
            for child in parent.iterdir():
                if child.is_dir():
                    drv.delete(child.name)
    drv.delete_parent()


def spawn_in(driver: V1Driver, path: str, argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        preexec_fn=lambda: driver.add_process(path, os.getpid()),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def ctl(driver: V1Driver, controller: str, path: str, name: str) -> str:
    return Path(driver.dir(controller, path), name).read_text().strip()


def test_limits_are_visible_in_the_kernel_files(driver: V1Driver) -> None:
    driver.create(
        "c1", Resources(memory=64 * MIB, cpus=0.5, cpu_shares=512, cpuset_cpus="0", pids_limit=42)
    )
    assert ctl(driver, "memory", "c1", "memory.limit_in_bytes") == str(64 * MIB)
    assert ctl(driver, "cpu", "c1", "cpu.cfs_quota_us") == "50000"
    assert ctl(driver, "cpu", "c1", "cpu.shares") == "512"
    assert ctl(driver, "cpuset", "c1", "cpuset.cpus") == "0"
    assert ctl(driver, "pids", "c1", "pids.max") == "42"
    if os.path.exists(os.path.join(driver.dir("memory", "c1"), "memory.memsw.limit_in_bytes")):
        assert ctl(driver, "memory", "c1", "memory.memsw.limit_in_bytes") == str(128 * MIB)
    driver.update("c1", Resources(memory=128 * MIB, memory_swap=-1, pids_limit=0))
    assert ctl(driver, "memory", "c1", "memory.limit_in_bytes") == str(128 * MIB)
    assert ctl(driver, "pids", "c1", "pids.max") == "max"


def test_process_joins_and_stats_count_it(driver: V1Driver) -> None:
    driver.create("c1", Resources(memory=64 * MIB))
    busy_then_sleep = "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 30"
    proc = spawn_in(driver, "c1", ["/bin/sh", "-c", busy_then_sleep])
    try:
        deadline = time.monotonic() + 5
        while proc.pid not in driver.pids("c1") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert driver.pids("c1") == [proc.pid]
        while driver.stats("c1").cpu_usage_ns < 10_000_000 and time.monotonic() < deadline:
            time.sleep(0.01)
        stats = driver.stats("c1")
        assert stats.pids_current == 1
        assert stats.memory_limit == 64 * MIB
        assert stats.memory_usage > 0
        assert stats.cpu_usage_ns >= 10_000_000  # the busy loop's CPU time
        with pytest.raises(errors.Conflict):
            driver.delete("c1")
    finally:
        proc.kill()
        proc.wait()
    driver.delete("c1")
    for base in set(driver.mounts.values()):
        assert not os.path.exists(os.path.join(base, driver.parent, "c1"))


def test_memory_hog_is_oom_killed_and_reported(driver: V1Driver) -> None:
    driver.create("hog", Resources(memory=16 * MIB, memory_swap=16 * MIB))
    assert not driver.oom_killed("hog")
    hog = "b = [bytearray(1 << 20) for _ in range(200)]"
    proc = spawn_in(driver, "hog", [sys.executable, "-c", hog])
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert driver.oom_killed("hog")
    assert driver.oom_events("hog") == 1


def test_freeze_stops_and_thaw_resumes(driver: V1Driver, tmp_path: Path) -> None:
    driver.create("c1", Resources())
    counter = tmp_path / "count"
    # written to a temp file and renamed, so a read never sees a half-written count
    script = f"i=0; while :; do i=$((i+1)); echo $i > {counter}.t; mv {counter}.t {counter}; sleep 0.01; done"
    proc = spawn_in(driver, "c1", ["/bin/sh", "-c", script])
    try:
        while not counter.exists():
            time.sleep(0.01)
        driver.freeze("c1")
        frozen_at = counter.read_text()
        time.sleep(0.3)
        assert counter.read_text() == frozen_at
        driver.thaw("c1")
        deadline = time.monotonic() + 5
        while counter.read_text() == frozen_at:  # counting again
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait()


def test_kill_all_ends_a_forking_workload_so_the_cgroup_can_go(driver: V1Driver) -> None:
    driver.create("c1", Resources(pids_limit=200))
    forker = "while :; do sleep 5 & sleep 0.01; done"
    proc = spawn_in(driver, "c1", ["/bin/sh", "-c", forker])
    deadline = time.monotonic() + 5
    while len(driver.pids("c1")) < 5:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert kill_all(driver, "c1") >= 5
    assert driver.pids("c1") == []
    proc.wait(timeout=5)
    driver.delete("c1")
    assert not os.path.exists(driver.dir("memory", "c1"))
