"""The v2 driver on the real kernel: this host's (controller-less) unified mount.

Resource limits need controllers this host keeps in v1, but the v2 core works here as on
any v2 host: creating cgroups, moving a process in, freezing it, and removing the cgroup.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.runtime.cgroups import Resources, V2Driver

UNIFIED = "/sys/fs/cgroup/unified"

pytestmark = pytest.mark.root


@pytest.fixture
def driver() -> Iterator[V2Driver]:
    if not os.path.exists(os.path.join(UNIFIED, "cgroup.controllers")):
        pytest.skip("no cgroup2 mount at /sys/fs/cgroup/unified")
    drv = V2Driver(root=UNIFIED, parent=f"dockyard-test-{secrets.token_hex(4)}")
    yield drv
    parent = Path(UNIFIED, drv.parent)
    if parent.is_dir():
        for child in parent.iterdir():
            if child.is_dir():
                (child / "cgroup.freeze").write_text("0")
                (child / "cgroup.kill").write_text("1")
                deadline = time.monotonic() + 5
                while (child / "cgroup.procs").read_text().strip():
                    assert time.monotonic() < deadline
                    time.sleep(0.01)
                drv.delete(child.name)
    drv.delete_parent()


def test_process_in_a_v2_cgroup_freezes_and_the_cgroup_goes_away(
    driver: V2Driver, tmp_path: Path
) -> None:
    driver.create("c1", Resources())
    counter = tmp_path / "count"
    # written to a temp file and renamed, so a read never sees a half-written count
    script = f"i=0; while :; do i=$((i+1)); echo $i > {counter}.t; mv {counter}.t {counter}; sleep 0.01; done"
    proc = subprocess.Popen(
        ["/bin/sh", "-c", script], preexec_fn=lambda: driver.add_process("c1", os.getpid())
    )
    try:
        assert proc.pid in driver.pids("c1")  # with its children (sleep) beside it
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
        with pytest.raises(errors.Conflict):
            driver.delete("c1")
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 5
    while driver.pids("c1") and time.monotonic() < deadline:
        time.sleep(0.01)
    driver.delete("c1")
    assert not os.path.exists(driver.dir("c1"))
