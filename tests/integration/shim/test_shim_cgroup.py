"""The shim puts a plain argv in a cgroup and reports an OOM kill (root, cgroup v1 host)."""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.runtime.cgroups import Resources, V1Driver, detect
from dockyard.runtime.shim.client import read_state, start_shim, wait_exit
from dockyard.runtime.shim.config import CgroupRef, LogConfig, ShimConfig

pytestmark = pytest.mark.root
MIB = 1024 * 1024


@pytest.fixture
def driver() -> Iterator[V1Driver]:
    if detect() != "v1":
        pytest.skip("host has no cgroup v1 hierarchy")
    drv = V1Driver(parent=f"dockyard-test-{secrets.token_hex(4)}")
    yield drv
    for pid in drv.pids("c1") if os.path.isdir(drv.dir("memory", "c1")) else []:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    drv.delete("c1")
    drv.delete_parent()


def test_memory_hog_under_the_shim_is_reported_oom_killed(
    driver: V1Driver, data_root: Path
) -> None:
    state_dir = data_root / "c1"
    state_dir.mkdir()
    driver.create("c1", Resources(memory=16 * MIB, memory_swap=16 * MIB))
    hog = "print('allocating', flush=True); b = [bytearray(1 << 20) for _ in range(200)]"
    cfg = ShimConfig(
        command=[sys.executable, "-c", hog],
        log=LogConfig(str(state_dir / "container.log")),
        cgroup=CgroupRef(path="c1", version="v1", parent=driver.parent, join=True),
        restart="on-failure:1",
    )
    start_shim(str(state_dir), cfg)
    result = wait_exit(str(state_dir), 30)
    assert result["exit_code"] == 137
    assert result["oom_killed"] is True
    assert result["restart_count"] == 1  # restarted once by policy, killed again
    assert driver.oom_events("c1") == 2
    shim_pid = int((read_state(str(state_dir)) or {}).get("shim_pid") or 0)
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{shim_pid}/cmdline") and time.monotonic() < deadline:
        with open(f"/proc/{shim_pid}/cmdline", "rb") as f:
            if b"dockyard.runtime.shim" not in f.read():
                break
        time.sleep(0.01)
