from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from _helpers.images import busybox_rootfs, tar_dir

DOCKYARD = [sys.executable, "-m", "dockyard"]


class Dockyard:
    """Runs the real CLI against one data root, as a user would."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.run([*DOCKYARD, "--root", str(self.root), *args], input=input,
                              capture_output=True, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"dockyard {' '.join(args)} exited {proc.returncode}: {proc.stderr.decode()}")
        return proc

    def out(self, *args: str, input: bytes | None = None) -> str:
        return self.run(*args, input=input).stdout.decode()

    def inspect(self, name: str) -> dict:
        return json.loads(self.out("inspect", name))[0]


@pytest.fixture
def dockyard(data_root: Path) -> Dockyard:
    return Dockyard(data_root)


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = busybox_rootfs(tmp_path_factory.mktemp("rootfs") / "rootfs")
    path = root.parent / "busybox.tar"
    path.write_bytes(tar_dir(root))
    return path


@pytest.fixture
def make_file(tmp_path: Path) -> Callable[[str, bytes], Path]:
    def make(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return make
