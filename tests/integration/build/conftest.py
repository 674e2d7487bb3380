"""Fixtures for build tests: the real CLI on a fresh data root with a busybox base image."""

from __future__ import annotations

from pathlib import Path

import pytest
from build_test_helpers import BASE, Builder

from _helpers.images import busybox_rootfs, tar_dir


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = busybox_rootfs(tmp_path_factory.mktemp("rootfs") / "rootfs")
    path = root.parent / "busybox.tar"
    path.write_bytes(tar_dir(root))
    return path


@pytest.fixture
def builder(data_root: Path, busybox_tar: Path) -> Builder:
    b = Builder(data_root)
    b.run("import", str(busybox_tar), BASE)
    return b


@pytest.fixture
def context(tmp_path: Path) -> Path:
    ctx = tmp_path / "context"
    ctx.mkdir()
    return ctx
