"""Bundles built from the host's busybox, and the runtimes under test (builtin, and runc when
installed), both driven through the same OCI runtime command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dockyard.runtime.spec import ContainerSpec, generate

APPLETS = [
    "sh",
    "ls",
    "cat",
    "hostname",
    "id",
    "ps",
    "mount",
    "sleep",
    "true",
    "false",
    "echo",
    "grep",
    "wc",
    "touch",
    "mkdir",
    "tty",
]
CGROUP_PARENT = "dockyard-test"


class Runtime:
    """One OCI runtime's command line, with its state root."""

    def __init__(self, name: str, argv: list[str], root: Path) -> None:
        self.name = name
        self.argv = [*argv, "--root", str(root)]
        self.root = root

    def cmd(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("timeout", 30)
        return subprocess.run([*self.argv, *args], text=True, check=False, **kwargs)

    def run(self, bundle: Path, cid: str) -> subprocess.CompletedProcess[str]:
        return self.cmd("run", "--bundle", str(bundle), cid)

    def create(self, bundle: Path, cid: str, *extra: str) -> tuple[int, str]:
        """``create``, detached: the container's stdio must not be a pipe we wait on."""
        log = self.root.parent / f"create-{cid}.log"
        with open(log, "w+") as err:
            out = subprocess.run(
                [*self.argv, "create", "--bundle", str(bundle), *extra, cid],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, timeout=30,
                check=False,
            )  # fmt: skip
        return out.returncode, log.read_text()

    def state(self, cid: str) -> dict[str, Any]:
        out = self.cmd("state", cid)
        assert out.returncode == 0, out.stderr
        return dict(json.loads(out.stdout))

    def wait_status(self, cid: str, status: str, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.state(cid)["status"] != status:
            assert time.monotonic() < deadline, f"{cid} never became {status}"
            time.sleep(0.02)


def _cleanup_cgroups() -> None:
    base = Path("/sys/fs/cgroup")
    for top in [base, *(p for p in base.iterdir() if p.is_dir())]:
        parent = top / CGROUP_PARENT
        if parent.is_dir():
            for child in sorted(parent.glob("**/"), key=lambda p: len(str(p)), reverse=True):
                child.rmdir()


@pytest.fixture(scope="session")
def _cgroup_parent() -> Iterator[None]:
    yield
    _cleanup_cgroups()


@pytest.fixture(params=["builtin", "runc"])
def runtime(
    request: pytest.FixtureRequest, data_root: Path, _cgroup_parent: None
) -> Iterator[Runtime]:
    root = data_root / "state"
    if request.param == "builtin":
        rt = Runtime("builtin", [sys.executable, "-m", "dockyard.runtime.builtin"], root)
    else:
        runc = shutil.which("runc")
        if runc is None:
            pytest.skip("runc is not installed")
        rt = Runtime("runc", [runc], root)
    yield rt
    # A test that failed half-way must not leave its containers behind.
    if root.is_dir():
        for entry in root.iterdir():
            rt.cmd("delete", "--force", entry.name)


def build_rootfs(rootfs: Path) -> None:
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
    for applet in APPLETS:
        (rootfs / "bin" / applet).symlink_to("busybox")
    (rootfs / "etc").mkdir()
    (rootfs / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"
    )
    (rootfs / "etc" / "group").write_text("root:x:0:\nuser:x:1000:\n")
    for d in ("proc", "sys", "dev", "tmp"):
        (rootfs / d).mkdir()


@pytest.fixture
def make_bundle(data_root: Path) -> Callable[..., Path]:
    """make_bundle(name, "sh", "-c", "...", uid=1000) -> bundle dir with config.json."""

    def make(name: str, *args: str, **fields: Any) -> Path:
        bundle = data_root / name
        build_rootfs(bundle / "rootfs")
        spec = ContainerSpec(
            args=args, hostname="box", cgroups_path=f"/{CGROUP_PARENT}/{data_root.name}-{name}"
        )
        spec = replace(spec, **fields)
        (bundle / "config.json").write_text(json.dumps(generate(spec), indent=1))
        return bundle

    return make


def host_mounts_under(path: Path) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(str(path))]


def alive(pid: int) -> bool:
    """True while *pid* runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


__all__ = ["Runtime", "alive", "build_rootfs", "host_mounts_under", "os"]
