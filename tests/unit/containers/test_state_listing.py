"""Live state from the shim's files, Docker's STATUS texts, and the launcher's command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dockyard.mount import Mount
from dockyard.service.containers import runtimes
from dockyard.service.containers.listing import human_duration, status_text
from dockyard.service.containers.state import LiveState, read_live_state


def _write(d: Path, name: str, data: dict) -> None:
    (d / name).write_text(json.dumps(data))


def test_no_files_is_created(tmp_path: Path) -> None:
    live = read_live_state(str(tmp_path))
    assert live.status == "created" and not live.running
    assert live.to_docker()["StartedAt"] == "0001-01-01T00:00:00Z"


def test_exited_state_reports_code_and_oom(tmp_path: Path) -> None:
    _write(tmp_path, "state.json", {"status": "exited", "shim_pid": 1, "restart_count": 2})
    _write(tmp_path, "exit.json", {"exit_code": 137, "oom_killed": True,
                                   "finished_at": "2024-01-01T00:00:01Z",
                                   "started_at": "2024-01-01T00:00:00Z"})  # fmt: skip
    live = read_live_state(str(tmp_path))
    state = live.to_docker()
    assert (state["Status"], state["ExitCode"], state["OOMKilled"]) == ("exited", 137, True)
    assert live.restart_count == 2


def test_a_dead_shim_that_said_running_is_not_running(tmp_path: Path) -> None:
    _write(tmp_path, "state.json", {"status": "running", "shim_pid": 2**22 + 1, "pid": 5})
    assert read_live_state(str(tmp_path)).status == "dead"
    _write(tmp_path, "exit.json", {"exit_code": 1})
    assert read_live_state(str(tmp_path)).status == "exited"


def test_failed_start_reads_as_created_with_the_code(tmp_path: Path) -> None:
    _write(tmp_path, "state.json", {"status": "exited", "shim_pid": 1})
    _write(tmp_path, "exit.json", {"exit_code": 1})
    (tmp_path / "start-failed").write_text("127\nexec: nope: not found")
    live = read_live_state(str(tmp_path))
    assert (live.status, live.exit_code, live.error) == ("created", 127, "exec: nope: not found")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "Less than a second"), (1, "1 second"), (5, "5 seconds"), (90, "About a minute"),
     (600, "10 minutes"), (3600, "About an hour"), (7200, "2 hours"), (86400 * 3, "3 days")],
)  # fmt: skip
def test_human_durations_are_dockers(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_status_texts() -> None:
    now = 1704067205.0  # 2024-01-01T00:00:05Z
    up = LiveState(status="running", started_at="2024-01-01T00:00:00Z")
    assert status_text(up, now) == "Up 5 seconds"
    up.health = {"Status": "healthy"}
    assert status_text(up, now) == "Up 5 seconds (healthy)"
    up.health = {"Status": "starting"}
    assert status_text(up, now) == "Up 5 seconds (health: starting)"
    done = LiveState(status="exited", exit_code=3, finished_at="2024-01-01T00:00:02Z")
    assert status_text(done, now) == "Exited (3) 3 seconds ago"
    assert status_text(LiveState(), now) == "Created"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts need root")
def test_launcher_mounts_runs_create_and_detaches(tmp_path: Path) -> None:
    import json
    import subprocess

    # a fake runtime: create fails with 3, delete --force leaves a trace
    rt = tmp_path / "rt"
    rt.write_text('#!/bin/sh\n[ "$3" = delete ] && echo "$@" > forced\n'
                  'grep -q "$PWD/rootfs " /proc/self/mountinfo && touch seen\n'
                  '[ "$3" = create ] && exit 3\nexit 0\n')
    os.chmod(rt, 0o755)
    rootfs = [Mount("tmpfs", "tmpfs", ("size=1m",))]
    argv, env = runtimes.launcher(rootfs, [str(rt), "--root", "R"], ["create", "ID"], "ID")
    assert json.loads(argv[-1])["mount"] == {"type": "tmpfs", "source": "tmpfs",
                                            "options": ["size=1m"]}
    (tmp_path / "rootfs").mkdir()
    proc = subprocess.run(argv, cwd=tmp_path, env=env)
    assert proc.returncode == 3 and (tmp_path / runtimes.START_FAILED).exists()
    assert (tmp_path / "seen").exists()  # create ran with the root filesystem mounted
    assert (tmp_path / "forced").read_text() == "--root R delete --force ID\n"
    with open("/proc/self/mountinfo") as f:  # and the host's copy is gone
        assert str(tmp_path / "rootfs") not in f.read()


def test_unknown_runtime_is_dockers_error(tmp_path: Path) -> None:
    from dockyard import errors

    with pytest.raises(errors.InvalidArgument, match="unknown or invalid runtime name: kata"):
        runtimes.runtime_base("kata", tmp_path)
