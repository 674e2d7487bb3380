"""create / start / state / kill / delete, and the console socket; builtin and runc alike."""

from __future__ import annotations

import array
import os
import select
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from oci_runtime_helpers import Runtime, alive, host_mounts_under

pytestmark = pytest.mark.root


def test_create_start_kill_delete(runtime: Runtime, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle("life", "sleep", "100")
    pid_file = bundle / "pid"
    rc, err = runtime.create(bundle, "life", "--pid-file", str(pid_file))
    assert rc == 0, err
    state = runtime.state("life")
    assert state["status"] == "created"
    assert state["bundle"] == str(bundle)
    pid = int(pid_file.read_text())
    assert state["pid"] == pid and alive(pid)

    assert runtime.cmd("start", "life").returncode == 0
    assert runtime.state("life")["status"] == "running"
    assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == b"sleep"
    again = runtime.cmd("start", "life")
    assert again.returncode != 0

    refused = runtime.cmd("delete", "life")
    assert refused.returncode != 0 and alive(pid)

    assert runtime.cmd("kill", "life", "KILL").returncode == 0
    runtime.wait_status("life", "stopped")
    assert not alive(pid)

    assert runtime.cmd("delete", "life").returncode == 0
    assert runtime.cmd("state", "life").returncode != 0
    assert not (runtime.root / "life").exists()
    assert host_mounts_under(bundle) == []


def test_force_delete_of_created_container(
    runtime: Runtime, make_bundle: Callable[..., Path]
) -> None:
    bundle = make_bundle("forced", "sleep", "100")
    rc, err = runtime.create(bundle, "forced")
    assert rc == 0, err
    pid = runtime.state("forced")["pid"]
    assert runtime.cmd("delete", "--force", "forced").returncode == 0
    assert not alive(pid)
    assert runtime.cmd("state", "forced").returncode != 0


def test_unknown_container_is_an_error(runtime: Runtime) -> None:
    for args in (("state", "nope"), ("start", "nope"), ("kill", "nope"), ("delete", "nope")):
        assert runtime.cmd(*args).returncode != 0, args


def test_console_socket_gets_the_pty_master(
    runtime: Runtime, make_bundle: Callable[..., Path], data_root: Path
) -> None:
    bundle = make_bundle("tty", "sh", "-c", "tty; echo hello-from-tty", terminal=True)
    sock_path = data_root / "console.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock_path))
    server.listen(1)
    try:
        create = subprocess.Popen(
            [*runtime.argv, "create", "--bundle", str(bundle), "--console-socket",
             str(sock_path), "tty"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        server.settimeout(10)
        conn, _ = server.accept()
        fds = array.array("i")
        _msg, ancdata, _flags, _addr = conn.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: fds.itemsize])
        conn.close()
        assert create.wait(timeout=10) == 0
        assert len(fds) == 1
        master = fds[0]
        assert runtime.cmd("start", "tty").returncode == 0
        output = b""
        while b"hello-from-tty" not in output:
            ready, _, _ = select.select([master], [], [], 5)
            assert ready, f"no output from the pty: {output!r}"
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the slave side closed
                break
            if not chunk:
                break
            output += chunk
        os.close(master)
        text = output.decode()
        assert "/dev/pts/0" in text
        assert "hello-from-tty" in text
        runtime.wait_status("tty", "stopped")
        assert runtime.cmd("delete", "tty").returncode == 0
    finally:
        server.close()


def test_exec_joins_a_running_container(runtime: Runtime, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle("ex", "sleep", "100")
    rc, err = runtime.create(bundle, "ex")
    assert rc == 0, err
    assert runtime.cmd("start", "ex").returncode == 0
    out = runtime.cmd("exec", "ex", "sh", "-c", "echo $$; hostname; cat /proc/1/cmdline; exit 4")
    assert out.returncode == 4, out.stderr
    pid, hostname, init_cmd = out.stdout.split("\n", 2)
    assert int(pid) > 1
    assert hostname == "box"
    assert init_cmd.split("\0")[0] == "sleep"
    user = runtime.cmd("exec", "--user", "1000:1000", "ex", "id", "-u")
    assert user.returncode == 0, user.stderr
    assert user.stdout.strip() == "1000"
    missing = runtime.cmd("exec", "ex", "no-such-command")
    assert missing.returncode != 0
    assert runtime.cmd("delete", "--force", "ex").returncode == 0
    assert runtime.cmd("exec", "ex", "true").returncode != 0
