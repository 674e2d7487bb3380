"""Containers for real: the CLI against a fresh data root with a busybox image, run by the
builtin runtime or runc. Every container a test makes is removed with ``rm -f`` after it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from _helpers.images import busybox_rootfs, tar_dir

DOCKYARD = [sys.executable, "-m", "dockyard"]
CGROUP_BASE = Path("/sys/fs/cgroup")


class Dockyard:
    """Runs the real CLI against one data root, as a user would."""

    def __init__(self, root: Path, runtime: str = "builtin") -> None:
        self.root = root
        self.runtime = runtime

    def run(self, *args: str, input: bytes | None = None, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess[bytes]:  # fmt: skip
        proc = subprocess.run([*DOCKYARD, "--root", str(self.root), *args], input=input,
                              capture_output=True, timeout=timeout)  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(
                f"dockyard {' '.join(args)} exited {proc.returncode}: {proc.stderr.decode()}"
            )
        return proc

    def out(self, *args: str, input: bytes | None = None) -> str:
        return self.run(*args, input=input).stdout.decode()

    def container(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """``run`` with this fixture's runtime: ``container("-d", "busybox", "sleep", "9")``."""
        return self.run("run", "--runtime", self.runtime, *args, check=False)

    def inspect(self, name: str) -> dict:
        return json.loads(self.out("inspect", name))[0]

    def wait_for(self, name: str, predicate: Callable[[dict], bool], timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            info = self.inspect(name)
            if predicate(info) or time.monotonic() > deadline:
                return info
            time.sleep(0.1)


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = busybox_rootfs(tmp_path_factory.mktemp("rootfs") / "rootfs")
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nappuser:x:1000:1000::/home/app:/bin/sh\n"
    )
    (root / "etc" / "group").write_text("root:x:0:\nappgroup:x:1000:\nextra:x:2000:appuser\n")
    path = root.parent / "busybox.tar"
    path.write_bytes(tar_dir(root))
    return path


@pytest.fixture(scope="session")
def _cgroup_parent() -> Iterator[None]:
    """Remove the ``dockyard`` cgroup parents these tests created (empty by then)."""
    existed = {p for p in CGROUP_BASE.glob("*/dockyard")}
    yield
    for parent in CGROUP_BASE.glob("*/dockyard"):
        if parent not in existed:
            try:
                parent.rmdir()
            except OSError:
                pass


def _make(data_root: Path, busybox_tar: Path, runtime: str) -> Iterator[Dockyard]:
    d = Dockyard(data_root, runtime)
    d.run("import", str(busybox_tar), "busybox")
    yield d
    ids = d.out("ps", "-aq", "--no-trunc").split()
    if ids:
        d.run("rm", "-f", *ids, check=False)


@pytest.fixture
def dockyard(data_root: Path, busybox_tar: Path, _cgroup_parent: None) -> Iterator[Dockyard]:
    """The CLI with the builtin runtime and a ``busybox`` image."""
    yield from _make(data_root, busybox_tar, "builtin")


@pytest.fixture(params=["builtin", "runc"])
def any_runtime(
    request: pytest.FixtureRequest, data_root: Path, busybox_tar: Path, _cgroup_parent: None
) -> Iterator[Dockyard]:
    """The CLI once per runtime (runc skipped when it is not installed)."""
    if request.param != "builtin" and shutil.which(request.param) is None:
        pytest.skip(f"{request.param} is not installed")
    yield from _make(data_root, busybox_tar, request.param)


def leftovers(d: Dockyard, cid: str) -> list[str]:
    """What a removed container left on the host: mounts, cgroups, processes, state."""
    found = []
    with open("/proc/self/mountinfo") as f:
        found += [line.split()[4] for line in f if cid in line]
    found += [str(p) for p in CGROUP_BASE.glob(f"*/dockyard/{cid}")]
    found += [str(p) for p in (d.root / "containers").glob(f"{cid}*")]
    found += [str(p) for p in (d.root / "run").glob(f"*/{cid}")]
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if cid.encode() in (proc / "cmdline").read_bytes():
                    found.append(f"process {proc.name}")
            except OSError:
                continue
    return found
