"""Shims forked by a zygote (the daemon's way) behave as exec'd ones, and outlive it."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.runtime.logs import read_logs
from dockyard.runtime.shim.client import read_state, shim_alive, start_shim, wait_exit
from dockyard.runtime.shim.config import LogConfig, ShimConfig
from dockyard.runtime.shim.zygote import ShimZygote

pytestmark = pytest.mark.root


@pytest.fixture
def zygote() -> Iterator[ShimZygote]:
    z = ShimZygote.start()
    yield z
    z.close()


def _cfg(state_dir: Path, argv: list[str]) -> ShimConfig:
    return ShimConfig(command=argv, id="z1", log=LogConfig(str(state_dir / "container.log")))


def _logged(state_dir: Path) -> list[tuple[str, str]]:
    return [(e.stream, e.text) for e in read_logs(str(state_dir / "container.log"))]


def test_a_zygote_shim_runs_logs_and_records_the_exit(data_root: Path, zygote: ShimZygote) -> None:
    sd = data_root / "c1"
    argv = ["/bin/sh", "-c", "sleep 0.2; echo hi; echo err >&2; exit 3"]
    info = start_shim(str(sd), _cfg(sd, argv), zygote=zygote)
    assert info.shim_pid not in (os.getpid(), zygote.proc.pid) and info.init_pid > 0
    with open(f"/proc/{info.shim_pid}/comm") as f:  # how ps tells the shims apart
        assert f.read().strip() == "dy-shim-c1"
    assert wait_exit(str(sd), 10)["exit_code"] == 3
    assert sorted(_logged(sd)) == [("stderr", "err\n"), ("stdout", "hi\n")]


def test_a_missing_command_is_reported_through_the_zygote(
    data_root: Path, zygote: ShimZygote
) -> None:
    from dockyard import errors

    sd = data_root / "c2"
    with pytest.raises(errors.FailedPrecondition, match="/not/here"):
        start_shim(str(sd), _cfg(sd, ["/not/here"]), zygote=zygote)


def test_shims_outlive_the_zygote_and_a_gone_zygote_falls_back(data_root: Path) -> None:
    z = ShimZygote.start()
    sd = data_root / "c3"
    info = start_shim(str(sd), _cfg(sd, ["/bin/sh", "-c", "sleep 0.5; echo done"]), zygote=z)
    assert os.getsid(info.shim_pid) != os.getsid(0)
    z.close()  # the daemon going away
    assert z.proc.returncode is not None and shim_alive(str(sd))
    assert wait_exit(str(sd), 10)["exit_code"] == 0
    assert _logged(sd) == [("stdout", "done\n")]
    # a closed zygote: the shim is exec'd instead, and still runs the container
    sd2 = data_root / "c4"
    start_shim(str(sd2), _cfg(sd2, ["/bin/echo", "again"]), zygote=z)
    assert wait_exit(str(sd2), 10)["exit_code"] == 0
    assert _logged(sd2) == [("stdout", "again\n")]


def test_a_killed_zygote_leaves_no_orphan_waiting(data_root: Path) -> None:
    z = ShimZygote.start()
    os.kill(z.proc.pid, signal.SIGKILL)
    z.proc.wait()
    sd = data_root / "c5"
    start_shim(str(sd), _cfg(sd, ["/bin/true"]), zygote=z)  # falls back to exec
    assert wait_exit(str(sd), 10)["exit_code"] == 0
    deadline = time.monotonic() + 5
    while shim_alive(str(sd)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (read_state(str(sd)) or {}).get("status") == "exited"
    z.close()
