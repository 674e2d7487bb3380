"""The shim for real: a daemon around a plain argv, its log, exit record, restarts, tty, attach."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.runtime.logs import read_logs
from dockyard.runtime.shim.client import (
    connect_attach,
    read_exit,
    read_health,
    read_state,
    request_stop,
    resize,
    shim_alive,
    start_shim,
    stop,
    wait_exit,
)
from dockyard.runtime.shim.config import LogConfig, ShimConfig

pytestmark = pytest.mark.root


@pytest.fixture
def state_dir(data_root: Path) -> Iterator[Path]:
    d = data_root / "containers" / "c1"
    d.mkdir(parents=True)
    yield d
    state = read_state(str(d)) or {}
    for key in ("pid", "shim_pid"):
        pid = int(state.get(key) or 0)
        if pid and state.get("status") != "exited":
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    shim_pid = int(state.get("shim_pid") or 0)
    deadline = time.monotonic() + 5
    while shim_pid and _running(shim_pid) and time.monotonic() < deadline:
        time.sleep(0.01)


def _running(pid: int) -> bool:
    """Whether *pid* is a live shim (a zombie or a reused pid does not count)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"dockyard.runtime.shim" in f.read()
    except OSError:
        return False


def config(state_dir: Path, argv: list[str], **kw: object) -> ShimConfig:
    return ShimConfig(command=argv, id="c1", log=LogConfig(str(state_dir / "container.log")), **kw)  # type: ignore[arg-type]


def logged(state_dir: Path) -> list[tuple[str, str]]:
    return [(e.stream, e.text) for e in read_logs(str(state_dir / "container.log"))]


def test_plain_argv_logs_both_streams_and_records_exit_code(state_dir: Path) -> None:
    argv = ["/bin/sh", "-c", "echo hi; echo err >&2; exit 3"]
    info = start_shim(str(state_dir), config(state_dir, argv))
    assert info.init_pid > 0 and info.shim_pid != os.getpid()
    result = wait_exit(str(state_dir), 10)
    assert result["exit_code"] == 3
    assert result["oom_killed"] is False
    assert result["finished_at"] >= result["started_at"]
    assert sorted(logged(state_dir)) == [("stderr", "err\n"), ("stdout", "hi\n")]
    assert not (state_dir / "attach.sock").exists()


def test_shim_survives_the_process_that_started_it(state_dir: Path) -> None:
    starter = (
        "import sys\n"
        "from dockyard.runtime.shim.client import start_shim\n"
        "from dockyard.runtime.shim.config import ShimConfig, LogConfig\n"
        f"d = {str(state_dir)!r}\n"
        "info = start_shim(d, ShimConfig(command=['/bin/sh', '-c', 'sleep 0.5; echo done'],"
        " log=LogConfig(d + '/container.log')))\n"
        "print(info.shim_pid)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", starter], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    shim_pid = int(out.stdout)
    assert shim_alive(str(state_dir))  # the starter is gone, the shim is not
    assert os.getsid(shim_pid) != os.getsid(0)  # its own session: not hit by our signals
    assert wait_exit(str(state_dir), 10)["exit_code"] == 0
    assert logged(state_dir) == [("stdout", "done\n")]


def test_on_failure_2_runs_three_times_with_back_off(state_dir: Path) -> None:
    argv = ["/bin/sh", "-c", "echo run; exit 1"]
    start_shim(str(state_dir), config(state_dir, argv, restart="on-failure:2"))
    result = wait_exit(str(state_dir), 10)
    assert result["exit_code"] == 1
    assert result["restart_count"] == 2
    entries = list(read_logs(str(state_dir / "container.log")))
    assert [e.text for e in entries] == ["run\n"] * 3
    gaps = [(b.time_ns - a.time_ns) / 1e9 for a, b in itertools.pairwise(entries)]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2  # 100 ms, then doubled


def test_always_is_not_restarted_after_a_user_stop(state_dir: Path) -> None:
    start_shim(str(state_dir), config(state_dir, ["sleep", "30"], restart="always"))
    request_stop(str(state_dir))
    result = wait_exit(str(state_dir), 10)
    assert result["exit_code"] == 128 + signal.SIGTERM
    assert result["restart_count"] == 0


def test_tty_output_is_recorded_as_stdout(state_dir: Path) -> None:
    argv = ["/bin/sh", "-c", "tty; echo hi >&2; stty size"]
    start_shim(str(state_dir), config(state_dir, argv, tty=True, winsize=(33, 101)))
    assert wait_exit(str(state_dir), 10)["exit_code"] == 0
    lines = logged(state_dir)
    assert {stream for stream, _ in lines} == {"stdout"}
    text = "".join(t for _, t in lines)
    assert text.startswith("/dev/pts/")
    assert "hi\r\n" in text and "33 101\r\n" in text


def test_command_that_cannot_start_is_an_error_with_exit_127(state_dir: Path) -> None:
    with pytest.raises(errors.FailedPrecondition, match="no-such-binary"):
        start_shim(str(state_dir), config(state_dir, ["/no-such-binary"], restart="always"))
    assert wait_exit(str(state_dir), 10)["exit_code"] == 127


def _read_frames(sock_data: bytes) -> list[tuple[int, bytes]]:
    frames, i = [], 0
    while i + 8 <= len(sock_data):
        size = int.from_bytes(sock_data[i + 4 : i + 8], "big")
        frames.append((sock_data[i], sock_data[i + 8 : i + 8 + size]))
        i += 8 + size
    return frames


def test_attach_streams_framed_output_and_feeds_stdin(state_dir: Path) -> None:
    argv = ["/bin/sh", "-c", "read line; echo got $line; echo warn >&2"]
    cfg = config(state_dir, argv, open_stdin=True, stdin_once=True, wait_attach=True)
    info = start_shim(str(state_dir), cfg)
    assert info.init_pid == 0  # waiting for us
    sock = connect_attach(str(state_dir))
    sock.settimeout(10)
    sock.sendall(b"hello\n")
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    frames = _read_frames(data)
    assert sorted(frames) == [(1, b"got hello\n"), (2, b"warn\n")]
    assert wait_exit(str(state_dir), 10)["exit_code"] == 0
    assert ("stdout", "got hello\n") in logged(state_dir)


def test_health_check_goes_unhealthy_then_healthy(state_dir: Path, tmp_path: Path) -> None:
    flag = tmp_path / "ok"
    health = {"test": ["test", "-e", str(flag)], "interval": 0.05, "timeout": 1.0, "retries": 2}
    start_shim(str(state_dir), config(state_dir, ["sleep", "30"], healthcheck=health))
    assert (read_health(str(state_dir)) or {})["Status"] == "starting"
    deadline = time.monotonic() + 10
    while (read_health(str(state_dir)) or {}).get("Status") != "unhealthy":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    flag.touch()
    while (read_health(str(state_dir)) or {}).get("Status") != "healthy":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    doc = read_health(str(state_dir)) or {}
    assert doc["FailingStreak"] == 0
    assert 1 <= len(doc["Log"]) <= 5 and doc["Log"][-1]["ExitCode"] == 0
    request_stop(str(state_dir), signal.SIGKILL)
    assert wait_exit(str(state_dir), 10)["exit_code"] == 137


def test_health_probe_that_hangs_is_timed_out(state_dir: Path) -> None:
    health = {"test": ["sleep", "10"], "interval": 0.05, "timeout": 0.2, "retries": 1}
    start_shim(str(state_dir), config(state_dir, ["sleep", "30"], healthcheck=health))
    deadline = time.monotonic() + 10
    while (read_health(str(state_dir)) or {}).get("Status") != "unhealthy":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    last = (read_health(str(state_dir)) or {})["Log"][-1]
    assert last["ExitCode"] == -1
    assert last["Output"] == "Health check exceeded timeout (200ms)"
    request_stop(str(state_dir), signal.SIGKILL)
    wait_exit(str(state_dir), 10)


def test_adopts_an_init_left_by_a_launcher(state_dir: Path) -> None:
    pid_file = state_dir / "init.pid"
    launcher = f"(sleep 0.3; echo from-init; exit 5) & echo $! > {pid_file}"
    cfg = config(state_dir, ["/bin/sh", "-c", launcher], pid_file=str(pid_file))
    info = start_shim(str(state_dir), cfg)
    result = wait_exit(str(state_dir), 10)
    assert result["exit_code"] == 5
    assert result["pid"] == int(pid_file.read_text())
    assert logged(state_dir) == [("stdout", "from-init\n")]
    assert info.init_pid == result["pid"]  # start_shim reported the adopted init, not the launcher


def test_shim_memory_stays_small(state_dir: Path) -> None:
    info = start_shim(str(state_dir), config(state_dir, ["sleep", "30"]))
    time.sleep(0.1)
    with open(f"/proc/{info.shim_pid}/smaps_rollup") as f:
        pss_kib = next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
    print(f"shim PSS: {pss_kib} KiB")
    (state_dir / "pss.json").write_text(json.dumps({"pss_kib": pss_kib}))
    assert pss_kib < 20 * 1024
    request_stop(str(state_dir), signal.SIGKILL)
    wait_exit(str(state_dir), 10)


def test_resize_reaches_the_container_tty(state_dir: Path) -> None:
    script = "trap 'stty size; exit 0' WINCH; stty size; while :; do sleep 0.05; done"
    cfg = config(state_dir, ["/bin/sh", "-c", script], tty=True, winsize=(24, 80))
    start_shim(str(state_dir), cfg)
    deadline = time.monotonic() + 10
    while not logged(state_dir):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    resize(str(state_dir), 50, 132)
    assert wait_exit(str(state_dir), 10)["exit_code"] == 0
    assert "".join(t for _, t in logged(state_dir)) == "24 80\r\n50 132\r\n"


def test_terminating_the_shim_stops_the_container_without_restart(state_dir: Path) -> None:
    info = start_shim(str(state_dir), config(state_dir, ["sleep", "30"], restart="always"))
    os.kill(info.shim_pid, signal.SIGTERM)
    result = wait_exit(str(state_dir), 10)
    assert result["exit_code"] == 128 + signal.SIGTERM
    assert result["restart_count"] == 0


def test_failing_launcher_is_a_start_error_and_never_restarted(state_dir: Path) -> None:
    pid_file = state_dir / "init.pid"
    cfg = config(
        state_dir,
        ["/bin/sh", "-c", "echo cannot create >&2; exit 2"],
        pid_file=str(pid_file),
        restart="always",
    )
    with pytest.raises(errors.FailedPrecondition, match="launcher exited with 2"):
        start_shim(str(state_dir), cfg)
    result = wait_exit(str(state_dir), 10)
    assert (result["exit_code"], result["restart_count"]) == (2, 0)
    assert logged(state_dir) == [("stderr", "cannot create\n")]


def test_logs_follow_a_running_container_until_it_exits(state_dir: Path) -> None:
    script = "for i in 1 2 3 4 5; do echo line $i; sleep 0.05; done"
    start_shim(str(state_dir), config(state_dir, ["/bin/sh", "-c", script]))
    followed = read_logs(
        str(state_dir / "container.log"),
        follow=True,
        stopped=lambda: not shim_alive(str(state_dir)),
        poll=0.02,
    )
    assert [e.text for e in followed] == [f"line {i}\n" for i in range(1, 6)]
    assert read_exit(str(state_dir)) is not None


def test_stop_escalates_to_sigkill_when_the_signal_is_ignored(state_dir: Path) -> None:
    script = "trap '' TERM; echo ready; while :; do sleep 0.05; done"
    start_shim(str(state_dir), config(state_dir, ["/bin/sh", "-c", script], restart="always"))
    deadline = time.monotonic() + 10
    while not logged(state_dir):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    began = time.monotonic()
    result = stop(str(state_dir), signal.SIGTERM, timeout=0.3)
    assert result["exit_code"] == 137 and result["restart_count"] == 0
    assert time.monotonic() - began >= 0.3
    assert stop(str(state_dir)) == result  # stopping a stopped container changes nothing


def test_attach_to_a_tty_is_a_raw_stream_with_echo(state_dir: Path) -> None:
    argv = ["/bin/sh", "-c", "read line; echo got $line"]
    start_shim(str(state_dir), config(state_dir, argv, tty=True, wait_attach=True))
    sock = connect_attach(str(state_dir))
    sock.settimeout(10)
    sock.sendall(b"hello\n")
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    assert data == b"hello\r\ngot hello\r\n"  # the terminal's echo, then the output; no frames
    assert wait_exit(str(state_dir), 10)["exit_code"] == 0


def test_a_config_the_shim_cannot_use_is_reported_to_the_starter(state_dir: Path) -> None:
    cfg = config(state_dir, ["true"], healthcheck={"test": ["true"], "every": 5})
    with pytest.raises(errors.FailedPrecondition, match="every"):
        start_shim(str(state_dir), cfg)
    cfg = config(state_dir, ["true"], restart="sometimes")
    with pytest.raises(errors.FailedPrecondition, match="restart policy"):
        start_shim(str(state_dir), cfg)
