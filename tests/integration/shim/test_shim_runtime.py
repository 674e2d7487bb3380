"""The shim around a real OCI runtime (the builtin one): create + start, adopted init, tty.

The runtime's ``create`` is the launcher: it leaves the init waiting and exits, the shim
(a subreaper) adopts the init, runs ``start``, and records what the container did. With a
tty, the runtime hands the pty master to the shim over ``--console-socket``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.runtime.logs import read_logs
from dockyard.runtime.shim.client import connect_attach, start_shim, stop, wait_exit
from dockyard.runtime.shim.config import LogConfig, ShimConfig

pytestmark = pytest.mark.root

spec_module = pytest.importorskip("dockyard.runtime.spec")
pytest.importorskip("dockyard.runtime.builtin")


@pytest.fixture
def env(data_root: Path) -> Iterator[tuple[Path, list[str]]]:
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox is not installed")
    rootfs = data_root / "bundle" / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy(busybox, rootfs / "bin" / "busybox")
    for applet in ("sh", "echo", "sleep", "cat", "tty", "stty", "hostname"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    for d in ("proc", "sys", "dev", "tmp", "etc"):
        (rootfs / d).mkdir()
    runtime = [sys.executable, "-m", "dockyard.runtime.builtin", "--root", str(data_root / "rt")]
    yield data_root, runtime
    subprocess.run([*runtime, "delete", "--force", "c1"], capture_output=True, timeout=30)


def shim_config(
    data_root: Path, runtime: list[str], args: tuple[str, ...], **kw: object
) -> ShimConfig:
    bundle = data_root / "bundle"
    tty = bool(kw.get("tty"))
    spec = spec_module.ContainerSpec(args=args, hostname="box", terminal=tty)
    (bundle / "config.json").write_text(json.dumps(spec_module.generate(spec)))
    console = ["--console-socket", "console.sock"] if tty else []
    return ShimConfig(
        command=[
            *runtime,
            "create",
            "--bundle",
            str(bundle),
            "--pid-file",
            "init.pid",
            *console,
            "c1",
        ],
        start_command=[*runtime, "start", "c1"],
        delete_command=[*runtime, "delete", "--force", "c1"],
        pid_file=str(data_root / "state" / "init.pid"),
        console_socket="console.sock" if tty else None,
        log=LogConfig(str(data_root / "state" / "container.log")),
        **kw,  # type: ignore[arg-type]
    )


def logged(data_root: Path) -> list[tuple[str, str]]:
    return [(e.stream, e.text) for e in read_logs(str(data_root / "state" / "container.log"))]


def test_container_output_and_exit_code_through_the_runtime(env: tuple[Path, list[str]]) -> None:
    data_root, runtime = env
    args = ("sh", "-c", "echo hello from $(hostname); echo oops >&2; exit 7")
    info = start_shim(str(data_root / "state"), shim_config(data_root, runtime, args))
    result = wait_exit(str(data_root / "state"), 30)
    assert result["exit_code"] == 7
    assert result["pid"] == info.init_pid  # the adopted init, not the runtime's create
    assert sorted(logged(data_root)) == [("stderr", "oops\n"), ("stdout", "hello from box\n")]


def test_tty_container_gets_its_pty_via_the_console_socket(env: tuple[Path, list[str]]) -> None:
    data_root, runtime = env
    args = ("sh", "-c", "tty; stty size; read x; echo got $x")
    cfg = shim_config(data_root, runtime, args, tty=True, winsize=(30, 90))
    start_shim(str(data_root / "state"), cfg)
    sock = connect_attach(str(data_root / "state"))
    sock.settimeout(10)
    sock.sendall(b"hey\n")
    while sock.recv(4096):  # until the shim hangs up: the container exited
        pass
    sock.close()
    assert wait_exit(str(data_root / "state"), 30)["exit_code"] == 0
    text = "".join(t for s, t in logged(data_root) if s == "stdout")
    # (the tty may echo "hey" before the shell runs: input was sent before it started)
    assert "\n/dev/pts/" in "\n" + text and "30 90\r\n" in text and "got hey\r\n" in text


def test_stop_through_the_shim_ends_a_runtime_container(env: tuple[Path, list[str]]) -> None:
    data_root, runtime = env
    args = ("sh", "-c", "trap 'exit 0' TERM; echo up; while :; do sleep 0.05; done")
    start_shim(str(data_root / "state"), shim_config(data_root, runtime, args, restart="always"))
    deadline = time.monotonic() + 10
    while not logged(data_root):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    result = stop(str(data_root / "state"), timeout=2)
    assert result["exit_code"] == 0  # its TERM trap ran: it got the signal, as pid 1
    assert result["restart_count"] == 0  # and "always" did not bring it back


def test_restart_policy_recreates_the_runtime_container(env: tuple[Path, list[str]]) -> None:
    data_root, runtime = env
    args = ("sh", "-c", "echo run; exit 3")
    cfg = shim_config(data_root, runtime, args, restart="on-failure:1")
    start_shim(str(data_root / "state"), cfg)
    result = wait_exit(str(data_root / "state"), 30)
    assert (result["exit_code"], result["restart_count"]) == (3, 1)
    assert logged(data_root) == [("stdout", "run\n")] * 2
    listed = subprocess.run([*runtime, "state", "c1"], capture_output=True, text=True)
    assert listed.returncode != 0  # deleted from the runtime after the last exit
