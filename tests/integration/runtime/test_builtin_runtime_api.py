"""The builtin runtime's Python API, as the engine and the shim call it: ``Builtin`` with a
cgroup placement hook."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from oci_runtime_helpers import alive

from dockyard.errors import AlreadyExists, FailedPrecondition, NotFound
from dockyard.runtime.builtin import Builtin

pytestmark = pytest.mark.root

PIDS = Path("/sys/fs/cgroup/pids")


@pytest.fixture
def cgroup(data_root: Path) -> Path:
    if not (PIDS / "cgroup.procs").exists():
        pytest.skip("no cgroup v1 pids hierarchy")
    path = PIDS / "dockyard-test-oci-runtime" / data_root.name
    path.mkdir(parents=True)
    yield path
    path.rmdir()
    try:
        path.parent.rmdir()
    except OSError:
        pass  # another test still uses the parent


def test_place_hook_puts_the_container_in_its_cgroup_before_its_cgroup_namespace(
    data_root: Path, make_bundle: Callable[..., Path], cgroup: Path
) -> None:
    bundle = make_bundle("api", "sh", "-c", "grep pids /proc/self/cgroup > /tmp/out; sleep 60")
    placed: list[tuple[str, int]] = []

    def place(cid: str, pid: int) -> None:
        placed.append((cid, pid))
        (cgroup / "cgroup.procs").write_text(str(pid))

    runtime = Builtin(str(data_root / "state"), place=place)
    state = runtime.create("api", str(bundle))
    try:
        assert state.status == "created"
        assert placed and placed[0][0] == "api" and placed[0][1] != state.pid
        assert str(state.pid) in (cgroup / "cgroup.procs").read_text().split()
        with pytest.raises(AlreadyExists):
            runtime.create("api", str(bundle))
        runtime.start("api")
        assert runtime.state("api").status == "running"
        out = bundle / "rootfs" / "tmp" / "out"
        for _ in range(200):
            if out.exists() and out.read_text():
                break
            subprocess.run(["sleep", "0.01"], check=True)
        # The cgroup namespace is rooted at the container's cgroup: it sees itself at "/".
        assert out.read_text().strip().endswith(":pids:/")
        with pytest.raises(FailedPrecondition):
            runtime.delete("api")
    finally:
        runtime.delete("api", force=True)
    assert not alive(state.pid)
    assert (cgroup / "cgroup.procs").read_text().strip() == ""
    with pytest.raises(NotFound):
        runtime.state("api")


def test_create_refuses_to_fork_a_threaded_process(
    data_root: Path, make_bundle: Callable[..., Path]
) -> None:
    import threading

    bundle = make_bundle("threads", "true")
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        with pytest.raises(FailedPrecondition, match="single-threaded"):
            Builtin(str(data_root / "state")).create("threads", str(bundle))
    finally:
        stop.set()
        worker.join()
    assert not (data_root / "state" / "threads").exists()
