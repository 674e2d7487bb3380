"""Container tools through the daemon with the real docker CLI: ``exec`` (plain, stdin, tty,
detached, exit codes), compared with what ``dockyard`` does for the same container. Root."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from compat_daemon import Daemon

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="running containers needs root")


@pytest.fixture
def web(daemon: Daemon, busybox_tar: Path) -> str:
    daemon.docker("import", "--change", 'CMD ["sh"]', str(busybox_tar), "bb:1")
    daemon.docker("run", "-d", "--name", "web", "bb:1", "sleep", "60")
    return "web"


def test_exec_output_exit_codes_stdin_and_detach(daemon: Daemon, web: str) -> None:
    out = daemon.docker(
        "exec",
        "-e",
        "X=1",
        "-w",
        "/tmp",
        web,
        "sh",
        "-c",
        "echo out $X $(pwd); echo err >&2; exit 3",
        check=False,
    )
    assert (out.returncode, out.stdout, out.stderr) == (3, "out 1 /tmp\n", "err\n"), out.stderr
    ours = daemon.dockyard(
        "exec",
        "-e",
        "X=1",
        "-w",
        "/tmp",
        web,
        "sh",
        "-c",
        "echo out $X $(pwd); echo err >&2; exit 3",
        check=False,
    )
    assert (ours.returncode, ours.stdout, ours.stderr) == (3, out.stdout, out.stderr)
    missing = daemon.docker("exec", web, "no-such-cmd", check=False)
    assert missing.returncode == 127 and "executable file not found" in missing.stderr
    piped = subprocess.run(
        ["docker", "exec", "-i", web, "cat"],
        input="fed in\n",
        env=daemon.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert piped.stdout == "fed in\n"
    daemon.docker("exec", "-d", web, "sh", "-c", "echo detached > /tmp/flag")
    seen = daemon.docker("exec", web, "sh", "-c", "sleep 0.3; cat /tmp/flag").stdout
    assert seen == "detached\n"
    ps = daemon.docker("exec", web, "ps", "-o", "pid,comm").stdout
    assert "1 sleep" in ps.replace("    ", " ").replace("  ", " ")  # same PID namespace


def test_exec_tty_is_a_terminal(daemon: Daemon, web: str) -> None:
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:
        os.environ.clear()
        os.environ.update(daemon.env)
        os.execvp("docker", ["docker", "exec", "-it", web, "sh", "-c", "tty; exit 4"])
    out = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
    _, status = os.waitpid(pid, 0)
    assert b"/dev/pts/" in out
    assert os.waitstatus_to_exitcode(status) == 4


def test_top_diff_pause_rename(daemon: Daemon, web: str) -> None:
    top = daemon.docker("top", web).stdout.splitlines()
    assert top[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    host_pid = json.loads(daemon.docker("inspect", web).stdout)[0]["State"]["Pid"]
    assert [line.split()[1] for line in top[1:]] == [str(host_pid)]  # the host's PID
    assert daemon.docker("top", web, "-o", "pid,comm").stdout.split() == [
        "PID",
        "COMMAND",
        str(host_pid),
        "sleep",
    ]
    daemon.docker("exec", web, "sh", "-c", "echo new > /added; rm /bin/vi; echo x >> /etc/passwd")
    diff = daemon.docker("diff", web).stdout.splitlines()
    assert {"A /added", "D /bin/vi", "C /etc/passwd", "C /etc"} <= set(diff)
    assert daemon.dockyard("diff", web).stdout.splitlines() == diff
    daemon.docker("pause", web)
    assert "(Paused)" in daemon.docker("ps", "--format", "{{.Status}}").stdout
    state = json.loads(daemon.docker("inspect", web).stdout)[0]["State"]
    assert (state["Status"], state["Paused"]) == ("paused", True)
    daemon.docker("unpause", web)
    assert daemon.docker("exec", web, "echo", "thawed").stdout == "thawed\n"
    daemon.docker("rename", web, "renamed")
    assert daemon.docker("ps", "--format", "{{.Names}}").stdout.split() == ["renamed"]
