"""Spawning the container's command, and the shim's config file."""

from __future__ import annotations

import errno
import os
import select
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.runtime.shim.attach import frame
from dockyard.runtime.shim.config import CgroupRef, LogConfig, ShimConfig, load, write_json
from dockyard.runtime.shim.spawn import SpawnError, exit_code_of, spawn


def _collect(outputs: dict[int, str]) -> dict[str, bytes]:
    got = {name: b"" for name in outputs.values()}
    open_fds = dict(outputs)
    while open_fds:
        ready, _, _ = select.select(list(open_fds), [], [], 5)
        assert ready, "child output stalled"
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            except OSError:  # EIO from a pty whose slave closed
                data = b""
            if not data:
                os.close(fd)
                del open_fds[fd]
            else:
                got[outputs[fd]] += data
    return got


def test_spawn_separates_stdout_and_stderr_and_feeds_stdin() -> None:
    child = spawn(["/bin/sh", "-c", "read x; echo out:$x; echo err >&2; exit 4"], stdin=True)
    assert child.stdin is not None
    os.write(child.stdin, b"hi\n")
    os.close(child.stdin)
    got = _collect(child.outputs)
    _, status = os.waitpid(child.pid, 0)
    assert got == {"stdout": b"out:hi\n", "stderr": b"err\n"}
    assert exit_code_of(status) == 4


def test_spawn_with_tty_gives_a_controlling_terminal() -> None:
    child = spawn(
        ["/bin/sh", "-c", "tty; stty size; test -t 0 && echo interactive"],
        tty=True,
        winsize=(40, 120),
    )
    assert child.pty is not None and child.stdin == child.pty
    got = _collect(child.outputs)
    os.waitpid(child.pid, 0)
    lines = got["stdout"].decode().split("\r\n")
    assert lines[0].startswith("/dev/pts/")
    assert lines[1:3] == ["40 120", "interactive"]


def test_missing_command_is_a_spawn_error_not_a_mystery_exit() -> None:
    with pytest.raises(SpawnError) as info:
        spawn(["/definitely/not/here"])
    assert info.value.errno == errno.ENOENT


def test_a_dockyard_module_command_runs_in_the_forked_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    import dockyard.runtime.launch as launch

    # only a forked child sees this replacement; an exec'd interpreter would run the real one
    def fake(spec: dict[str, object]) -> int:
        print("in process", spec, os.getcwd())
        print("oops", file=sys.stderr)
        return 7

    monkeypatch.setattr(launch, "launch", fake)
    child = spawn([sys.executable, "-S", "-m", "dockyard.runtime.launch", '{"a": 1}'], cwd="/")
    got = _collect(child.outputs)
    _, status = os.waitpid(child.pid, 0)
    assert got == {"stdout": b"in process {'a': 1} /\n", "stderr": b"oops\n"}
    assert exit_code_of(status) == 7


def test_exit_code_of_a_signal_is_128_plus_signal() -> None:
    child = spawn(["/bin/sh", "-c", "kill -9 $$"])
    _, status = os.waitpid(child.pid, 0)
    assert exit_code_of(status) == 137
    for fd in child.outputs:
        os.close(fd)


def test_attach_frames_follow_docker_stream_format() -> None:
    assert frame("stdout", b"hi") == b"\x01\x00\x00\x00\x00\x00\x00\x02hi"
    assert frame("stderr", b"") == b"\x02\x00\x00\x00\x00\x00\x00\x00"


def test_config_round_trips_through_shim_json(tmp_path: Path) -> None:
    cfg = ShimConfig(
        command=["sleep", "1"],
        id="web",
        tty=True,
        winsize=(24, 80),
        restart="on-failure:2",
        log=LogConfig(str(tmp_path / "c.log"), 1024, 3),
        cgroup=CgroupRef(path="web", version="v2"),
        healthcheck={"test": ["true"], "interval": 1.0},
    )
    write_json(str(tmp_path / "shim.json"), cfg.to_json())
    assert load(str(tmp_path)) == cfg


def test_bad_config_is_reported(tmp_path: Path) -> None:
    with pytest.raises(errors.NotFound, match="shim config"):
        load(str(tmp_path))
    (tmp_path / "shim.json").write_text('{"command": "not a list"}')
    with pytest.raises(errors.InvalidArgument, match="command"):
        load(str(tmp_path))
    (tmp_path / "shim.json").write_text('{"command": ["x"], "bogus": 1}')
    with pytest.raises(errors.InvalidArgument, match="bogus"):
        load(str(tmp_path))


def test_a_failing_setup_step_is_reported_with_its_reason() -> None:
    def refuse() -> None:
        raise errors.NotFound("No such cgroup: dockyard/c1")

    with pytest.raises(SpawnError, match="No such cgroup: dockyard/c1"):
        spawn(["true"], before_exec=refuse)
    with pytest.raises(SpawnError, match="No such file or directory") as info:
        spawn(["true"], cwd="/no/such/dir")
    assert info.value.errno == errno.ENOENT
