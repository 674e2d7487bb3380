"""``docker run`` of a command that cannot start, through the daemon: dockerd's error on the
client's stderr, exit 127 (missing) or 126 (not executable), and with ``--rm`` the container
removed. ``docker run`` attaches before it starts the container, so a failed start must also
release that parked attach, and the removal must happen although nothing ran: a hang here
once. Every docker call has a timeout, so a hang fails the test. Runs containers: root."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from compat_daemon import Daemon

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="running containers needs root")

TIMEOUT_S = 30


@pytest.fixture
def busybox(daemon: Daemon, busybox_tar: Path) -> str:
    daemon.docker("import", "--change", 'CMD ["sh"]', str(busybox_tar), "bb:1")
    return "bb:1"


def names(daemon: Daemon) -> list[str]:
    return daemon.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_run_rm_of_a_missing_command_fails_and_removes_the_container(
    daemon: Daemon, busybox: str
) -> None:
    run = daemon.docker("run", "--rm", "--name", "ghost", busybox, "/nonexistent", check=False,
                        timeout=TIMEOUT_S)
    assert run.returncode == 127, run.stderr
    assert "Error response from daemon" in run.stderr and "/nonexistent" in run.stderr
    assert "no such file or directory" in run.stderr
    assert run.stdout == ""  # the runtime's complaint is the start's error, not output
    assert "ghost" not in names(daemon)  # removed before the client returned


def test_start_failures_as_dockerd_reports_them(daemon: Daemon, busybox: str) -> None:
    kept = daemon.docker("run", "--name", "kept", busybox, "/nonexistent", check=False,
                         timeout=TIMEOUT_S)
    assert kept.returncode == 127 and "/nonexistent" in kept.stderr
    state = json.loads(daemon.docker("inspect", "-f", "{{json .State}}", "kept").stdout)
    assert (state["Status"], state["ExitCode"]) == ("created", 127)  # as dockerd keeps it
    denied = daemon.docker("run", "--rm", busybox, "/etc/passwd", check=False, timeout=TIMEOUT_S)
    assert denied.returncode == 126 and "permission denied" in denied.stderr
    unknown = daemon.docker("run", "--rm", busybox, "nosuchcmd", check=False, timeout=TIMEOUT_S)
    assert unknown.returncode == 127 and "executable file not found" in unknown.stderr
    detached = daemon.docker("run", "-d", "--rm", "--name", "gone", busybox, "/nonexistent",
                             check=False, timeout=TIMEOUT_S)
    assert detached.returncode == 127 and "/nonexistent" in detached.stderr
    deadline = time.monotonic() + 10
    while "gone" in names(daemon):
        assert time.monotonic() < deadline, "--rm left the container whose start failed"
        time.sleep(0.1)
    assert names(daemon) == ["kept"]


def test_run_rm_reports_the_exit_code_once_removed(daemon: Daemon, busybox: str) -> None:
    run = daemon.docker("run", "--rm", "--name", "brief", busybox, "sh", "-c", "echo hi; exit 3",
                        check=False, timeout=TIMEOUT_S)
    assert (run.returncode, run.stdout) == (3, "hi\n")
    assert "brief" not in names(daemon)  # the client waited for the removal (condition=removed)
