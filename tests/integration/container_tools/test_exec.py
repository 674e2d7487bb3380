"""``dockyard exec`` for real: every namespace and the cgroup of the container, Docker's exit
codes, user/env/workdir, stdin, detach and a real terminal with ``-it``."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _helpers.containers import DOCKYARD, Dockyard

pytestmark = [pytest.mark.root, pytest.mark.skipif(os.geteuid() != 0, reason="needs root")]


def test_exec_joins_namespaces_and_cgroup(dy: Dockyard, box: str) -> None:
    pid = dy.inspect(box)["State"]["Pid"]
    out = dy.out(
        "exec",
        box,
        "sh",
        "-c",
        "hostname; ps -o pid,comm; for f in /proc/self/ns/*; do readlink $f; done",
    )
    lines = out.splitlines()
    assert lines[0] == dy.inspect(box)["Id"][:12]
    assert any(line.split() == ["1", "sleep"] for line in lines)  # the container's PID 1
    own = {os.readlink(p) for p in Path(f"/proc/{pid}/ns").iterdir() if p.name != "user"
           and not p.name.endswith("_for_children")}  # fmt: skip
    assert own <= set(lines[1:])  # exactly the container's namespaces
    marker = dy.run("exec", "-d", box, "sleep", "31").returncode
    assert marker == 0
    time.sleep(0.3)
    procs = Path("/sys/fs/cgroup/pids/dockyard") / dy.inspect(box)["Id"] / "cgroup.procs"
    pids = procs.read_text().split()
    assert any(Path(f"/proc/{p}/cmdline").read_bytes().startswith(b"sleep\x0031") for p in pids)


def test_exit_codes_user_env_workdir_stdin(dy: Dockyard, box: str) -> None:
    assert dy.run("exec", box, "sh", "-c", "exit 7", check=False).returncode == 7
    missing = dy.run("exec", box, "no-such-command", check=False)
    assert missing.returncode == 127 and b"executable file not found" in missing.stderr
    out = dy.out("exec", "-u", "appuser", "-w", "/tmp", "-e", "GREETING=hi", box,
                 "sh", "-c", "id -u; pwd; echo $GREETING")  # fmt: skip
    assert out == "1000\n/tmp\nhi\n"
    assert dy.out("exec", "-i", box, "cat", input=b"from stdin\n") == "from stdin\n"
    assert dy.out("exec", box, "cat", input=b"ignored") == ""  # no -i: no stdin
    stopped = dy.run("exec", "nope", "true", check=False)
    assert stopped.returncode != 0 and b"No such container" in stopped.stderr


def test_exec_it_is_a_terminal_with_its_size(dy: Dockyard, box: str) -> None:
    import fcntl
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.executable, [*DOCKYARD, "--root", str(dy.root), "exec", "-it", box, "sh",
                                  "-c", "tty; sleep 0.5; stty size; exit 5"])  # fmt: skip
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
    out = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
    _, status = os.waitpid(pid, 0)
    assert b"/dev/pts/" in out and b"33 101" in out, out
    assert os.waitstatus_to_exitcode(status) == 5


def test_exec_in_a_stopped_container_is_refused(dy: Dockyard) -> None:
    dy.container("--network", "none", "--name", "done", "busybox", "true")
    proc = subprocess.run([*DOCKYARD, "--root", str(dy.root), "exec", "done", "true"],
                          capture_output=True, timeout=60)  # fmt: skip
    assert proc.returncode != 0 and b"is not running" in proc.stderr
